// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Our node with our clients: TLS and mTLS, reconnect with subscription replay,
// two of our nodes peered together.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Endpoint, Name, SlimError } from "@slim-ts/core";
import { DialedLink, MessageProcessor, headerOf, newHeader, proto, subscribeMessage, toProtoName } from "@slim-ts/core/internal";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";
import { RawLink } from "../helpers/raw-link.js";
import { conversation, tsClient } from "../helpers/ts-clients.js";
import { waitFor } from "../helpers/wait.js";

const tls = (f: string) => fileURLToPath(new URL(`../fixtures/tls/${f}`, import.meta.url));
const pem = (f: string) => readFileSync(tls(f));
const enc = new TextEncoder();

describe("TLS", () => {
  it("serves TLS; a client trusting the CA talks, one that does not is refused", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0", tls: { cert: tls("server.pem"), key: tls("server.key") } });
    expect(node.url.startsWith("https://")).toBe(true);
    const p = new MessageProcessor();
    const link = await DialedLink.connect(p, node.url, { tls: { ca: pem("ca.pem") } });
    expect(link.link.isUp).toBe(true);
    link.close();
    const q = new MessageProcessor();
    await expect(DialedLink.connect(q, node.url, { connectTimeoutMs: 1_500 })).rejects.toMatchObject({ code: "TIMEOUT" });
    p.close();
    q.close();
  });

  it("mTLS: a client certificate signed by the CA is required", async () => {
    await using node = await startNode({
      listen: "127.0.0.1:0",
      tls: { cert: tls("server.pem"), key: tls("server.key"), ca: tls("ca.pem") },
    });
    const p = new MessageProcessor();
    await expect(DialedLink.connect(p, node.url, { tls: { ca: pem("ca.pem") }, connectTimeoutMs: 1_500 })).rejects.toBeInstanceOf(SlimError);
    const ok = await DialedLink.connect(p, node.url, { tls: { ca: pem("ca.pem"), cert: pem("client.pem"), key: pem("client.key") } });
    expect(ok.link.info.mac).toBe(true);
    ok.close();
    p.close();
  });
});

describe("reconnect", () => {
  it("a client reconnects with the same link id after the node restarts and its subscription is replayed", async () => {
    const first = await startNode({ listen: "127.0.0.1:0" });
    const address = first.address;
    const bob = await tsClient(first.url, "bob");
    const linkId = bob.up.link.info.linkId;
    await first.close();
    await expect.poll(() => bob.up.link.isUp, { timeout: 5_000 }).toBe(false);

    await using second = await startNode({ listen: address });
    await expect.poll(() => bob.up.link.isUp, { timeout: 10_000 }).toBe(true);
    expect(bob.up.link.info.linkId).toBe(linkId);
    // the replayed subscription makes bob reachable on the new node
    await expect
      .poll(() => second.status().subscriptions.some((s) => s.name === bob.ep.name.components.join("/")), { timeout: 5_000 })
      .toBe(true);
    const alice = await tsClient(second.url, "alice");
    await alice.ep.route(bob.ep.name, alice.up.id);
    alice.ep.publish(bob.ep.name, enc.encode("after restart"));
    const it = bob.ep.messages()[Symbol.asyncIterator]();
    const m = await it.next();
    expect(m.done).toBe(false);
    await alice.close();
    await bob.close();
  });
});

describe("two slim-ts nodes peered", () => {
  it("routes learned over the peer link carry a conversation across both nodes, in order", async () => {
    await using a = await startNode({ listen: "127.0.0.1:0" });
    await using b = await startNode({ listen: "127.0.0.1:0", links: [{ url: a.url }] });
    const left = await tsClient(a.url, "left");
    const right = await tsClient(b.url, "right");
    // right's name reaches node a through the peer sync
    await expect.poll(() => a.status().subscriptions.some((s) => s.name === right.ep.name.components.join("/")), { timeout: 5_000 }).toBe(true);
    await left.ep.route(right.ep.name, left.up.id);
    const got: number[] = [];
    const reading = (async () => {
      for await (const m of right.ep.messages()) {
        if (m.messageType.case === "publish") got.push(m.messageType.value.header!.ttl);
        if (got.length === 100) break;
      }
    })();
    for (let i = 0; i < 100; i++) left.ep.publish(right.ep.name, enc.encode(`x${i}`));
    await Promise.race([reading, new Promise((_, r) => setTimeout(() => r(new Error("timeout")), 5_000))]);
    // one decrement per node-to-node hop: client->a (7), a->b (6), b->client (5)
    expect(new Set(got)).toEqual(new Set([5]));
    const peerLink = b.status().connections.find((c) => c.kind === "peer");
    expect(peerLink?.role).toBe("dialer");
    await left.close();
    await right.close();
  });

  it("a conversation through one node keeps going while a peer node comes and goes", async () => {
    await using a = await startNode({ listen: "127.0.0.1:0" });
    const talk = await conversation(a.url);
    for (let round = 0; round < 3; round++) {
      const b = await startNode({ listen: "127.0.0.1:0", links: [{ url: a.url }] });
      talk.send(100);
      await b.close();
    }
    talk.send(100);
    await talk.check();
    await talk.close();
  });
});

