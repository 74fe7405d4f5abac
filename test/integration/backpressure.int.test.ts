// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A slow receiver behind our node: the node pushes back on the sender (HTTP/2
// flow control) instead of dropping once its buffer towards the receiver fills.

import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";
import { tsClient } from "../helpers/ts-clients.js";

describe("backpressure through a node", () => {
  it("delivers every message of a burst far larger than the node's buffers to a slow reader", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    const tx = await tsClient(node.url, "tx");
    const rx = await tsClient(node.url, "rx", { maxPending: 100_000 });
    await tx.ep.route(rx.ep.name, tx.up.id);
    const N = 60_000;
    const payload = new Uint8Array(1024); // 60 MiB in total, beyond the 32 MiB hard cap
    let got = 0;
    // the receiver stops reading its socket for 1.5 s: everything piles up at the node
    rx.up.link.setReading(false);
    const resume = setTimeout(() => rx.up.link.setReading(true), 1_500);
    const reading = (async () => {
      for await (const _m of rx.ep.messages()) {
        got++;
        if (got === N) break;
      }
    })();
    const link = tx.up.link as unknown as { stream?: { bufferedBytes: number } };
    for (let i = 0; i < N; i++) {
      tx.ep.publish(rx.ep.name, payload);
      if (i % 256 === 255) {
        await new Promise((r) => setImmediate(r));
        while ((link.stream?.bufferedBytes ?? 0) > 1 << 20) await new Promise((r) => setTimeout(r, 1));
      }
    }
    await Promise.race([reading, new Promise((_, rej) => setTimeout(() => rej(new Error(`only ${got}/${N} arrived`)), 25_000))]);
    clearTimeout(resume);
    expect(got).toBe(N);
    expect(node.status().dropped).toEqual({});
    await tx.close();
    await rx.close();
  });
});
