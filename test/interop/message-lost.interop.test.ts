// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// An official app's message that cannot be recovered (the relay drops every
// copy of it, retransmissions included): our receiver reports it as a "lost"
// event and goes on with the official app's later messages, in order.

import { createApp, type P2PSession, type ParticipantEvent } from "@slim-ts/core";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";
import { DEFAULT_SECRET, startOfficialApp } from "../helpers/official/index.js";
import { nextMatching, reader } from "../helpers/sessions.js";

/** Session message types (data-plane v1). */
const MSG = 1;
const RTX_REPLY = 4;

describe("a message lost for good, sent by an official app", () => {
  it("our receiver reports it and keeps the official app's later messages, in order", async () => {
    const seen: number[] = [];
    let killed: number | undefined;
    await using node = await startNode(
      { listen: "127.0.0.1:0" },
      {
        tap: (_m, p) => {
          const type = p.session?.sessionMessageType;
          const id = p.session?.messageId;
          if ((type !== MSG && type !== RTX_REPLY) || id === undefined || p.header?.source?.strName?.strComponent2 !== "official") return;
          if (type === MSG && !seen.includes(id)) seen.push(id);
          if (seen.length === 3 && killed === undefined) killed = id;
          if (id === killed && p.header !== undefined) p.header.ttl = 0; // dropped as expired
        },
      },
    );
    await using official = await startOfficialApp({ name: "org/ns/official", url: node.url });
    await using app = await createApp({ name: "org/ns/ours", secret: DEFAULT_SECRET, connect: node.url });
    await official.route("org/ns/ours");
    const accepted = official.listen({ timeoutMs: 30_000 });
    const session: P2PSession = await app.createSession({ type: "p2p", peer: "org/ns/official" }, { reliable: { intervalMs: 150, maxRetries: 3 } });
    await accepted;
    const events = session.events()[Symbol.asyncIterator]();
    const messages = reader(session);

    for (const text of ["one", "two", "three", "four", "five"]) await official.publish({ text, wait: false });
    expect((await messages.take(4, 15_000)).map((m) => m.text())).toEqual(["one", "two", "four", "five"]);
    const lost = await nextMatching(events, (e: ParticipantEvent) => e.type === "lost", 15_000, "lost event");
    expect(lost.participant.withoutId().toString()).toBe("org/ns/official");
    expect(lost.messageId).toBe(killed);
  });
});
