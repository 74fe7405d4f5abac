// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Group sessions between our own apps on one in-process datapath (no link):
// moderator and participants, data to everyone, remove, leave, close.

import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp, type SlimApp } from "../../src/app.js";
import { MessageProcessor } from "../../src/datapath/processor.js";
import { HEARTBEAT_INTERVAL_MS, NO_MLS_EPOCH, type GroupSession } from "../../src/session/group/session.js";
import { SessionLayer } from "../../src/session/session-layer.js";
import { SessionMessageType, type ProtoMessage } from "../../src/wire/gen/dataplane.js";
import { take as takeMessages } from "../../../../test/helpers/sessions.js";

const SECRET = "group-unit-test-shared-secret-0123456789abcdef";
const R = { intervalMs: 200, maxRetries: 3 };
const enc = new TextEncoder();
const dec = new TextDecoder();

let processor: MessageProcessor;
const apps: SlimApp[] = [];

async function app(name: string): Promise<SlimApp> {
  processor ??= new MessageProcessor();
  const a = await createApp({ name, secret: SECRET, processor });
  apps.push(a);
  return a;
}

afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  await Promise.all(apps.splice(0).map((a) => a.close()));
  processor.close();
  processor = undefined as unknown as MessageProcessor;
});

function nextGroup(a: SlimApp): Promise<GroupSession> {
  return a
    .listen({ kind: "group" })
    [Symbol.asyncIterator]()
    .next()
    .then((r) => {
      if (r.done === true) throw new Error("listen ended");
      return r.value;
    });
}

/** The next `n` messages as "sender-service:text". */
async function take(s: GroupSession, n: number, timeoutMs = 2_000): Promise<string[]> {
  return (await takeMessages(s, n, timeoutMs)).map((m) => `${m.source.withoutId().toString().split("/")[2]}:${dec.decode(m.payload)}`);
}

const svc = (s: GroupSession) => s.participants().map((n) => n.withoutId().toString().split("/")[2]).sort();

async function group3() {
  const mod = await app("org/ns/mod");
  const a = await app("org/ns/a");
  const b = await app("org/ns/b");
  const g = await mod.createSession({ type: "group", channel: "org/ns/room" }, { reliable: R, metadata: { k: "v" } });
  const aSession = nextGroup(a);
  await g.invite("org/ns/a");
  const ga = await aSession;
  const bSession = nextGroup(b);
  await g.invite("org/ns/b");
  const gb = await bSession;
  return { mod, a, b, g, ga, gb };
}

