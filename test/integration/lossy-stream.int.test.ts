// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// An LLM-style token stream over a reliable session through a node that drops
// 10 % of the publishes it routes: every token arrives, once, in order, and the
// stream ends cleanly (the adapters stream remote agents' tokens this way).

import { createApp, SessionMux, type P2PSession } from "@slim-ts/core";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";
import { DEFAULT_SECRET } from "../helpers/official/index.js";

describe("token streams over a lossy node", () => {
  it("2 000 tokens through 10 % loss arrive complete and in order (MLS on)", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0", faults: { dropRatio: 0.1, seed: 42 } });
    await using writer = await createApp({ name: "org/ns/writer", secret: DEFAULT_SECRET, connect: node.url });
    await using reader = await createApp({ name: "org/ns/reader", secret: DEFAULT_SECRET, connect: node.url });
    const incoming = reader.listen({ kind: "p2p" })[Symbol.asyncIterator]().next();
    const tx = await writer.createSession({ type: "p2p", peer: "org/ns/reader" }, { reliable: { intervalMs: 250, maxRetries: 20 }, mls: true });
    const rx = (await incoming).value as P2PSession;
    const tokens = Array.from({ length: 2_000 }, (_, i) => `tok${i} `);
    const got = (async () => {
      for await (const s of new SessionMux(rx).incoming()) {
        const out: string[] = [];
        for await (const t of s) out.push(t.text());
        return out;
      }
      return [];
    })();
    await new SessionMux(tx).sendStream(tokens);
    expect(await got).toEqual(tokens);
    expect(node.status().dropped.fault_injected ?? 0).toBeGreaterThan(100);
  }, 60_000);
});
