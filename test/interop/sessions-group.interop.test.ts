// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Group sessions (MLS off) between our app and official apps, through our node
// and through an official node:
// an official moderator with our app as a participant, and our app as the
// moderator of official participants. Every wait is bounded.

import { createApp, type GroupSession, type SessionMessage } from "@slim-ts/core";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";
import { DEFAULT_SECRET, startOfficialApp, startOfficialNode, type RecvItem } from "../helpers/official/index.js";
import { take, texts } from "../helpers/sessions.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const RELIABLE = { intervalMs: 1_000, maxRetries: 5 };


async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

const nodes = {
  "our node": () => startNode({ listen: "127.0.0.1:0" }),
  "an official node": () => startOfficialNode(),
};

for (const [where, start] of Object.entries(nodes)) {
  const makeNode = async () => {
    const n = await start();
    return { url: n.url, [Symbol.asyncDispose]: () => n.close() };
  };

  describe(`group sessions through ${where} (MLS off, reliable)`, () => {
    it("an official moderator invites our app and an official participant; everyone hears everyone; removing us ends our session", async () => {
      await using node = await makeNode();
      await using mod = await startOfficialApp({ name: "org/ns/mod", url: node.url });
      await using p2 = await startOfficialApp({ name: "org/ns/p2", url: node.url });
      await using app = await createApp({ name: "org/ns/ours", secret: DEFAULT_SECRET, connect: node.url });
      await mod.route("org/ns/ours");
      await mod.route("org/ns/p2");
      await p2.route("org/ns/ours");
      await p2.route("org/ns/mod");

      const created = await mod.create({ type: "group", channel: "org/ns/room", ...{ maxRetries: RELIABLE.maxRetries, intervalMs: RELIABLE.intervalMs }, metadata: { topic: "g" } });
      const incoming = app.listen({ kind: "group" })[Symbol.asyncIterator]().next();
      await mod.invite("org/ns/ours");
      const next = await within(incoming, 5_000, "our group session");
      const ours: GroupSession | undefined = next.done === true ? undefined : next.value;
      expect(ours!.kind).toBe("group");
      expect(ours!.isModerator).toBe(false);
      expect(ours!.sessionId).toBe(created.sessionId);
      expect(ours!.metadata).toEqual({ topic: "g" });
      expect(ours!.reliable).toEqual(RELIABLE);
      expect(ours!.peer.toString()).toBe(`org/ns/mod/${mod.appId}`);

      const p2Accepted = p2.listen({ timeoutMs: 10_000 });
      await mod.invite("org/ns/p2");
      expect((await p2Accepted).sessionId).toBe(created.sessionId);
      // the GROUP_UPDATE(ADD) told us about p2
      await expect.poll(() => ours!.participants().map((n) => n.withoutId().toString()).sort(), { timeout: 3_000 }).toEqual(["org/ns/mod", "org/ns/ours", "org/ns/p2"]);

      // each publish resolves once every other member acked it
      await mod.publish({ text: "from-mod", wait: true });
      await p2.publish({ text: "from-p2", wait: true });
      await within(ours!.publish(enc.encode("from-ours")), 5_000, "our publish");

      const [ourGot, modGot, p2Got] = await Promise.all([take(ours!, 2), mod.recv({ n: 2, timeoutMs: 8_000 }), p2.recv({ n: 2, timeoutMs: 8_000 })]);
      expect(ourGot.map((m) => dec.decode(m.payload)).sort()).toEqual(["from-mod", "from-p2"]);
      expect(texts(modGot).sort()).toEqual(["from-ours", "from-p2"]);
      expect(texts(p2Got).sort()).toEqual(["from-mod", "from-ours"]);
      expect(ourGot.find((m) => dec.decode(m.payload) === "from-p2")!.source.toString()).toBe(`org/ns/p2/${p2.appId}`);

      const parts = await mod.participants();
      expect(parts.map((p) => p.name).sort()).toEqual(["org/ns/mod", "org/ns/ours", "org/ns/p2"]);

      // removed by the moderator: our session ends
      await mod.remove("org/ns/ours");
      await within(ours!.closed, 5_000, "our session closed");
      await expect(ours!.publish(enc.encode("too late"))).rejects.toThrow();
      // the other two still talk
      await mod.publish({ text: "after-remove", wait: true });
      expect(texts(await p2.recv({ n: 1, timeoutMs: 5_000 }))).toEqual(["after-remove"]);
    });

    it("our app moderates a group of two official participants: invite, everyone hears everyone, remove, close", async () => {
      await using node = await makeNode();
      await using p1 = await startOfficialApp({ name: "org/ns/p1", url: node.url });
      await using p2 = await startOfficialApp({ name: "org/ns/p2", url: node.url });
      await using app = await createApp({ name: "org/ns/ours", secret: DEFAULT_SECRET, connect: node.url });
      for (const [a, b] of [[p1, "org/ns/ours"], [p1, "org/ns/p2"], [p2, "org/ns/ours"], [p2, "org/ns/p1"]] as const) await a.route(b);

      const group = await app.createSession({ type: "group", channel: "org/ns/room" }, { reliable: RELIABLE, metadata: { topic: "ours" } });
      expect(group.kind).toBe("group");
      expect(group.isModerator).toBe(true);

      // published before anyone is in: held, then retransmitted to the first member (upstream's behaviour)
      const early = group.publish(enc.encode("early"));
      const p1Accepted = p1.listen({ timeoutMs: 10_000 });
      await within(group.invite("org/ns/p1"), 10_000, "invite p1");
      const info = await p1Accepted;
      expect(texts(await p1.recv({ n: 1, timeoutMs: 4_000 }))).toEqual(["early"]);
      await within(early, 3_000, "early publish");
      expect(info.sessionId).toBe(group.sessionId);
      expect(info.type).toBe("group");
      expect(info.metadata).toEqual({ topic: "ours" });
      expect(info.maxRetries).toBe(RELIABLE.maxRetries);

      const p2Accepted = p2.listen({ timeoutMs: 10_000 });
      await within(group.invite("org/ns/p2"), 10_000, "invite p2");
      await p2Accepted;
      expect(group.participants().map((n) => n.withoutId().toString()).sort()).toEqual(["org/ns/ours", "org/ns/p1", "org/ns/p2"]);
      expect((await p1.participants()).map((p) => p.name).sort()).toEqual(["org/ns/ours", "org/ns/p1", "org/ns/p2"]);

      await within(group.publish(enc.encode("from-ours")), 5_000, "our publish");
      await p1.publish({ text: "from-p1", wait: true });
      await p2.publish({ text: "from-p2", wait: true });
      const [ourGot, p1Got, p2Got] = await Promise.all([take(group, 2), p1.recv({ n: 2, timeoutMs: 8_000 }), p2.recv({ n: 2, timeoutMs: 8_000 })]);
      expect(ourGot.map((m) => dec.decode(m.payload)).sort()).toEqual(["from-p1", "from-p2"]);
      expect(texts(p1Got).sort()).toEqual(["from-ours", "from-p2"]);
      expect(texts(p2Got).sort()).toEqual(["from-ours", "from-p1"]);

      // remove p2: its session ends, it hears nothing more
      await within(group.remove("org/ns/p2"), 10_000, "remove p2");
      expect(group.participants().map((n) => n.withoutId().toString()).sort()).toEqual(["org/ns/ours", "org/ns/p1"]);
      await within(group.publish(enc.encode("after-remove")), 5_000, "publish after remove");
      expect(texts(await p1.recv({ n: 1, timeoutMs: 5_000 }))).toEqual(["after-remove"]);
      const p2After = await p2.recv({ n: 1, timeoutMs: 3_000 });
      expect(p2After).toHaveLength(1);
      expect("error" in p2After[0]!).toBe(true);

      // close: p1's session ends
      await within(group.close(), 10_000, "close");
      await within(group.closed, 1_000, "closed");
      const p1After = await p1.recv({ n: 1, timeoutMs: 3_000 });
      expect("error" in p1After[0]!).toBe(true);
      expect((p1After[0] as { error: string }).error).not.toMatch(/timeout/i);
    });

    it("members leave on their own: an official one from our group, ours from an official group", async () => {
      await using node = await makeNode();
      await using p1 = await startOfficialApp({ name: "org/ns/p1", url: node.url });
      await using p2 = await startOfficialApp({ name: "org/ns/p2", url: node.url });
      await using app = await createApp({ name: "org/ns/ours", secret: DEFAULT_SECRET, connect: node.url });
      for (const [a, b] of [[p1, "org/ns/ours"], [p1, "org/ns/p2"], [p2, "org/ns/ours"], [p2, "org/ns/p1"]] as const) await a.route(b);

      // our group: p2 leaves, we tell p1 (GROUP_UPDATE(REMOVE)) and stop expecting p2's acks
      const group = await app.createSession({ type: "group", channel: "org/ns/room" }, { reliable: RELIABLE });
      const p1Accepted = p1.listen({ timeoutMs: 10_000 });
      await within(group.invite("org/ns/p1"), 10_000, "invite p1");
      await p1Accepted;
      const p2Accepted = p2.listen({ timeoutMs: 10_000 });
      await within(group.invite("org/ns/p2"), 10_000, "invite p2");
      await p2Accepted;
      await p2.closeSession();
      await expect.poll(() => group.participants().map((n) => n.withoutId().toString()).sort(), { timeout: 3_000 }).toEqual(["org/ns/ours", "org/ns/p1"]);
      await expect.poll(async () => (await p1.participants()).map((p) => p.name).sort(), { timeout: 3_000 }).toEqual(["org/ns/ours", "org/ns/p1"]);
      const t0 = Date.now();
      await within(group.publish(enc.encode("after-leave")), 5_000, "publish after leave");
      expect(Date.now() - t0).toBeLessThan(RELIABLE.intervalMs);
      expect(texts(await p1.recv({ n: 1, timeoutMs: 5_000 }))).toEqual(["after-leave"]);
      await group.close();

      // an official group (p1 moderates): we leave; p1 sees us go and the group goes on with p2
      await p1.route("org/ns/p2");
      const created = await p1.create({ type: "group", channel: "org/ns/room2", maxRetries: RELIABLE.maxRetries, intervalMs: RELIABLE.intervalMs });
      const incoming = app.listen({ kind: "group" })[Symbol.asyncIterator]().next();
      await p1.invite("org/ns/ours");
      const next = await within(incoming, 5_000, "our group session");
      const ours: GroupSession | undefined = next.done === true ? undefined : next.value;
      expect(ours!.sessionId).toBe(created.sessionId);
      const p2Again = p2.listen({ timeoutMs: 10_000 });
      await p1.invite("org/ns/p2");
      await p2Again;
      await within(ours!.close(), 5_000, "our leave");
      await expect.poll(async () => (await p1.participants()).map((p) => p.name).sort(), { timeout: 3_000 }).toEqual(["org/ns/p1", "org/ns/p2"]);
      const left = await p1.recv({ n: 1, timeoutMs: 3_000 });
      expect("error" in left[0]! ? left[0].error : "").toMatch(/participant disconnected/);
    });
  });
}

