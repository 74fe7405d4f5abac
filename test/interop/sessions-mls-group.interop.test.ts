// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// MLS group sessions (header integrity at 100 %) between our apps and official
// apps, through our node and through an official node: an official moderator
// with one of ours and an official participant; our moderator with official
// participants, including remove and close; a member that soft-closed, missed
// a commit, and rejoins (NACK, REJOIN_REQUEST, REJOIN_REPLY) in both directions.

import { createApp } from "@slim-ts/core";
import { proto } from "@slim-ts/core/internal";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";
import { DEFAULT_SECRET, startOfficialApp } from "../helpers/official/index.js";
import { acceptGroup, bothNodes, routes } from "../helpers/nodes.js";
import { reader, texts } from "../helpers/sessions.js";

const RELIABLE = { intervalMs: 1_000, maxRetries: 5 };
const enc = new TextEncoder();
const short = (n: { withoutId(): { toString(): string } }) => n.withoutId().toString();

for (const [where, makeNode] of Object.entries(bothNodes)) {
  describe(`MLS groups with official apps through ${where}`, () => {
    it("an official moderator, our participant and an official one: everyone hears everyone; removed, we stop", async () => {
      await using node = await makeNode();
      await using mod = await startOfficialApp({ name: "org/ns/mod", url: node.url });
      await using p2 = await startOfficialApp({ name: "org/ns/p2", url: node.url });
      await using app = await createApp({ name: "org/ns/ours", secret: DEFAULT_SECRET, connect: node.url });
      await routes([[mod, "org/ns/ours"], [mod, "org/ns/p2"], [p2, "org/ns/ours"], [p2, "org/ns/mod"]]);
      await mod.create({ type: "group", channel: "org/ns/secret-room", mls: true, maxRetries: RELIABLE.maxRetries, intervalMs: RELIABLE.intervalMs });
      const incoming = acceptGroup(app);
      await mod.invite("org/ns/ours");
      const ours = await incoming;
      expect(ours.mls).toBeDefined();
      const p2Accepted = p2.listen({ timeoutMs: 10_000 });
      await mod.invite("org/ns/p2"); // a commit we apply (GROUP_UPDATE(ADD))
      await p2Accepted;
      await expect.poll(() => ours.participants().map(short).sort(), { timeout: 3_000 }).toEqual(["org/ns/mod", "org/ns/ours", "org/ns/p2"]);

      await mod.publish({ text: "from-mod", wait: true });
      await p2.publish({ text: "from-p2", wait: true });
      await ours.publish(enc.encode("from-ours"));
      const rd = reader(ours);
      expect((await rd.take(2)).map((m) => m.text()).sort()).toEqual(["from-mod", "from-p2"]);
      expect(texts(await mod.recv({ n: 2, timeoutMs: 8_000 })).sort()).toEqual(["from-ours", "from-p2"]);
      expect(texts(await p2.recv({ n: 2, timeoutMs: 8_000 })).sort()).toEqual(["from-mod", "from-ours"]);

      await mod.remove("org/ns/ours");
      await ours.closed;
      await mod.publish({ text: "after-remove", wait: true });
      expect(texts(await p2.recv({ n: 1, timeoutMs: 5_000 }))).toEqual(["after-remove"]);
    });

    it("our moderator with two official participants: invite, everyone hears everyone, remove, close", async () => {
      await using node = await makeNode();
      await using p1 = await startOfficialApp({ name: "org/ns/p1", url: node.url });
      await using p2 = await startOfficialApp({ name: "org/ns/p2", url: node.url });
      await using app = await createApp({ name: "org/ns/ours", secret: DEFAULT_SECRET, connect: node.url });
      await routes([[p1, "org/ns/ours"], [p1, "org/ns/p2"], [p2, "org/ns/ours"], [p2, "org/ns/p1"]]);
      const group = await app.createSession({ type: "group", channel: "org/ns/secret-room" }, { reliable: RELIABLE, mls: true });
      const a1 = p1.listen({ timeoutMs: 10_000 });
      await group.invite("org/ns/p1");
      expect((await a1).mls).toBe(true);
      const a2 = p2.listen({ timeoutMs: 10_000 });
      await group.invite("org/ns/p2");
      await a2;
      expect(group.epoch).toBe(2n);

      await group.publish(enc.encode("from-ours"));
      await p1.publish({ text: "from-p1", wait: true });
      await p2.publish({ text: "from-p2", wait: true });
      const rd = reader(group);
      expect((await rd.take(2)).map((m) => m.text()).sort()).toEqual(["from-p1", "from-p2"]);
      expect(texts(await p1.recv({ n: 2, timeoutMs: 8_000 })).sort()).toEqual(["from-ours", "from-p2"]);
      expect(texts(await p2.recv({ n: 2, timeoutMs: 8_000 })).sort()).toEqual(["from-ours", "from-p1"]);
      // official members cannot process a key update: refused, nothing sent
      await expect(group.rotateKeys()).rejects.toMatchObject({ code: "MLS" });

      await group.remove("org/ns/p2");
      expect(group.epoch).toBe(3n);
      await group.publish(enc.encode("after-remove"));
      expect(texts(await p1.recv({ n: 1, timeoutMs: 5_000 }))).toEqual(["after-remove"]);
      const p2After = await p2.recv({ n: 1, timeoutMs: 3_000 });
      expect("error" in p2After[0]!).toBe(true);

      await group.close();
      const p1After = await p1.recv({ n: 1, timeoutMs: 3_000 });
      expect("error" in p1After[0]!).toBe(true);
    });

    it("soft close, a commit missed, rejoin: ours in an official group, and an official member in ours", async () => {
      await using node = await makeNode();
      await using om = await startOfficialApp({ name: "org/ns/om", url: node.url });
      await using p2 = await startOfficialApp({ name: "org/ns/p2", url: node.url });
      await using p3 = await startOfficialApp({ name: "org/ns/p3", url: node.url });
      await using app = await createApp({ name: "org/ns/ours", secret: DEFAULT_SECRET, connect: node.url });
      await routes([[om, "org/ns/ours"], [om, "org/ns/p2"], [om, "org/ns/p3"], [p2, "org/ns/ours"], [p2, "org/ns/om"]]);

      // an official group: we go offline, p3 joins meanwhile (a commit we miss), we rejoin
      await om.create({ type: "group", channel: "org/ns/theirs", mls: true, maxRetries: RELIABLE.maxRetries, intervalMs: RELIABLE.intervalMs });
      const incoming = acceptGroup(app);
      await om.invite("org/ns/ours");
      const g = await incoming;
      const a2 = p2.listen({ timeoutMs: 10_000 });
      await om.invite("org/ns/p2");
      await a2;
      await g.close({ mode: "soft" });
      const a3 = p3.listen({ timeoutMs: 10_000 });
      await om.invite("org/ns/p3");
      await a3;
      const before = g.epoch!;
      await g.rejoin(); // NACK (epoch), REJOIN_REQUEST, REJOIN_REPLY
      expect(g.epoch!).toBeGreaterThan(before);
      await g.publish(enc.encode("back in"));
      expect(texts(await om.recv({ n: 1, timeoutMs: 5_000 }))).toEqual(["back in"]);
      expect(texts(await p3.recv({ n: 1, timeoutMs: 5_000 }))).toEqual(["back in"]);
      await om.publish({ text: "welcome back", wait: true });
      expect((await reader(g).take(1)).map((m) => m.text())).toEqual(["welcome back"]);
      await om.closeSession();
      await g.closed;

      // our group: the official p2 goes offline, p3 joins meanwhile, p2 rejoins (we NACK, re-add it)
      await routes([[p2, "org/ns/p3"], [p3, "org/ns/ours"], [p3, "org/ns/p2"]]);
      const group = await app.createSession({ type: "group", channel: "org/ns/ours" }, { reliable: RELIABLE, mls: true });
      const events = group.events()[Symbol.asyncIterator]();
      const b2 = p2.listen({ timeoutMs: 10_000 });
      await group.invite("org/ns/p2");
      await b2;
      await p2.closeSession({ mode: "soft" });
      await expect.poll(() => group.members().find((m) => short(m.name) === "org/ns/p2")?.online, { timeout: 3_000 }).toBe(false);
      const b3 = p3.listen({ timeoutMs: 10_000 });
      await group.invite("org/ns/p3");
      await b3;
      const epochBefore = group.epoch!;
      await p2.rejoin();
      expect(group.epoch!).toBe(epochBefore + 1n); // the rejoin commit
      await expect.poll(() => group.members().find((m) => short(m.name) === "org/ns/p2")?.online, { timeout: 3_000 }).toBe(true);
      void events;
      await group.publish(enc.encode("all together"));
      expect(texts(await p2.recv({ n: 1, timeoutMs: 5_000 }))).toEqual(["all together"]);
      expect(texts(await p3.recv({ n: 1, timeoutMs: 5_000 })).at(-1)).toBe("all together");
      await p2.publish({ text: "p2 is back", wait: true });
      expect((await reader(group).take(1)).map((m) => m.text())).toEqual(["p2 is back"]);
    });
  });
}