describe("group sessions on one datapath", () => {
  it("invites two members; everyone hears everyone; the roster is the same everywhere", async () => {
    const { g, ga, gb } = await group3();
    expect(ga.kind).toBe("group");
    expect(ga.isModerator).toBe(false);
    expect(ga.metadata).toEqual({ k: "v" });
    expect(ga.reliable).toEqual(R);
    expect(ga.sessionId).toBe(g.sessionId);
    expect(svc(g)).toEqual(["a", "b", "mod"]);
    expect(svc(ga)).toEqual(["a", "b", "mod"]);
    expect(svc(gb)).toEqual(["a", "b", "mod"]);

    await Promise.all([g.publish(enc.encode("1")), ga.publish(enc.encode("2")), gb.publish(enc.encode("3"))]);
    const [m, x, y] = await Promise.all([take(g, 2), take(ga, 2), take(gb, 2)]);
    expect(m.sort()).toEqual(["a:2", "b:3"]);
    expect(x.sort()).toEqual(["b:3", "mod:1"]);
    expect(y.sort()).toEqual(["a:2", "mod:1"]);
  });

  it("refuses a second invitation of the same service and operations from participants", async () => {
    const { g, ga } = await group3();
    await expect(g.invite("org/ns/a")).rejects.toThrow(/already in group/);
    await expect(ga.invite("org/ns/mod")).rejects.toThrow(/only the moderator/);
    await expect(g.remove("org/ns/nobody")).rejects.toThrow(/not found/);
  });

  it("remove ends the removed member's session; the others go on", async () => {
    const { g, ga, gb } = await group3();
    await g.remove("org/ns/b");
    await gb.closed;
    expect(svc(g)).toEqual(["a", "mod"]);
    await expect.poll(() => svc(ga)).toEqual(["a", "mod"]);
    await g.publish(enc.encode("after")); // resolves without b's ack
    expect(await take(ga, 1)).toEqual(["mod:after"]);
    expect(await take(gb, 1, 200)).toEqual([]);
  });

  it("a member leaving on its own is dropped from everyone's roster", async () => {
    const { g, ga, gb } = await group3();
    await gb.close();
    await expect.poll(() => svc(g)).toEqual(["a", "mod"]);
    await expect.poll(() => svc(ga)).toEqual(["a", "mod"]);
    await ga.publish(enc.encode("still here"));
    expect(await take(g, 1)).toEqual(["a:still here"]);
  });

  it("the last member leaving ends the moderator's session, as upstream", async () => {
    const mod = await app("org/ns/mod");
    const a = await app("org/ns/a");
    const g = await mod.createSession({ type: "group", channel: "org/ns/room" });
    expect(g.reliable).toEqual({ intervalMs: 1_000, maxRetries: 10 });
    const incoming = nextGroup(a);
    await g.invite("org/ns/a");
    await (await incoming).close();
    await g.closed;
    await expect(take(g, 1)).rejects.toThrow(/participant disconnected/);
  });

  it("a message published before anyone joined reaches the first member (by retransmission, as upstream)", async () => {
    const mod = await app("org/ns/mod");
    const a = await app("org/ns/a");
    const g = await mod.createSession({ type: "group", channel: "org/ns/room" }, { reliable: R });
    let done = false;
    const early = g.publish(enc.encode("early")).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false); // no endpoint: held
    const incoming = nextGroup(a);
    await g.invite("org/ns/a");
    const ga = await incoming;
    expect(await take(ga, 1)).toEqual(["mod:early"]);
    await early;
  });

  it("close ends every member's session", async () => {
    const { g, ga, gb } = await group3();
    await g.close();
    await Promise.all([ga.closed, gb.closed, g.closed]);
    await expect(ga.publish(enc.encode("x"))).rejects.toThrow();
  });

  it("listen({ kind: 'any' }) yields both kinds; listen() only point-to-point sessions", async () => {
    const mod = await app("org/ns/mod");
    const a = await app("org/ns/a");
    const any = a.listen({ kind: "any" })[Symbol.asyncIterator]();
    const g = await mod.createSession({ type: "group", channel: "org/ns/room" }, { reliable: R });
    await g.invite("org/ns/a");
    expect((await any.next()).value?.kind).toBe("group");
    await mod.createSession({ type: "p2p", peer: "org/ns/a" }, { reliable: R });
    expect((await any.next()).value?.kind).toBe("p2p");
  });

  it("sends a heartbeat to the control channel only after an idle interval", async () => {
    vi.useFakeTimers({ toFake: ["setInterval"] });
    const { g } = await group3();
    const sent: ProtoMessage[] = [];
    const orig = SessionLayer.prototype.send;
    vi.spyOn(SessionLayer.prototype, "send").mockImplementation(function (this: SessionLayer, m: ProtoMessage) {
      sent.push(m);
      return orig.call(this, m);
    });
    const heartbeats = () =>
      sent.flatMap((m) => {
        const p = m.messageType.case === "publish" ? m.messageType.value : undefined;
        return p?.session?.sessionMessageType === SessionMessageType.HEARTBEAT && p.header?.source?.strName?.strComponent2 === "mod" ? [p] : [];
      });
    vi.advanceTimersByTime(HEARTBEAT_INTERVAL_MS); // the invitations went to the control channel in this interval
    expect(heartbeats()).toHaveLength(0);
    vi.advanceTimersByTime(HEARTBEAT_INTERVAL_MS); // idle
    const [hb] = heartbeats();
    expect(hb?.header?.fanout).toBe(256);
    const ctrl = g.channels.control.id;
    expect(hb?.header?.destination?.name?.nameId).toEqual({ id0: ctrl >> 64n, id1: ctrl & ((1n << 64n) - 1n) });
    const c = hb?.msg?.contentType;
    expect(c?.case === "commandPayload" && c.value.commandPayloadType.case === "heartbeat" ? c.value.commandPayloadType.value.epoch : undefined).toBe(NO_MLS_EPOCH);
  });
});