describe("a group over a lossy node (10 % of publishes dropped)", () => {
  it("our moderator, an official participant and ours: 200 messages from each of us reach everyone exactly once, in order", async () => {
    const R = { intervalMs: 300, maxRetries: 20 };
    const N = 200;
    await using node = await startNode({ listen: "127.0.0.1:0", faults: { dropRatio: 0.1, seed: 7 } });
    await using p1 = await startOfficialApp({ name: "org/ns/p1", url: node.url });
    await using mod = await createApp({ name: "org/ns/mod", secret: DEFAULT_SECRET, connect: node.url });
    await using b = await createApp({ name: "org/ns/b", secret: DEFAULT_SECRET, connect: node.url });
    await p1.route("org/ns/mod");
    await p1.route("org/ns/b");

    const group = await mod.createSession({ type: "group", channel: "org/ns/lossy" }, { reliable: R });
    const p1Accepted = p1.listen({ timeoutMs: 15_000 });
    await within(group.invite("org/ns/p1"), 15_000, "invite p1");
    await p1Accepted;
    const bIncoming = b.listen({ kind: "group" })[Symbol.asyncIterator]().next();
    await within(group.invite("org/ns/b"), 15_000, "invite b");
    const next = await bIncoming;
    const gb: GroupSession | undefined = next.done === true ? undefined : next.value;

    const expected = (who: string) => Array.from({ length: N }, (_, i) => `${who}-${i}`);
    const sends = [...expected("mod").map((t) => group.publish(enc.encode(t))), ...expected("b").map((t) => gb!.publish(enc.encode(t)))];
    const [atP1, atMod, atB] = await Promise.all([p1.recv({ n: 2 * N, timeoutMs: 20_000 }), take(group, N, 20_000), take(gb!, N, 20_000)]);
    await within(Promise.all(sends), 10_000, "publishes acked");
    const p1Texts = texts(atP1);
    expect(p1Texts.filter((t) => t.startsWith("mod-"))).toEqual(expected("mod"));
    expect(p1Texts.filter((t) => t.startsWith("b-"))).toEqual(expected("b"));
    expect(atMod.map((m) => dec.decode(m.payload))).toEqual(expected("b"));
    expect(atB.map((m) => dec.decode(m.payload))).toEqual(expected("mod"));
    expect(node.status().dropped.fault_injected ?? 0).toBeGreaterThan(20);
  });
});
