// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Point-to-point sessions between our app and an official app (MLS off), both
// directions, through our node and through an official node.

import { createApp, type P2PSession, type SessionMessage } from "@slim-ts/core";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";
import { DEFAULT_SECRET, startOfficialApp, startOfficialNode, type RecvItem } from "../helpers/official/index.js";
import { take, texts } from "../helpers/sessions.js";

const enc = new TextEncoder();
const dec = new TextDecoder();


const nodes = {
  "our node": async () => {
    const n = await startNode({ listen: "127.0.0.1:0" });
    return { url: n.url, close: () => n.close() };
  },
  "an official node": async () => {
    const n = await startOfficialNode();
    return { url: n.url, close: () => n.close() };
  },
};

for (const [where, makeNode] of Object.entries(nodes)) {
  for (const reliable of [undefined, { intervalMs: 1_000, maxRetries: 5 }]) {
    const mode = reliable === undefined ? "unreliable" : "reliable";
    describe(`p2p sessions through ${where} (${mode})`, () => {
      it("our app opens a session to an official app; messages flow both ways in order", async () => {
        const node = await makeNode();
        await using official = await startOfficialApp({ name: "org/ns/official", url: node.url });
        await using app = await createApp({ name: "org/ns/ours", secret: DEFAULT_SECRET, connect: node.url });
        await official.route("org/ns/ours");
        try {
          const accepted = official.listen({ timeoutMs: 20_000 });
          const session = await app.createSession({ type: "p2p", peer: "org/ns/official" }, { ...(reliable ? { reliable } : {}), metadata: { topic: "t1" } });
          const info = await accepted;
          expect(info.metadata).toEqual({ topic: "t1" });
          expect(info.maxRetries ?? undefined).toBe(reliable?.maxRetries);
          expect(session.peer.toString()).toBe(`org/ns/official/${official.appId}`);

          for (let i = 0; i < 20; i++) await session.publish(enc.encode(`ours-${i}`), { payloadType: "text/plain", metadata: { i: String(i) } });
          const got = await official.recv({ n: 20, timeoutMs: 10_000 });
          expect(texts(got)).toEqual(Array.from({ length: 20 }, (_, i) => `ours-${i}`));
          expect("error" in got[0]! ? "" : got[0]!.payloadType).toBe("text/plain");
          expect("error" in got[3]! ? {} : got[3]!.metadata).toEqual({ i: "3" });

          for (let i = 0; i < 20; i++) await official.publish({ text: `theirs-${i}`, wait: reliable !== undefined });
          const back = await take(session, 20);
          expect(back.map((m) => dec.decode(m.payload))).toEqual(Array.from({ length: 20 }, (_, i) => `theirs-${i}`));
          expect(back[0]!.source.toString()).toBe(`org/ns/official/${official.appId}`);

          await session.close();
          // the official side sees the session end
          const after = await official.recv({ n: 1, timeoutMs: 3_000 });
          expect("error" in after[0]!).toBe(true);
        } finally {
          await node.close();
        }
      });

      it("an official app opens a session to our app; we accept it from listen()", async () => {
        const node = await makeNode();
        await using official = await startOfficialApp({ name: "org/ns/official", url: node.url });
        await using app = await createApp({ name: "org/ns/ours", secret: DEFAULT_SECRET, connect: node.url });
        await official.route("org/ns/ours");
        try {
          const incoming = app.listen()[Symbol.asyncIterator]().next();
          const created = await official.create({ type: "p2p", peer: "org/ns/ours", ...(reliable ? { maxRetries: reliable.maxRetries, intervalMs: reliable.intervalMs } : {}), metadata: { k: "v" } });
          const { value: session } = await incoming;
          expect(session!.sessionId).toBe(created.sessionId);
          expect(session!.metadata).toEqual({ k: "v" });
          expect(session!.reliable).toEqual(reliable);

          for (let i = 0; i < 20; i++) await official.publish({ text: `theirs-${i}`, wait: reliable !== undefined });
          expect((await take(session!, 20)).map((m) => dec.decode(m.payload))).toEqual(Array.from({ length: 20 }, (_, i) => `theirs-${i}`));
          for (let i = 0; i < 20; i++) await session!.publish(enc.encode(`ours-${i}`));
          expect(texts(await official.recv({ n: 20, timeoutMs: 10_000 }))).toEqual(Array.from({ length: 20 }, (_, i) => `ours-${i}`));

          await official.closeSession();
          // our session ends cleanly when the initiator closes it
          await expect(Promise.race([session!.closed.then(() => "closed"), new Promise((r) => setTimeout(() => r("still open"), 5_000))])).resolves.toBe("closed");
        } finally {
          await node.close();
        }
      });
    });
  }
}
