// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// An agent's place on SLIM: its app, one inbox for everything that arrives,
// the allow-list of peers its tools may address, and a port per session
// (opened on demand for peers, attached for groups and incoming sessions).
// Framework adapters build their tools, nodes and servers on a hub.

import type { SlimApp } from "../app.js";
import { SlimError } from "../errors.js";
import type { Name } from "../names/name.js";
import type { RequestHandler } from "../patterns/mux.js";
import type { GroupSession } from "../session/group/session.js";
import type { P2PSession } from "../session/p2p.js";
import type { ReliableOptions } from "../session/types.js";
import { parkUntilAborted, withDeadline, type AbortOptions } from "../util/abort.js";
import { AllowList, type AllowInput } from "./allow-list.js";
import { Inbox, type InboxOptions } from "./inbox.js";
import { SessionPort } from "./port.js";

/** Acks and retransmission for the sessions a hub opens (token streams need ordered, lossless delivery). */
export const DEFAULT_AGENT_RELIABILITY: ReliableOptions = { intervalMs: 1_000, maxRetries: 10 };

const DEFAULT_PORT_WAIT_MS = 30_000;

export interface AgentHubOptions {
  /** Peers tools may address; default none. Groups are reachable once attached. */
  allow?: AllowInput;
  inbox?: Inbox | InboxOptions;
  reliable?: ReliableOptions;
  /** Metadata sent with the sessions the hub opens. */
  metadata?: Record<string, string>;
}

export class AgentHub implements AsyncDisposable {
  readonly inbox: Inbox;
  readonly allow: AllowList;
  private readonly byLabel = new Map<string, SessionPort>();
  private readonly all = new Set<SessionPort>();
  private readonly opening = new Map<string, Promise<SessionPort>>();
  private readonly portWaiters = new Map<string, Array<(p: SessionPort) => void>>();
  private handler: ((port: SessionPort) => RequestHandler) | undefined;
  private closed = false;

  constructor(
    readonly app: SlimApp,
    private readonly options: AgentHubOptions = {},
  ) {
    this.inbox = options.inbox instanceof Inbox ? options.inbox : new Inbox(options.inbox ?? {});
    this.allow = new AllowList(options.allow ?? []);
  }

  /** Our full name, as peers see it. */
  get self(): string {
    return this.app.name.toString();
  }

  /**
   * The port to `name` (checked against the allow-list): an open session with
   * that service if there is one (ours or theirs), else a new reliable p2p session.
   */
  async peer(name: string | Name, options: AbortOptions = {}): Promise<SessionPort> {
    if (this.closed) throw new SlimError("CLOSED", "agent hub closed");
    const target = this.allow.check(name.toString());
    const label = target.withoutId().toString();
    const open = this.byLabel.get(label);
    if (open !== undefined && open.kind === "p2p") return open;
    const pending = this.opening.get(label);
    if (pending !== undefined) return pending;
    const opened = this.app
      .createSession(
        { type: "p2p", peer: target },
        {
          reliable: this.options.reliable ?? DEFAULT_AGENT_RELIABILITY,
          ...(this.options.metadata === undefined ? {} : { metadata: this.options.metadata }),
          ...(options.signal === undefined ? {} : { signal: options.signal }),
          ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        },
      )
      .then((s) => this.attach(s))
      .finally(() => this.opening.delete(label));
    this.opening.set(label, opened);
    return opened;
  }

  /**
   * Take over reading `session` (one the app created or accepted): its plain
   * messages go to the inbox, requests to the handler set with {@link handle}.
   */
  attach(session: P2PSession | GroupSession, options: { voting?: boolean } = {}): SessionPort {
    if (this.closed) throw new SlimError("CLOSED", "agent hub closed");
    const port = new SessionPort(session, { self: this.self, inbox: this.inbox, ...(options.voting === undefined ? {} : { voting: options.voting }) });
    this.byLabel.set(port.label, port);
    this.all.add(port);
    if (this.handler !== undefined) port.mux.serve(this.handler(port));
    for (const wake of this.portWaiters.get(port.label) ?? []) wake(port);
    this.portWaiters.delete(port.label);
    void port.done.then(() => {
      this.all.delete(port);
      if (this.byLabel.get(port.label) === port) this.byLabel.delete(port.label);
    });
    return port;
  }

