// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Control experiment for the official harness (test/helpers/official): official node + official
// apps only, each app in its own process. If these fail, interop failures elsewhere say nothing
// about slim-ts.

import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  oneWayRate, startOfficialApp, startOfficialNode,
  type OfficialApp, type OfficialNode, type Received,
} from "../helpers/official/index.js";
import { texts } from "../helpers/sessions.js";

function bindingsMissing(): string | null {
  try {
    createRequire(import.meta.url).resolve("@agntcy/slim-bindings/package.json");
    return null;
  } catch {
    return "@agntcy/slim-bindings is not installed";
  }
}
const skipReason = bindingsMissing();

const seq = (prefix: string, n = 20) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe.skipIf(skipReason !== null)(`official harness, official peers only${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  let node: OfficialNode;
  const apps: OfficialApp[] = [];
  const start = async (name: string, url = node.url) => {
    const app = await startOfficialApp({ name, url });
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    node = await startOfficialNode();
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await node?.close();
  });

  describe.each([
    { mls: false, label: "p2p without MLS" },
    { mls: true, label: "p2p with MLS (header integrity 100 %)" },
  ])("$label", ({ mls }) => {
    it("20 messages each way arrive in order", async () => {
      const tag = mls ? "mls" : "plain";
      const [alice, bob] = await Promise.all([start(`org/ns/alice-${tag}`), start(`org/ns/bob-${tag}`)]);
      await alice.route(bob.name);
      const listening = bob.listen({ timeoutMs: 10_000 });
      const created = await alice.create({
        type: "p2p", peer: bob.name, mls, maxRetries: 5, intervalMs: 1000, metadata: { "x-case": tag },
      });
      const accepted = await listening;
      expect(accepted).toMatchObject({ sessionId: created.sessionId, type: "p2p", mls, initiator: false, metadata: { "x-case": tag } });
      expect(created).toMatchObject({ type: "p2p", mls, initiator: true, destination: bob.name });

      // alice: every publish awaited until acked; bob: pipelined hand-offs
      for (const text of seq("a")) await alice.publish({ text, wait: true, payloadType: "text/plain", metadata: { k: "v" } });
      const atBob = await bob.recv({ n: 20, timeoutMs: 10_000 });
      expect(texts(atBob)).toEqual(seq("a"));
      expect(atBob[0]).toMatchObject({ from: alice.name, fromId: alice.appId, payloadType: "text/plain", metadata: { k: "v" } });

      for (const text of seq("b")) await bob.publish({ text, wait: false });
      const atAlice = await alice.recv({ n: 20, timeoutMs: 10_000 });
      expect(texts(atAlice)).toEqual(seq("b"));
      expect((atAlice[19] as Received).from).toBe(bob.name);

      await alice.replyTo({ text: "reply" });
      expect(texts(await bob.recv({ n: 1, timeoutMs: 5_000 }))).toEqual(["reply"]);

      expect((await alice.participants()).map((p) => p.name).sort()).toEqual([alice.name, bob.name].sort());
      await alice.closeSession();
      expect(texts(await bob.recv({ n: 1, timeoutMs: 3_000 }))).toEqual([expect.stringMatching(/^ERROR /)]);
    });
  });

  it("group (MLS): moderator and two participants hear everyone; a removed one hears nothing more", async () => {
    const [mod, p1, p2] = await Promise.all([start("org/ns/moderator"), start("org/ns/member-1"), start("org/ns/member-2")]);
    await mod.route(p1.name);
    await mod.route(p2.name);
    await mod.create({ type: "group", channel: "org/ns/harness-room", mls: true, maxRetries: 5, intervalMs: 1000 });
    for (const p of [p1, p2]) {
      const listening = p.listen({ timeoutMs: 10_000 });
      await mod.invite(p.name);
      expect(await listening).toMatchObject({ type: "group", mls: true, destination: "org/ns/harness-room" });
    }
    expect((await mod.participants()).map((p) => p.name).sort()).toEqual([mod.name, p1.name, p2.name].sort());

    await mod.publish({ text: "from-mod" });
    await p1.publish({ text: "from-1" });
    await p2.publish({ text: "from-2" });
    const heard = async (a: OfficialApp) => texts(await a.recv({ n: 2, timeoutMs: 10_000 })).sort();
    expect(await Promise.all([heard(mod), heard(p1), heard(p2)])).toEqual([
      ["from-1", "from-2"],
      ["from-2", "from-mod"],
      ["from-1", "from-mod"],
    ]);

    await mod.remove(p2.name);
    await mod.publish({ text: "after-remove-mod" });
    await p1.publish({ text: "after-remove-1" });
    expect(texts(await p1.recv({ n: 1, timeoutMs: 5_000 }))).toEqual(["after-remove-mod"]);
    expect(texts(await mod.recv({ n: 1, timeoutMs: 5_000 }))).toEqual(["after-remove-1"]);
    // removal closes the removed member's session: its receive ends at once, with nothing in it
    const late = await p2.recv({ n: 2, timeoutMs: 1_500 });
    expect(late.filter((m) => !("error" in m))).toEqual([]);
    expect(texts(late)).toEqual([expect.stringMatching(/^ERROR .*closed/i)]);
    expect((await mod.participants()).map((p) => p.name)).not.toContain(p2.name);
  });

  it("benchmark helpers: burst into a sink, rtt against echo (no acks)", async () => {
    const [a, b] = await Promise.all([start("org/ns/bench-a"), start("org/ns/bench-b")]);
    await a.route(b.name);
    const listening = b.listen({ timeoutMs: 10_000 });
    await a.create({ type: "p2p", peer: b.name });
    await listening;

    const sinking = b.sink({ count: 500, timeoutMs: 10_000 });
    const burst = await a.burst({ count: 500, size: 64 });
    const sink = await sinking;
    expect(burst).toMatchObject({ count: 500, errors: 0 });
    expect(sink).toMatchObject({ got: 500, unique: 500, dup: 0, error: null });
    expect(oneWayRate(burst, sink)).toBeGreaterThan(0);

    const echoing = b.echo({ count: 60, timeoutMs: 10_000 });
    const rtt = await a.rtt({ count: 50, warmup: 10 });
    expect(rtt).toMatchObject({ completed: 50, error: null });
    expect(rtt.rtt.p50).toBeGreaterThan(0);
    expect(await echoing).toEqual({ echoed: 60, error: null });
  });

  it("two official nodes linked as peers carry a session both ways", async () => {
    await using second = await startOfficialNode({ linkTo: node.url, linkType: "peer" });
    expect(second.links).toHaveLength(1);
    const [x, y] = await Promise.all([start("org/ns/peer-x"), start("org/ns/peer-y", second.url)]);
    await y.route(x.name);
    const listening = x.listen({ timeoutMs: 10_000 });
    await y.create({ type: "p2p", peer: x.name, mls: true, maxRetries: 5, intervalMs: 1000 });
    await listening;
    await y.publish({ text: "across" });
    expect(texts(await x.recv({ n: 1, timeoutMs: 5_000 }))).toEqual(["across"]);
    await x.publish({ text: "back" });
    expect(texts(await y.recv({ n: 1, timeoutMs: 5_000 }))).toEqual(["back"]);
  });

  it("a call past its deadline rejects naming the command and the app; close is idempotent", async () => {
    const app = await start("org/ns/lonely");
    await expect(app.listen({ timeoutMs: 5_000 }, { timeoutMs: 200 }))
      .rejects.toThrow(/official app "org\/ns\/lonely" \(pid \d+\): listen timed out after 200 ms/);
    await expect(app.publish({ text: "x" })).rejects.toThrow(/publish failed: no session yet/);
    await app.close();
    await app.close();
    await expect(app.participants()).rejects.toThrow(/participants: process already (killed by SIGTERM|exited)/);
  });
});
