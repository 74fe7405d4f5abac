// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// MLS end to end (header integrity checked on every message) in point-to-point
// sessions between our apps and official apps, both directions, through our node
// and through an official node; and between two of our apps through our node,
// which must never see a payload in clear.

import { createApp, type P2PSession } from "@slim-ts/core";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";
import { DEFAULT_SECRET, startOfficialApp } from "../helpers/official/index.js";
import { bothNodes } from "../helpers/nodes.js";
import { reader, texts } from "../helpers/sessions.js";

const enc = new TextEncoder();
const RELIABLE = { intervalMs: 1_000, maxRetries: 5 };
const N = 20;
const seq = (who: string) => Array.from({ length: N }, (_, i) => `${who}-${i}`);

for (const [where, makeNode] of Object.entries(bothNodes)) {
  describe(`MLS p2p sessions with official apps through ${where}`, () => {
    it("our app opens an MLS session to an official app: 20 messages each way, in order", async () => {
      await using node = await makeNode();
      await using official = await startOfficialApp({ name: "org/ns/official", url: node.url });
      await using app = await createApp({ name: "org/ns/ours", secret: DEFAULT_SECRET, connect: node.url });
      await official.route("org/ns/ours");
      const accepted = official.listen({ timeoutMs: 20_000 });
      const session = await app.createSession({ type: "p2p", peer: "org/ns/official" }, { reliable: RELIABLE, mls: true });
      const info = await accepted;
      expect(info.mls).toBe(true);
      for (const t of seq("ours")) await session.publish(enc.encode(t), { payloadType: "text/plain" });
      const got = await official.recv({ n: N, timeoutMs: 10_000 });
      expect(texts(got)).toEqual(seq("ours"));
      expect("error" in got[0]! ? "" : got[0]!.payloadType).toBe("text/plain");
      for (const t of seq("theirs")) await official.publish({ text: t, wait: true });
      expect((await reader(session).take(N)).map((m) => m.text())).toEqual(seq("theirs"));
      await session.close();
    });

    it("an official app opens an MLS session to ours: 20 messages each way, in order", async () => {
      await using node = await makeNode();
      await using official = await startOfficialApp({ name: "org/ns/official", url: node.url });
      await using app = await createApp({ name: "org/ns/ours", secret: DEFAULT_SECRET, connect: node.url });
      await official.route("org/ns/ours");
      const incoming = app.listen({ kind: "p2p" })[Symbol.asyncIterator]().next();
      await official.create({ type: "p2p", peer: "org/ns/ours", mls: true, maxRetries: RELIABLE.maxRetries, intervalMs: RELIABLE.intervalMs });
      const r = await incoming;
      const session = r.value as P2PSession;
      expect(session.mls).toBeDefined();
      for (const t of seq("theirs")) await official.publish({ text: t, wait: true });
      const rd = reader(session);
      expect((await rd.take(N)).map((m) => m.text())).toEqual(seq("theirs"));
      for (const t of seq("ours")) await session.publish(enc.encode(t));
      expect(texts(await official.recv({ n: N, timeoutMs: 10_000 }))).toEqual(seq("ours"));
    });
  });
}

describe("MLS between our apps", () => {
  it("the relay routes only ciphertext: no payload crosses our node in clear", async () => {
    const seen: Uint8Array[] = [];
    await using node = await startNode(
      { listen: "127.0.0.1:0" },
      {
        tap: (_m, p) => {
          const c = p.msg?.contentType;
          if (c?.case === "appPayload" && c.value.blob.length > 0) seen.push(c.value.blob.slice());
        },
      },
    );
    await using a = await createApp({ name: "org/ns/a", secret: DEFAULT_SECRET, connect: node.url });
    await using b = await createApp({ name: "org/ns/b", secret: DEFAULT_SECRET, connect: node.url });
    const incoming = b.listen({ kind: "p2p" })[Symbol.asyncIterator]().next();
    const sa = await a.createSession({ type: "p2p", peer: "org/ns/b" }, { reliable: RELIABLE, mls: true });
    const sb = (await incoming).value as P2PSession;
    const secret = "the-secret-plan-";
    for (let i = 0; i < 10; i++) await sa.publish(enc.encode(`${secret}${i}`));
    expect((await reader(sb).take(10)).map((m) => m.text())).toEqual(Array.from({ length: 10 }, (_, i) => `${secret}${i}`));
    await sb.publish(enc.encode(`${secret}reply`));
    expect((await reader(sa).take(1)).map((m) => m.text())).toEqual([`${secret}reply`]);
    const marker = Buffer.from(secret);
    expect(seen.length).toBeGreaterThanOrEqual(11);
    expect(seen.filter((blob) => Buffer.from(blob).includes(marker))).toEqual([]);
  });
});
