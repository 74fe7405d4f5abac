// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// What interop tests repeat: a node of either kind as an async-disposable URL,
// accepting one group invitation, and routes for official apps.

import type { GroupSession, SlimApp } from "@slim-ts/core";
import { startNode } from "@slim-ts/node-embedded";
import { startOfficialNode, type OfficialApp } from "./official/index.js";

export interface TestNode extends AsyncDisposable {
  url: string;
}

/** Run the same test through our node and through an official node. */
export const bothNodes: Record<string, () => Promise<TestNode>> = {
  "our node": async () => {
    const n = await startNode({ listen: "127.0.0.1:0" });
    return { url: n.url, [Symbol.asyncDispose]: () => n.close() };
  },
  "an official node": async () => {
    const n = await startOfficialNode();
    return { url: n.url, [Symbol.asyncDispose]: () => n.close() };
  },
};

/** The next group invitation `app` accepts. */
export async function acceptGroup(app: SlimApp): Promise<GroupSession> {
  const r = await app.listen({ kind: "group" })[Symbol.asyncIterator]().next();
  if (r.done === true) throw new Error("no group session");
  return r.value;
}

/** setRoute on official apps: `[app, towards]` pairs, in order. */
export async function routes(pairs: Array<[OfficialApp, string]>): Promise<void> {
  for (const [a, b] of pairs) await a.route(b);
}