  /** Create a group on `channel` with us as moderator, invite `invite`, and attach it. */
  async createGroup(channel: string, invite: readonly string[] = [], options: { reliable?: ReliableOptions } & AbortOptions = {}): Promise<SessionPort> {
    const g = await this.app.createSession(
      { type: "group", channel },
      {
        reliable: options.reliable ?? this.options.reliable ?? DEFAULT_AGENT_RELIABILITY,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      },
    );
    const port = this.attach(g);
    for (const name of invite) await g.invite(name);
    return port;
  }

  /**
   * The port for `label` (a peer's `org/ns/service` or a group channel) once one
   * is attached, e.g. when that peer opens a session with us. No allow-list check:
   * this only waits for sessions that exist.
   */
  port(label: string, options: AbortOptions = {}): Promise<SessionPort> {
    const open = this.byLabel.get(label);
    if (open !== undefined) return Promise.resolve(open);
    if (this.closed) return Promise.reject(new SlimError("CLOSED", "agent hub closed"));
    return withDeadline(`session with ${label}`, options, DEFAULT_PORT_WAIT_MS, (signal) => {
      return new Promise<SessionPort>((resolve) => {
        const list = this.portWaiters.get(label) ?? [];
        this.portWaiters.set(label, list);
        parkUntilAborted(list, resolve, signal);
      });
    });
  }

  /** The attached group session on `channel` (`org/ns/room`). */
  group(channel: string): SessionPort | undefined {
    const p = this.byLabel.get(channel);
    return p?.kind === "group" ? p : undefined;
  }

  /** Channels of the attached groups. */
  groups(): string[] {
    return [...this.all].filter((p) => p.kind === "group").map((p) => p.label);
  }

  /** Every attached port. */
  ports(): SessionPort[] {
    return [...this.all];
  }

  /** Answer requests on every port, present and future, with a handler made per port (see SessionMux.serve). */
  handle(handler: (port: SessionPort) => RequestHandler): void {
    this.handler = handler;
    for (const p of this.all) p.mux.serve(handler(p));
  }

  /**
   * With persistence: attach the sessions the app had open when it last stopped (see
   * `SlimApp.restoreSessions`). Their ports come back under the same labels.
   */
  async restore(options: AbortOptions = {}): Promise<SessionPort[]> {
    if (this.closed) throw new SlimError("CLOSED", "agent hub closed");
    return (await this.app.restoreSessions(options)).map((s) => this.attach(s));
  }

  /**
   * Attach every session other apps open with ours until the app closes or
   * `signal` aborts. Only one accept loop may run per app.
   */
  async accept(options: { signal?: AbortSignal; onSession?: (port: SessionPort) => void } = {}): Promise<void> {
    const it = this.app.listen()[Symbol.asyncIterator]();
    const stop = () => void it.return?.();
    options.signal?.addEventListener("abort", stop, { once: true });
    try {
      for (;;) {
        const r = await it.next();
        if (r.done === true || this.closed) break;
        const port = this.attach(r.value);
        options.onSession?.(port);
      }
    } finally {
      options.signal?.removeEventListener("abort", stop);
    }
  }

  /**
   * Close every port (and its session) and the inbox; the app stays open. Idempotent. With
   * `keepSessions` the sessions are left to the app: with persistence, `app.close()` then keeps
   * them for its next start (where {@link restore} attaches them again).
   */
  async close(options: { keepSessions?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (options.keepSessions !== true) await Promise.all([...this.all].map((p) => p.close().catch(() => undefined)));
    this.inbox.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
