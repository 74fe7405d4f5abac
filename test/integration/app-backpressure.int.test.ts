// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// End-to-end flow control between apps: a session reader that falls far behind
// slows the sender down (its links pause, HTTP/2 flow control backs up through
// the node) instead of losing messages or failing with SLOW_CONSUMER.

import { randomBytes } from "node:crypto";
import { createApp } from "@slim-ts/core";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";

const secret = randomBytes(32).toString("hex");

describe("flow control between apps", () => {
  it("an unreliable burst of 60 000 x 1 KiB to a reader that starts late arrives complete, dropped nowhere", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    await using a = await createApp({ name: "org/fc/a", secret, connect: node.url });
    await using b = await createApp({ name: "org/fc/b", secret, connect: node.url });
    const accepted = b.listen()[Symbol.asyncIterator]().next();
    const session = await a.createSession({ type: "p2p", peer: "org/fc/b" });
    const peer = (await accepted).value!;
    const N = 60_000; // six times the session's unread limit, ~70 MiB on the wire: past every buffer cap
    const payload = new Uint8Array(1024);
    const sending = (async () => {
      for (let i = 0; i < N; i++) {
        await session.publish(payload);
        if (i % 256 === 255) await new Promise((r) => setImmediate(r));
      }
    })();
    await new Promise((r) => setTimeout(r, 1_500)); // the reader is busy elsewhere
    let got = 0;
    for await (const _m of peer) if (++got === N) break;
    await sending;
    expect(got).toBe(N);
    expect(node.status().dropped).toEqual({});
    // nor at the sender: released publishers did not overshoot its link
    expect((a as unknown as { link: { link: { counters: { dropped: object } } } }).link.link.counters.dropped).toEqual({});
  });
});