describe("keepalive", () => {
  it("frequent HTTP/2 pings from the node leave a busy link up and its conversation intact", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0", keepalive: { timeMs: 30, timeoutMs: 2_000 } });
    const talk = await conversation(node.url);
    for (let i = 0; i < 10; i++) {
      talk.send(20);
      await new Promise((r) => setTimeout(r, 40));
    }
    await talk.check();
    expect(node.status().connections.every((c) => c.kind === "edge")).toBe(true);
    expect(node.status().connections).toHaveLength(2);
    await talk.close();
  });
});

describe("in-process apps on an embedded node", () => {
  it("local endpoints on the node's own datapath exchange messages without serialization", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    const a = new Endpoint(node.processor, { name: Name.parse("org/local/a").withId(1n) });
    const b = new Endpoint(node.processor, { name: Name.parse("org/local/b").withId(2n) });
    await b.subscribe(b.name);
    a.publish(b.name, enc.encode("hi"));
    const got = b.drain();
    expect(got).toHaveLength(1);
    await a.close();
    await b.close();
  });
});

describe("fanout through the node", () => {
  it("one publish reaches every subscriber of a channel on its own link: payloads exact, each MAC valid for its link, unsigned on a key-less link", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0", lenient: true });
    const room = Name.parse("org/fan/room");
    const subs = await Promise.all([0, 1, 2].map((i) => tsClient(node.url, `sub${i}`)));
    for (const s of subs) await s.ep.subscribe(room, { via: s.up.id });
    const raw = new RawLink(node.url);
    await raw.negotiate(2_000, false);
    raw.write(subscribeMessage(newHeader(toProtoName(room), toProtoName(room)), 9n, true));
    await raw.waitFor((m) => m.messageType.case === "subscriptionAck");
    const pub = await tsClient(node.url, "pub");
    await pub.ep.route(room, pub.up.id);
    await waitFor(() => node.status().connections.length === 5, "5 links");
    try {
      const sizes = [10, 1_000, 20_000, 64, 15_990, 3];
      const payloads = sizes.map((n, i) => Buffer.from(Array.from({ length: n }, (_, k) => (k * 7 + i) & 0xff)));
      for (const p of payloads) pub.ep.publish(room, p, { fanout: 256 });
      const blob = (m: proto.ProtoMessage) =>
        m.messageType.case === "publish" && m.messageType.value.msg?.contentType.case === "appPayload" ? Buffer.from(m.messageType.value.msg.contentType.value.blob) : undefined;
      for (const s of subs) {
        const got: Buffer[] = [];
        await waitFor(() => (got.push(...s.ep.drain().map(blob).filter((b) => b !== undefined)), got.length >= sizes.length), "deliveries");
        expect(got.map((b, i) => b.equals(payloads[i]!))).toEqual(sizes.map(() => true));
        // every copy passed this client's strict MAC check (a wrong MAC is dropped and counted)
        expect(s.up.link.counters.dropped).toEqual({});
      }
      await waitFor(() => raw.received.filter((m) => m.messageType.case === "publish").length >= sizes.length, "raw deliveries");
      const rawPubs = raw.received.filter((m) => m.messageType.case === "publish");
      expect(rawPubs.map((m) => blob(m)!.equals(payloads[rawPubs.indexOf(m)]!))).toEqual(sizes.map(() => true));
      expect(rawPubs.every((m) => headerOf(m)!.headerMac === undefined)).toBe(true);
      expect(node.status().dropped).toEqual({});
    } finally {
      raw.close();
      for (const c of [...subs, pub]) await c.close();
    }
  });
});
