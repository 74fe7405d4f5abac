// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Mixed topologies: our node peered with an official node, and our own clients
// (core datapath + gRPC link) talking through an official node.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Name } from "@slim-ts/core";
import { proto } from "@slim-ts/core/internal";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";
import { startOfficialApp, startOfficialNode } from "../helpers/official/index.js";
import { mlsP2pBothWays } from "../helpers/sessions.js";
import { tsClient } from "../helpers/ts-clients.js";
import { waitFor } from "../helpers/wait.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

describe("slim-ts node peered with an official node", () => {
  it("p2p MLS session from an app on our node to an app on the official node crosses both", async () => {
    await using official = await startOfficialNode();
    await using ours = await startNode({ listen: "127.0.0.1:0" });
    const peer = await ours.link(official.url);
    await using alice = await startOfficialApp({ name: "org/ns/alice", url: ours.url });
    await using bob = await startOfficialApp({ name: "org/ns/bob", url: official.url });
    // bob's subscription reaches our node through the peer link's route sync
    await waitFor(() => ours.status().subscriptions.some((s) => s.name === "org/ns/bob" && s.conn === peer.id), "bob's route");

    await mlsP2pBothWays(alice, bob, 20);

    const link = ours.status().connections.find((c) => c.id === peer.id)!;
    expect(link.kind).toBe("peer");
    expect(link.counters.msgsIn).toBeGreaterThan(20);
    expect(link.counters.msgsOut).toBeGreaterThan(20);
  });
});

describe("slim-ts clients through an official node", () => {
  it("two of our clients exchange messages with valid header MACs both ways", async () => {
    await using official = await startOfficialNode();
    const a = await tsClient(official.url, "alpha");
    const b = await tsClient(official.url, "beta");
    await a.ep.route(new Name("org", "ts", "beta"), a.up.id);
    // a specific instance id never matches a route for "any instance": route the exact name too
    await a.ep.route(b.ep.name, a.up.id);
    try {
      const got: string[] = [];
      const reader = (async () => {
        for await (const m of b.ep.messages()) {
          if (m.messageType.case !== "publish") continue;
          const c = m.messageType.value.msg?.contentType;
          if (c?.case === "appPayload") got.push(dec.decode(c.value.blob));
          if (got.length === 50) break;
        }
      })();
      // any instance of beta, then the exact instance
      for (let i = 0; i < 25; i++) a.ep.publish(new Name("org", "ts", "beta"), enc.encode(`m-${i}`));
      for (let i = 25; i < 50; i++) a.ep.publish(b.ep.name, enc.encode(`m-${i}`));
      await Promise.race([reader, new Promise((_, rej) => setTimeout(() => rej(new Error("timeout")), 10_000))]);
      expect(got).toEqual(Array.from({ length: 50 }, (_, i) => `m-${i}`));
      // every message on the wire to us was MAC-verified: none dropped for a bad or missing MAC
      expect(b.up.link.info.mac).toBe(true);
      expect(b.up.link.counters.dropped).toEqual({});
      expect(a.ep.takeErrors()).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe("slim-ts node linked to an official node over TLS", () => {
  const fixture = (f: string) => fileURLToPath(new URL(`../fixtures/tls/${f}`, import.meta.url));
  it("our node dials the official node's TLS 1.3 port (its certificate verified) and a p2p session crosses the link", async () => {
    await using official = await startOfficialNode({ tls: { certFile: fixture("server.pem"), keyFile: fixture("server.key") } });
    expect(official.url.startsWith("https://")).toBe(true);
    await using ours = await startNode({ listen: "127.0.0.1:0" });
    const peer = await ours.link(official.url, { tls: { ca: readFileSync(fixture("ca.pem")) } });
    await using alice = await startOfficialApp({ name: "org/ns/tls-alice", url: ours.url });
    await using bob = await startOfficialApp({ name: "org/ns/tls-bob", url: official.url, tlsCaFile: fixture("ca.pem") });
    await waitFor(() => ours.status().subscriptions.some((s) => s.name === "org/ns/tls-bob" && s.conn === peer.id), "bob's route");
    await mlsP2pBothWays(alice, bob, 10);
    const link = ours.status().connections.find((c) => c.id === peer.id)!;
    expect(link.mac).toBe(true);
  });
});

describe("our client's link to an official node that restarts", () => {
  it("reconnects with the same link id, replays its subscription, and an official app on the new node reaches it", async () => {
    const first = await startOfficialNode();
    const port = first.port;
    const bob = await tsClient(first.url, "bob");
    const linkId = bob.up.link.info.linkId;
    try {
      await first.close();
      await waitFor(() => !bob.up.link.isUp, "link down");
      await using second = await startOfficialNode({ port });
      await waitFor(() => bob.up.link.isUp, "link up again", 15_000);
      expect(bob.up.link.info.linkId).toBe(linkId);
      await using alice = await startOfficialApp({ name: "org/ns/alice", url: second.url });
      await alice.route("org/ts/bob");
      const reader = (async () => {
        for await (const m of bob.ep.messages()) {
          if (m.messageType.case !== "publish") continue;
          // the official app opens a p2p session: its first message is a discovery request
          return m.messageType.value.session?.sessionMessageType;
        }
        return undefined;
      })();
      const creating = alice.create({ type: "p2p", peer: "org/ts/bob", mls: false, maxRetries: 1, intervalMs: 500 }).catch(() => undefined);
      const arrived = await Promise.race([reader, new Promise<undefined>((r) => setTimeout(() => r(undefined), 10_000))]);
      // bob's replayed subscription made it reachable: the official app's session setup arrived
      expect(arrived).toBe(proto.SessionMessageType.DISCOVERY_REQUEST);
      await creating;
    } finally {
      await bob.close();
    }
  });
});
