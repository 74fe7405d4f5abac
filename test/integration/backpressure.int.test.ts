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

  it("a slow reader pauses only the links that send to it: another pair keeps talking through the same node meanwhile", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    const bulk = await tsClient(node.url, "bulk");
    const slow = await tsClient(node.url, "slow", { maxPending: 100_000 });
    const a = await tsClient(node.url, "a");
    const b = await tsClient(node.url, "b");
    await bulk.ep.route(slow.ep.name, bulk.up.id);
    await a.ep.route(b.ep.name, a.up.id);
    // the slow reader stops reading its socket: what bulk sends it piles up at the node
    slow.up.link.setReading(false);
    const N = 16_000;
    const payload = new Uint8Array(1024); // 16 MiB: far past the node's 4 MiB congestion mark
    const link = bulk.up.link as unknown as { stream?: { bufferedBytes: number } };
    let published = 0;
    for (let i = 0; i < N; i++) {
      bulk.ep.publish(slow.ep.name, payload);
      published++;
      if (i % 256 === 255) {
        await new Promise((r) => setImmediate(r));
        // bulk's own link backs up once the node stops reading it: wait, but not for ever
        for (let k = 0; k < 50 && (link.stream?.bufferedBytes ?? 0) > 8 << 20; k++) await new Promise((r) => setTimeout(r, 10));
        if ((link.stream?.bufferedBytes ?? 0) > 8 << 20) break;
      }
    }
    // the node stopped reading bulk's link (its output backs up at bulk), and its status says why
    expect(link.stream?.bufferedBytes ?? 0).toBeGreaterThan(1 << 20);
    const byRemote = (c: { remoteNodeId?: string }, client: { processor: { nodeId: string } }) => c.remoteNodeId === client.processor.nodeId;
    const st = node.status().connections;
    const toSlow = st.find((c) => byRemote(c, slow))!;
    expect(toSlow.congested).toBe(true);
    expect(st.find((c) => byRemote(c, bulk))!.waitingFor).toEqual([toSlow.id]);
    expect(st.find((c) => byRemote(c, a))!.waitingFor).toEqual([]);
    // while the node's link to the slow reader is congested, a and b still exchange messages
    let got = 0;
    const reading = (async () => {
      for await (const _m of b.ep.messages()) if (++got === 200) break;
    })();
    for (let i = 0; i < 200; i++) a.ep.publish(b.ep.name, new Uint8Array(64));
    await Promise.race([reading, new Promise((_, rej) => setTimeout(() => rej(new Error(`a -> b stalled behind the slow reader: ${got}/200`)), 5_000))]);
    expect(got).toBe(200);
    // the slow reader then gets everything bulk published, nothing dropped
    const sent = published;
    let slowGot = 0;
    slow.up.link.setReading(true);
    for await (const _m of slow.ep.messages()) if (++slowGot === sent) break;
    expect(slowGot).toBe(sent);
    expect(node.status().dropped).toEqual({});
    for (const c of [bulk, slow, a, b]) await c.close();
  });
});
