// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Who is in a group and reachable, between our apps through our node, with
// short heartbeats (200 ms) so that silence is noticed in well under a second:
// a member whose process dies goes offline for the others; a soft close and a
// rejoin take a member offline and back; direct replies reach one member only.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createApp, type GroupSession, type ParticipantEvent } from "@slim-ts/core";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";
import { DEFAULT_SECRET } from "../helpers/official/index.js";
import { nextMatching, reader } from "../helpers/sessions.js";

const BIN = fileURLToPath(new URL("../../packages/node-embedded/bin/slim-ts-node.mjs", import.meta.url));
const HB = 200;
const RELIABLE = { intervalMs: 300, maxRetries: 3 };
const enc = new TextEncoder();
const dec = new TextDecoder();

async function accepted(app: { listen(o: { kind: "group" }): AsyncIterable<GroupSession> }): Promise<GroupSession> {
  const r = await app.listen({ kind: "group" })[Symbol.asyncIterator]().next();
  if (r.done === true) throw new Error("no group session");
  return r.value;
}

const short = (n: { withoutId(): { toString(): string } }) => n.withoutId().toString();
const readers = new WeakMap<object, ReturnType<typeof reader>>();
/** The one reader of a session in these tests. */
const rd = (s: GroupSession) => {
  let r = readers.get(s);
  if (r === undefined) readers.set(s, (r = reader(s)));
  return r;
};
const is = (type: ParticipantEvent["type"], who: string) => (e: ParticipantEvent) => e.type === type && short(e.participant) === who;