describe("MLS groups of our apps", () => {
  it("our moderator rotates keys on demand; members follow and keep talking", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    await using mod = await createApp({ name: "org/ns/mod", secret: DEFAULT_SECRET, connect: node.url });
    await using a = await createApp({ name: "org/ns/a", secret: DEFAULT_SECRET, connect: node.url });
    await using b = await createApp({ name: "org/ns/b", secret: DEFAULT_SECRET, connect: node.url });
    const group = await mod.createSession({ type: "group", channel: "org/ns/ours-only" }, { reliable: RELIABLE, mls: true });
    const ia = acceptGroup(a);
    await group.invite("org/ns/a");
    const ga = await ia;
    const ib = acceptGroup(b);
    await group.invite("org/ns/b");
    const gb = await ib;
    const e0 = group.epoch!;
    const e1 = await group.rotateKeys();
    expect(e1).toBe(e0 + 1n);
    await expect.poll(() => [ga.epoch, gb.epoch], { timeout: 2_000 }).toEqual([e1, e1]);
    await group.publish(enc.encode("after rotation"));
    expect((await reader(ga).take(1)).map((m) => m.text())).toEqual(["after rotation"]);
    expect((await reader(gb).take(1)).map((m) => m.text())).toEqual(["after rotation"]);
  });

  it("a moderator rotating on an interval: epochs advance on every member, messages keep flowing", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    await using mod = await createApp({ name: "org/ns/mod", secret: DEFAULT_SECRET, connect: node.url });
    await using a = await createApp({ name: "org/ns/a", secret: DEFAULT_SECRET, connect: node.url });
    const group = await mod.createSession({ type: "group", channel: "org/ns/rotating" }, { reliable: RELIABLE, mls: { rotateEveryMs: 200 } });
    const ia = acceptGroup(a);
    await group.invite("org/ns/a");
    const ga = await ia;
    const start = group.epoch!;
    await expect.poll(() => ga.epoch! >= start + 2n, { timeout: 3_000 }).toBe(true);
    const rd = reader(ga);
    for (let i = 0; i < 5; i++) {
      await group.publish(enc.encode(`m${i}`));
      await new Promise((r) => setTimeout(r, 60));
    }
    expect((await rd.take(5)).map((m) => m.text())).toEqual(["m0", "m1", "m2", "m3", "m4"]);
  });

  it("a member that missed a commit catches up by itself: the moderator's heartbeat shows a later epoch, it rejoins", async () => {
    const FAST = { intervalMs: 100, maxRetries: 3 };
    await using node = await startNode({ listen: "127.0.0.1:0" });
    const opts = { secret: DEFAULT_SECRET, connect: node.url, heartbeatIntervalMs: 200 };
    await using mod = await createApp({ name: "org/ns/mod", ...opts });
    await using b = await createApp({ name: "org/ns/b", ...opts });
    await using c = await createApp({ name: "org/ns/c", ...opts });
    const group = await mod.createSession({ type: "group", channel: "org/ns/catch-up" }, { reliable: FAST, mls: true });
    const ib = acceptGroup(b);
    await group.invite("org/ns/b");
    const gb = await ib;
    // b loses every GROUP_UPDATE for a while (the moderator gives up on it after its retries)
    const pipe = (gb as unknown as { pipe: { receive: (p: { session?: { sessionMessageType: number } }, ...rest: unknown[]) => void } }).pipe;
    const receive = pipe.receive.bind(pipe);
    let dropping = true;
    pipe.receive = (p, ...rest) => {
      if (dropping && p.session?.sessionMessageType === proto.SessionMessageType.GROUP_UPDATE) return;
      receive(p, ...rest);
    };
    const ic = acceptGroup(c);
    await group.invite("org/ns/c");
    const gc = await ic;
    dropping = false;
    const missed = group.epoch!;
    expect(gb.epoch).toBe(missed - 1n);
    // the rejoin is one more commit: both end up past the epoch b missed, together
    await expect.poll(() => gb.epoch !== undefined && gb.epoch > missed && gb.epoch === group.epoch, { timeout: 3_000 }).toBe(true);
    await expect.poll(() => gb.participants().length, { timeout: 2_000 }).toBe(3);
    const atB = reader(gb);
    await group.publish(enc.encode("all caught up"));
    expect((await atB.take(1)).map((m) => m.text())).toEqual(["all caught up"]);
    await gc.publish(enc.encode("hello b"));
    expect((await atB.take(1)).map((m) => m.text())).toEqual(["hello b"]);
  });
});
