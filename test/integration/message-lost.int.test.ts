// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A message that cannot be recovered in a reliable session (every copy of it,
// retransmissions included, dropped by the relay): the receivers report it as
// a "lost" event and go on receiving what follows, in order; the session does
// not end and the other messages are not held back. (Until this session, the
// first such loss ended the receiver's message stream with an error.)

import { createApp, type GroupSession, type P2PSession, type ParticipantEvent } from "@slim-ts/core";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";
import { DEFAULT_SECRET } from "../helpers/official/index.js";
import { nextMatching, reader } from "../helpers/sessions.js";

const RELIABLE = { intervalMs: 100, maxRetries: 2 };
/** Session message types (data-plane v1): a data message and a retransmission of one. */
const MSG = 1;
const RTX_REPLY = 4;

/** A node that drops every copy of the `nth` distinct data message it routes from `from`. */
async function lossyNode(from: string, nth: number) {
  const seen: number[] = [];
  let killed: number | undefined;
  const node = await startNode(
    { listen: "127.0.0.1:0" },
    {
      tap: (_m, p) => {
        const type = p.session?.sessionMessageType;
        const id = p.session?.messageId;
        if ((type !== MSG && type !== RTX_REPLY) || id === undefined || p.header?.source?.strName?.strComponent2 !== from) return;
        if (type === MSG && !seen.includes(id)) seen.push(id);
        if (seen.length === nth && killed === undefined) killed = id;
        // dropped by the datapath as expired (p2p data carries forward_to, so a changed name would not do)
        if (id === killed && p.header !== undefined) p.header.ttl = 0;
      },
    },
  );
  return { node, killed: () => killed };
}

describe("a message lost for good", () => {
  it("group: members get a lost event for it and keep receiving the later messages in order", async () => {
    const { node, killed } = await lossyNode("mod", 3);
    await using _node = node;
    await using mod = await createApp({ name: "org/ns/mod", secret: DEFAULT_SECRET, connect: node.url });
    await using m1 = await createApp({ name: "org/ns/m1", secret: DEFAULT_SECRET, connect: node.url });
    await using m2 = await createApp({ name: "org/ns/m2", secret: DEFAULT_SECRET, connect: node.url });
    const accepted = [m1, m2].map((m) => m.listen({ kind: "group" })[Symbol.asyncIterator]().next());
    const group = await mod.createSession({ type: "group", channel: "org/ns/room" }, { reliable: RELIABLE });
    await group.invite("org/ns/m1");
    await group.invite("org/ns/m2");
    const members = (await Promise.all(accepted)).map((r) => r.value as GroupSession);
    const events = members.map((g) => g.events()[Symbol.asyncIterator]());
    const readers = members.map((g) => reader(g));

    // as upstream, a receiver's retransmission request counts as its ack: the sender's publish of the
    // lost message resolves, and the loss is the receiver's to report
    await Promise.all(["one", "two", "three", "four", "five"].map((t) => group.publish(t)));
    for (const [i, r] of readers.entries()) {
      expect((await r.take(4, 5_000)).map((m) => m.text())).toEqual(["one", "two", "four", "five"]);
      const lost = await nextMatching(events[i]!, (e: ParticipantEvent) => e.type === "lost", 5_000, "lost event");
      expect(lost.participant.withoutId().toString()).toBe("org/ns/mod");
      expect(lost.messageId).toBe(killed());
    }
    // the session goes on
    await group.publish("six");
    for (const r of readers) expect((await r.take(1, 5_000)).map((m) => m.text())).toEqual(["six"]);
  });

  it("p2p: the receiver gets a lost event and the messages after it", async () => {
    const { node, killed } = await lossyNode("a", 2);
    await using _node = node;
    await using a = await createApp({ name: "org/ns/a", secret: DEFAULT_SECRET, connect: node.url });
    await using b = await createApp({ name: "org/ns/b", secret: DEFAULT_SECRET, connect: node.url });
    const incoming = b.listen({ kind: "p2p" })[Symbol.asyncIterator]().next();
    const sa = await a.createSession({ type: "p2p", peer: "org/ns/b" }, { reliable: RELIABLE });
    const sb = (await incoming).value as P2PSession;
    const events = sb.events()[Symbol.asyncIterator]();
    await Promise.all(["one", "two", "three"].map((t) => sa.publish(t)));
    expect((await reader(sb).take(2, 5_000)).map((m) => m.text())).toEqual(["one", "three"]);
    const lost = await nextMatching(events, (e: ParticipantEvent) => e.type === "lost", 5_000, "lost event");
    expect(lost.messageId).toBe(killed());
  });
});
