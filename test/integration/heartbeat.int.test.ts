// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// p2p heartbeats: an idle session stays up on heartbeats alone; a peer that
// vanishes without a word (its link cut) is declared gone after three silent
// intervals, and the app sees a SESSION error instead of a hang.

import { randomBytes } from "node:crypto";
import { createApp, SlimError } from "@slim-ts/core";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";

const secret = randomBytes(32).toString("hex");

describe("p2p heartbeats", () => {
  it("keeps an idle session alive, then reports a vanished peer", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    await using a = await createApp({ name: "org/hb/a", secret, connect: node.url, heartbeatIntervalMs: 100 });
    const b = await createApp({ name: "org/hb/b", secret, connect: node.url, heartbeatIntervalMs: 100 });
    const accepted = b.listen()[Symbol.asyncIterator]().next();
    const session = await a.createSession({ type: "p2p", peer: "org/hb/b" });
    const peer = (await accepted).value!;
    const reading = (async () => {
      try {
        for await (const _m of session) {
          // nothing is sent in this test
        }
        return undefined;
      } catch (err) {
        return err as SlimError;
      }
    })();
    // a second of silence: ten heartbeat intervals, and the session is still up
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await Promise.race([session.closed.then(() => "closed"), Promise.resolve("open")])).toBe("open");
    await session.publish(new TextEncoder().encode("still there"));
    const got = await peer[Symbol.asyncIterator]().next();
    expect(new TextDecoder().decode(got.value!.payload)).toBe("still there");

    // cut b off without any goodbye: its link goes, its process state stays
    (b as unknown as { link: { close(): void } }).link.close();
    const t0 = Date.now();
    const err = await reading;
    expect(err).toBeInstanceOf(SlimError);
    expect(err!.code).toBe("SESSION");
    expect(err!.message).toContain("participant disconnected");
    expect(Date.now() - t0).toBeLessThan(1_500);
    await expect(session.publish(new Uint8Array(1))).rejects.toMatchObject({ code: "SESSION" });
    await b.close();
  });
});

describe("local send failures", () => {
  it("a session to a name the local datapath cannot route fails at once, not after its retries", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    await using app = await createApp({ name: "org/hb/local", secret, processor: node.processor });
    const t0 = Date.now();
    const err = await app.createSession({ type: "p2p", peer: "org/hb/nobody" }).catch((e: unknown) => e as SlimError);
    expect(err).toBeInstanceOf(SlimError);
    expect((err as SlimError).message).toContain("no route");
    expect(Date.now() - t0).toBeLessThan(500); // the control retries alone would take 11 s
  });
});
