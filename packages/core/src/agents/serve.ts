// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Serving an agent run (see remote.ts) on an app, a hub or a single session:
// what serveGraph and serveAgent share.

import { SlimApp } from "../app.js";
import { SlimError } from "../errors.js";
import type { GroupSession } from "../session/group/session.js";
import type { P2PSession } from "../session/p2p.js";
import { AgentHub } from "./hub.js";
import { Inbox } from "./inbox.js";
import { SessionPort } from "./port.js";
import { agentRequestHandler, type AgentRun } from "./remote.js";

export interface AgentServer extends AsyncDisposable {
  /** The hub serving requests (its inbox gets the plain messages sent to the server); none for a single session. */
  readonly hub: AgentHub | undefined;
  /** Stop serving; closes what the server created (the hub it made for an app, the port of a session). */
  close(): Promise<void>;
}

export type ServeTarget = SlimApp | AgentHub | P2PSession | GroupSession;

/**
 * Answer agent requests with `run`: on every session other apps open with an
 * app (an accept loop runs until close(); only one may run per app), on every
 * session of a hub, or on one session.
 */
export function serveAgentRun(target: ServeTarget, run: AgentRun): AgentServer {
  if (target instanceof SlimApp || target instanceof AgentHub) {
    const own = target instanceof SlimApp;
    const hub = target instanceof SlimApp ? new AgentHub(target) : target;
    hub.handle((port) => agentRequestHandler(port, run));
    const ctl = new AbortController();
    const accepting = own ? hub.accept({ signal: ctl.signal }).catch(() => undefined) : Promise.resolve();
    const close = async () => {
      ctl.abort();
      await accepting;
      if (own) await hub.close();
    };
    return { hub, close, [Symbol.asyncDispose]: close };
  }
  if (typeof target !== "object" || target === null || !("publish" in target)) throw new SlimError("INVALID_ARGUMENT", "serve an app, an agent hub or a session");
  const port = new SessionPort(target, { self: "", inbox: new Inbox(), voting: false });
  port.mux.serve(agentRequestHandler(port, run));
  const close = () => port.close();
  return { hub: undefined, close, [Symbol.asyncDispose]: close };
}
