// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// app.prepareMls(): the MLS engine loaded and run once ahead of the first MLS
// session. Its throwaway state must not leak into real sessions, and the call
// is bounded like every other async call.

import { createApp, SlimError, type GroupSession } from "@slim-ts/core";
import { MessageProcessor } from "@slim-ts/core/internal";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";
import { DEFAULT_SECRET } from "../helpers/official/index.js";
import { reader } from "../helpers/sessions.js";

const enc = new TextEncoder();

describe("prepareMls", () => {
  it("prepared apps join an MLS group and exchange messages; preparing twice is harmless", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    await using mod = await createApp({ name: "org/ns/mod", secret: DEFAULT_SECRET, connect: node.url });
    await using m1 = await createApp({ name: "org/ns/m1", secret: DEFAULT_SECRET, connect: node.url });
    await using m2 = await createApp({ name: "org/ns/m2", secret: DEFAULT_SECRET, connect: node.url });
    await Promise.all([mod.prepareMls(), m1.prepareMls(), m2.prepareMls({ timeoutMs: 20_000 }), m2.prepareMls()]);

    const accepted = [m1, m2].map((m) => m.listen({ kind: "group" })[Symbol.asyncIterator]().next());
    const group = await mod.createSession({ type: "group", channel: "org/ns/room" }, { reliable: { intervalMs: 300, maxRetries: 5 }, mls: true });
    await group.invite("org/ns/m1");
    await group.invite("org/ns/m2");
    const [g1, g2] = (await Promise.all(accepted)).map((r) => r.value as GroupSession) as [GroupSession, GroupSession];
    expect(g1.mls).toBeDefined();
    expect(g2.mls).toBeDefined();

    await group.publish(enc.encode("to all"));
    await g1.publish(enc.encode("from m1"));
    expect((await reader(g2).take(2, 5_000)).map((m) => m.text()).sort()).toEqual(["from m1", "to all"]);
  });

  it("joins answered with the spare key package and with fresh ones: concurrent and back-to-back MLS sessions all work", async () => {
    // a prepared app keeps one key package ready; concurrent joins must not share it (a key package is single-use)
    const processor = new MessageProcessor();
    await using a = await createApp({ name: "org/ns/a", secret: DEFAULT_SECRET, processor });
    await using b = await createApp({ name: "org/ns/b", secret: DEFAULT_SECRET, processor });
    await b.prepareMls();
    const incoming = b.listen({ kind: "p2p" })[Symbol.asyncIterator]();
    const opts = { reliable: { intervalMs: 300, maxRetries: 5 }, mls: true } as const;
    const concurrent = await Promise.all([0, 1, 2].map(() => a.createSession({ type: "p2p", peer: "org/ns/b" }, opts)));
    const later = [];
    for (let i = 0; i < 3; i++) later.push(await a.createSession({ type: "p2p", peer: "org/ns/b" }, opts));
    const accepted = [];
    for (let i = 0; i < 6; i++) accepted.push((await incoming.next()).value);
    const bySession = new Map(accepted.map((s) => [s.sessionId, s]));
    for (const [i, s] of [...concurrent, ...later].entries()) {
      expect(s.mls).toBeDefined();
      await s.publish(enc.encode(`hello ${i}`));
      const peer = bySession.get(s.sessionId);
      expect(peer).toBeDefined();
      expect((await reader(peer!).take(1, 5_000)).map((m) => m.text())).toEqual([`hello ${i}`]);
    }
    // apps first: with the processor gone, their sessions' goodbyes would wait out their retries
    await a.close();
    await b.close();
    processor.close();
  });

  it("an aborted signal stops it with SlimError ABORTED", async () => {
    const processor = new MessageProcessor();
    await using app = await createApp({ name: "org/ns/p", secret: DEFAULT_SECRET, processor });
    const err = await app.prepareMls({ signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlimError);
    expect((err as SlimError).code).toBe("ABORTED");
    processor.close();
  });
});
