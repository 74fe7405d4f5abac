// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// SessionMux streams with `coalesce`: a buffered answer goes out in a few
// frames instead of one message per token, every token still reaches the
// reader on its own, in order, through loss and MLS; a source that waits
// between tokens has each one delivered before it produces the next.

import { createApp, SessionMux, type P2PSession } from "@slim-ts/core";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";
import { DEFAULT_SECRET } from "../helpers/official/index.js";

async function pair(url: string, mls: boolean) {
  const writer = await createApp({ name: "org/co/writer", secret: DEFAULT_SECRET, connect: url });
  const reader = await createApp({ name: "org/co/reader", secret: DEFAULT_SECRET, connect: url });
  const incoming = reader.listen({ kind: "p2p" })[Symbol.asyncIterator]().next();
  const tx = (await writer.createSession({ type: "p2p", peer: "org/co/reader" }, { reliable: { intervalMs: 250, maxRetries: 20 }, mls })) as P2PSession;
  const rx = (await incoming).value as P2PSession;
  return { tx: new SessionMux(tx), rx: new SessionMux(rx), close: async () => (await writer.close(), await reader.close()) };
}

function readAll(mux: SessionMux): Promise<string[]> {
  return (async () => {
    for await (const s of mux.incoming()) {
      const out: string[] = [];
      for await (const t of s) out.push(t.text());
      return out;
    }
    return [];
  })();
}

describe("coalesced token streams", () => {
  it("2 000 buffered tokens through 10 % loss and MLS: every token, in order, in far fewer messages", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0", faults: { dropRatio: 0.1, seed: 7 } });
    const p = await pair(node.url, true);
    try {
      const tokens = Array.from({ length: 2_000 }, (_, i) => (i % 97 === 0 ? "" : `tok${i} `));
      const got = readAll(p.rx);
      const before = node.status().routed;
      await p.tx.sendStream(tokens, { coalesce: true });
      expect(await got).toEqual(tokens);
      // frames, acks and resends of 10 % loss: well under the 4 000 that one message per token and its ack take
      expect(node.status().routed - before).toBeLessThan(400);
      expect(node.status().dropped.fault_injected ?? 0).toBeGreaterThan(0);
    } finally {
      await p.close();
    }
  }, 60_000);

  it("a source that waits between tokens has each delivered before it makes the next", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    const p = await pair(node.url, false);
    try {
      const seen: string[] = [];
      let wake: (() => void) | undefined;
      const reading = (async () => {
        for await (const s of p.rx.incoming()) {
          for await (const t of s) {
            seen.push(t.text());
            wake?.();
          }
          return;
        }
      })();
      async function* model() {
        for (let i = 0; i < 5; i++) {
          yield `t${i}`;
          // the next token only once this one reached the reader (a batcher holding it back would stall here)
          await new Promise<void>((resolve) => {
            wake = resolve;
            if (seen.length > i) resolve();
          });
        }
      }
      await p.tx.sendStream(model(), { coalesce: { maxChunks: 64 } });
      await reading;
      expect(seen).toEqual(["t0", "t1", "t2", "t3", "t4"]);
    } finally {
      await p.close();
    }
  }, 30_000);

  it("a source that fails after buffered tokens: the tokens arrive, then the reader gets the error", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    const p = await pair(node.url, false);
    try {
      const got: string[] = [];
      const reading = (async () => {
        for await (const s of p.rx.incoming()) {
          for await (const t of s) got.push(t.text());
        }
      })().catch((e: unknown) => e);
      function* failing() {
        yield "a";
        yield "b";
        yield "c";
        throw new Error("model crashed");
      }
      await expect(p.tx.sendStream(failing(), { coalesce: true })).rejects.toThrow("model crashed");
      const err = await reading;
      expect(got).toEqual(["a", "b", "c"]);
      expect(String(err)).toContain("model crashed");
    } finally {
      await p.close();
    }
  }, 30_000);
});
