// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Reliable sessions over a node that drops 10 % of publishes (seeded): every
// message arrives exactly once and in order; unreliable mode loses some, and the
// node counts exactly what it dropped.

import { createApp, type P2PSession } from "@slim-ts/core";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";
import { DEFAULT_SECRET, startOfficialApp, type RecvItem } from "../helpers/official/index.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const N = 1_000;

async function collect(session: P2PSession, n: number, idleMs: number): Promise<string[]> {
  const out: string[] = [];
  const it = session[Symbol.asyncIterator]();
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([it.next(), new Promise<"idle">((res) => (timer = setTimeout(() => res("idle"), idleMs)))]);
    clearTimeout(timer);
    if (r === "idle" || r.done) return out;
    out.push(dec.decode(r.value.payload));
    if (out.length === n) return out;
  }
}

describe("reliability over a lossy node (10 % of publishes dropped)", () => {
  it("our app and an official app exchange 1 000 messages each way exactly once, in order", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0", faults: { dropRatio: 0.1, seed: 42 } });
    await using official = await startOfficialApp({ name: "org/ns/official", url: node.url });
    await using app = await createApp({ name: "org/ns/ours", secret: DEFAULT_SECRET, connect: node.url });
    await official.route("org/ns/ours");
    const accepted = official.listen({ timeoutMs: 30_000 });
    const session = await app.createSession({ type: "p2p", peer: "org/ns/official" }, { reliable: { intervalMs: 300, maxRetries: 20 } });
    await accepted;

    const sends = Array.from({ length: N }, (_, i) => session.publish(enc.encode(`o-${i}`)));
    const atOfficial: RecvItem[] = await official.recv({ n: N, timeoutMs: 40_000 });
    await Promise.all(sends);
    const got = atOfficial.map((m) => ("error" in m ? `ERROR ${m.error}` : m.text));
    expect(got).toEqual(Array.from({ length: N }, (_, i) => `o-${i}`));

    const back = collect(session, N, 10_000);
    for (let i = 0; i < N; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, k) => official.publish({ text: `t-${i + k}`, wait: true })));
    }
    expect(await back).toEqual(Array.from({ length: N }, (_, i) => `t-${i}`));
    expect(node.status().dropped.fault_injected ?? 0).toBeGreaterThan(100);
  });

  it("an unreliable session loses what the node drops, and the node counts it", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0", faults: { dropRatio: 0.1, seed: 7 } });
    await using a = await createApp({ name: "org/ns/a", secret: DEFAULT_SECRET, connect: node.url });
    await using b = await createApp({ name: "org/ns/b", secret: DEFAULT_SECRET, connect: node.url });
    const incoming = b.listen()[Symbol.asyncIterator]().next();
    let session: P2PSession | undefined;
    for (let attempt = 0; session === undefined && attempt < 5; attempt++) {
      session = await a.createSession({ type: "p2p", peer: "org/ns/b" }).catch(() => undefined);
    }
    const peer = (await incoming).value!;
    const before = node.status().dropped.fault_injected ?? 0;
    for (let i = 0; i < N; i++) await session!.publish(enc.encode(`u-${i}`));
    const got = await collect(peer, N, 1_500);
    const dropped = (node.status().dropped.fault_injected ?? 0) - before;
    expect(got.length).toBeLessThan(N);
    expect(got.length + dropped).toBe(N);
    // what arrived is in order
    const ids = got.map((t) => Number(t.slice(2)));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
  });
});