describe("group presence (our apps, our node, 200 ms heartbeats)", () => {
  it("a member whose process dies is marked offline by the others, who stop waiting for its acks", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    await using mod = await createApp({ name: "org/ns/mod", secret: DEFAULT_SECRET, connect: node.url, heartbeatIntervalMs: HB });
    await using a = await createApp({ name: "org/ns/a", secret: DEFAULT_SECRET, connect: node.url, heartbeatIntervalMs: HB });
    // b runs in its own process (the CLI echo app) so that it can die without saying goodbye
    const b = spawn(process.execPath, [BIN, "app", "echo", "--name", "org/ns/b", "--connect", node.url, "--heartbeat-ms", String(HB)], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, SLIM_SECRET: DEFAULT_SECRET },
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error("echo app did not start")), 15_000);
        b.stdout!.on("data", (d: Buffer) => d.toString().includes('"ready"') && (clearTimeout(t), resolve()));
      });
      const group = await mod.createSession({ type: "group", channel: "org/ns/room" }, { reliable: RELIABLE });
      const modEvents = group.events()[Symbol.asyncIterator]();
      const aSession = accepted(a);
      await group.invite("org/ns/a");
      const ga = await aSession;
      const aEvents = ga.events()[Symbol.asyncIterator]();
      await group.invite("org/ns/b");
      await nextMatching(modEvents, is("joined", "org/ns/a"), 1_000, "a joined");
      await nextMatching(modEvents, is("joined", "org/ns/b"), 1_000, "b joined");
      await nextMatching(aEvents, is("joined", "org/ns/b"), 2_000, "a hears b joined");
      // everyone up: b echoes our message back to us only
      await group.publish(enc.encode("ping"));
      const [echo] = await rd(group).take(1, 3_000);
      expect(short(echo!.source)).toBe("org/ns/b");
      expect(dec.decode(echo!.payload)).toBe("ping");
      expect(echo!.metadata["PUBLISH_TO"]).toBe("TRUE");
      const [atA] = await rd(ga).take(1, 3_000);
      expect(dec.decode(atA!.payload)).toBe("ping"); // a got the publish, not b's direct reply

      const killedAt = Date.now();
      b.kill("SIGKILL");
      const off = await nextMatching(modEvents, is("offline", "org/ns/b"), 3_000, "moderator sees b offline");
      expect(off.reason).toMatch(/no heartbeat/);
      await nextMatching(aEvents, is("offline", "org/ns/b"), 3_000, "a sees b offline");
      expect(Date.now() - killedAt).toBeLessThan(3_000);
      expect(group.members().find((m) => short(m.name) === "org/ns/b")!.online).toBe(false);
      expect(group.participants().map(short).sort()).toEqual(["org/ns/a", "org/ns/b", "org/ns/mod"]); // offline, still a member
      // a publish now waits only for a's ack, not for b's retries (300 ms × 3)
      const t0 = Date.now();
      await group.publish(enc.encode("after"));
      expect(Date.now() - t0).toBeLessThan(RELIABLE.intervalMs);
      expect((await rd(ga).take(1, 2_000)).map((m) => dec.decode(m.payload))).toEqual(["after"]);
    } finally {
      b.kill("SIGKILL");
    }
  });

  it("soft close takes a member offline (it gets nothing, nobody waits for it); rejoin brings it back", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    await using mod = await createApp({ name: "org/ns/mod", secret: DEFAULT_SECRET, connect: node.url, heartbeatIntervalMs: HB });
    await using a = await createApp({ name: "org/ns/a", secret: DEFAULT_SECRET, connect: node.url, heartbeatIntervalMs: HB });
    await using b = await createApp({ name: "org/ns/b", secret: DEFAULT_SECRET, connect: node.url, heartbeatIntervalMs: HB });
    const group = await mod.createSession({ type: "group", channel: "org/ns/soft" }, { reliable: RELIABLE });
    const modEvents = group.events()[Symbol.asyncIterator]();
    const aSession = accepted(a);
    await group.invite("org/ns/a");
    const ga = await aSession;
    const aEvents = ga.events()[Symbol.asyncIterator]();
    const bSession = accepted(b);
    await group.invite("org/ns/b");
    const gb = await bSession;

    await gb.close({ mode: "soft" });
    await nextMatching(modEvents, is("offline", "org/ns/b"), 1_000, "moderator sees b offline");
    await nextMatching(aEvents, is("offline", "org/ns/b"), 1_000, "a sees b offline");
    expect(gb.members().find((m) => short(m.name) === "org/ns/b")!.online).toBe(false);
    await expect(gb.publish(enc.encode("while offline"))).rejects.toMatchObject({ code: "SESSION" });
    // nobody waits for b: the publish is acked by a alone, at once
    const t0 = Date.now();
    await group.publish(enc.encode("missed by b"));
    expect(Date.now() - t0).toBeLessThan(RELIABLE.intervalMs);
    // several heartbeat intervals pass: b stays a member and is not declared gone twice
    await new Promise((r) => setTimeout(r, 4 * HB));
    expect(group.participants().map(short).sort()).toEqual(["org/ns/a", "org/ns/b", "org/ns/mod"]);

    await gb.rejoin();
    await nextMatching(modEvents, is("online", "org/ns/b"), 1_000, "moderator sees b online");
    await nextMatching(aEvents, is("online", "org/ns/b"), 1_000, "a sees b online");
    expect(gb.members().every((m) => m.online)).toBe(true);
    await group.publish(enc.encode("back"));
    await gb.publish(enc.encode("hello again"));
    // b never got what was sent while it was offline; what follows arrives
    expect((await rd(gb).take(1, 2_000)).map((m) => dec.decode(m.payload))).toEqual(["back"]);
    expect((await rd(ga).take(3, 2_000)).map((m) => dec.decode(m.payload))).toEqual(["missed by b", "back", "hello again"]);
  });

  it("a direct reply reaches the one it answers; the other members never see it", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    await using mod = await createApp({ name: "org/ns/mod", secret: DEFAULT_SECRET, connect: node.url });
    await using a = await createApp({ name: "org/ns/a", secret: DEFAULT_SECRET, connect: node.url });
    await using b = await createApp({ name: "org/ns/b", secret: DEFAULT_SECRET, connect: node.url });
    const group = await mod.createSession({ type: "group", channel: "org/ns/direct" }, { reliable: RELIABLE });
    const aSession = accepted(a);
    await group.invite("org/ns/a");
    const ga = await aSession;
    const bSession = accepted(b);
    await group.invite("org/ns/b");
    const gb = await bSession;

    await ga.publish(enc.encode("question from a"));
    const [q] = await rd(gb).take(1, 2_000);
    await q!.reply("answer for a", { metadata: { k: "v" } }); // resolves once a acked it
    const [atMod] = await rd(group).take(1, 2_000);
    expect(atMod!.text()).toBe("question from a");
    const [answer] = await rd(ga).take(1, 2_000);
    expect(answer!.text()).toBe("answer for a");
    expect(short(answer!.source)).toBe("org/ns/b");
    expect(answer!.metadata).toMatchObject({ k: "v", PUBLISH_TO: "TRUE" });
    expect(answer!.messageId).toBeGreaterThan(0x7fff_ffff);
    // the moderator got nothing else: its next message is the next broadcast
    await gb.publish(enc.encode("broadcast"));
    expect((await rd(group).take(1, 2_000)).map((m) => m.text())).toEqual(["broadcast"]);
    await expect(group.replyTo(a.name.withoutId().withId(123n), enc.encode("x"))).rejects.toMatchObject({ code: "SESSION" });
  });
});
