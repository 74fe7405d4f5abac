// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// What an MLS session refuses, between our apps through our node: ciphertext a
// relay tampered with (dropped, never delivered, never acked, so the sender's
// retransmission gets through), and a member whose identity token is signed
// with another secret (its key package is refused, the invitation fails).

import { createApp, SharedSecretProvider, SharedSecretVerifier, type GroupSession, type P2PSession } from "@slim-ts/core";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";
import { DEFAULT_SECRET } from "../helpers/official/index.js";
import { reader } from "../helpers/sessions.js";

const RELIABLE = { intervalMs: 200, maxRetries: 5 };
const enc = new TextEncoder();

describe("MLS rejections (our apps, our node)", () => {
  it("a tampered ciphertext is dropped by the receiver; the sender's retransmission arrives, once and in order", async () => {
    let tampered = 0;
    await using node = await startNode(
      { listen: "127.0.0.1:0" },
      {
        // flip one byte in the first two sealed messages that cross the relay
        tap: (_m, p) => {
          const c = p.msg?.contentType;
          if (c?.case === "appPayload" && c.value.blob.length > 100 && p.session?.sessionMessageType === 1 && tampered < 2) {
            const copy = c.value.blob.slice();
            copy[copy.length - 20]! ^= 0xff;
            c.value.blob = copy;
            tampered++;
          }
        },
      },
    );
    await using a = await createApp({ name: "org/ns/a", secret: DEFAULT_SECRET, connect: node.url });
    await using b = await createApp({ name: "org/ns/b", secret: DEFAULT_SECRET, connect: node.url });
    const incoming = b.listen({ kind: "p2p" })[Symbol.asyncIterator]().next();
    const sa = await a.createSession({ type: "p2p", peer: "org/ns/b" }, { reliable: RELIABLE, mls: true });
    const sb = (await incoming).value as P2PSession;
    const sent = ["one", "two", "three"];
    await Promise.all(sent.map((t) => sa.publish(enc.encode(t))));
    expect((await reader(sb).take(3, 5_000)).map((m) => m.text())).toEqual(sent);
    expect(tampered).toBe(2);
    const pipe = (sb as unknown as { pipe: { dropped: { undecryptable: number } } }).pipe;
    expect(pipe.dropped.undecryptable).toBe(2);
  });

  it("a member whose tokens are signed with another secret is refused: its join reply fails verification, the invitation fails", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    await using mod = await createApp({ name: "org/ns/mod", secret: DEFAULT_SECRET, connect: node.url });
    await using good = await createApp({ name: "org/ns/good", secret: DEFAULT_SECRET, connect: node.url });
    // the rogue accepts our tokens but signs its own (and its key package's) with another secret
    await using rogue = await createApp({
      name: "org/ns/rogue",
      provider: new SharedSecretProvider("org/ns/rogue", "a-completely-different-secret-of-32-bytes-or-more"),
      verifier: new SharedSecretVerifier(DEFAULT_SECRET),
      connect: node.url,
    });
    const group = await mod.createSession({ type: "group", channel: "org/ns/closed" }, { reliable: RELIABLE, mls: true });
    const gi = good.listen({ kind: "group" })[Symbol.asyncIterator]().next();
    await group.invite("org/ns/good");
    const gg = (await gi).value as GroupSession;
    const invited = group.invite("org/ns/rogue");
    await expect(invited).rejects.toThrow(/retries exhausted|MLS/);
    const pipe = (group as unknown as { pipe: { dropped: { unverified: number } } }).pipe;
    expect(pipe.dropped.unverified).toBeGreaterThan(0); // its JOIN_REPLY, every time it was sent
    expect(group.participants().map((n) => n.withoutId().toString()).sort()).toEqual(["org/ns/good", "org/ns/mod"]);
    await group.publish(enc.encode("members only"));
    expect((await reader(gg).take(1)).map((m) => m.text())).toEqual(["members only"]);
  }, 20_000);
});
