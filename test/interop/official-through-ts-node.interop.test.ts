// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Official apps (each in its own process, @agntcy/slim-bindings) run their
// sessions through our node: the node must speak the official wire exactly.

import { fileURLToPath } from "node:url";
import { startNode, type SlimNode } from "@slim-ts/node-embedded";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOfficialApp, type OfficialApp, type Received } from "../helpers/official/index.js";
import { mlsP2pBothWays, texts } from "../helpers/sessions.js";



describe("official apps through a slim-ts node", () => {
  let node: SlimNode;
  const apps: OfficialApp[] = [];
  beforeAll(async () => {
    node = await startNode({ listen: "127.0.0.1:0" });
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await node?.close();
  });

  it("p2p session with MLS, 20 messages each way, in order", async () => {
    const [alice, bob] = await Promise.all([
      startOfficialApp({ name: "org/ns/alice", url: node.url }),
      startOfficialApp({ name: "org/ns/bob", url: node.url }),
    ]);
    apps.push(alice, bob);
    await alice.route("org/ns/bob");
    const listening = bob.listen({ timeoutMs: 20_000 });
    const created = await alice.create({ type: "p2p", peer: "org/ns/bob", mls: true });
    const accepted = await listening;
    expect(accepted.mls).toBe(true);
    expect(accepted.sessionId).toBe(created.sessionId);

    for (let i = 0; i < 20; i++) await alice.publish({ text: `a-${i}`, wait: false });
    const atBob = await bob.recv({ n: 20, timeoutMs: 15_000 });
    expect(texts(atBob)).toEqual(Array.from({ length: 20 }, (_, i) => `a-${i}`));
    expect((atBob[0] as Received).from).toBe("org/ns/alice");

    for (let i = 0; i < 20; i++) await bob.publish({ text: `b-${i}`, wait: false });
    const atAlice = await alice.recv({ n: 20, timeoutMs: 15_000 });
    expect(texts(atAlice)).toEqual(Array.from({ length: 20 }, (_, i) => `b-${i}`));

    const st = node.status();
    expect(st.dropped.mac_invalid ?? 0).toBe(0);
    expect(st.dropped.mac_missing ?? 0).toBe(0);
    expect(st.routed).toBeGreaterThanOrEqual(40);
  });

  it("MLS group: moderator and two participants hear everyone; a removed member hears nothing more", async () => {
    const [mod, p1, p2] = await Promise.all([
      startOfficialApp({ name: "org/ns/moderator", url: node.url }),
      startOfficialApp({ name: "org/ns/member1", url: node.url }),
      startOfficialApp({ name: "org/ns/member2", url: node.url }),
    ]);
    apps.push(mod, p1, p2);
    await mod.route("org/ns/member1");
    await mod.route("org/ns/member2");
    await mod.create({ type: "group", channel: "org/ns/room", mls: true, maxRetries: 5, intervalMs: 1000 });
    const l1 = p1.listen({ timeoutMs: 20_000 });
    await mod.invite("org/ns/member1");
    await l1;
    const l2 = p2.listen({ timeoutMs: 20_000 });
    await mod.invite("org/ns/member2");
    await l2;

    await mod.publish({ text: "from-mod", wait: true });
    await p1.publish({ text: "from-1", wait: true });
    await p2.publish({ text: "from-2", wait: true });
    const sorted = async (a: OfficialApp) => texts(await a.recv({ n: 2, timeoutMs: 10_000 })).sort();
    const [atMod, at1, at2] = await Promise.all([sorted(mod), sorted(p1), sorted(p2)]);
    expect(atMod).toEqual(["from-1", "from-2"]);
    expect(at1).toEqual(["from-2", "from-mod"]);
    expect(at2).toEqual(["from-1", "from-mod"]);

    await mod.remove("org/ns/member2");
    await mod.publish({ text: "after-remove", wait: true });
    expect(texts(await p1.recv({ n: 1, timeoutMs: 10_000 }))).toEqual(["after-remove"]);
    const late = await p2.recv({ n: 1, timeoutMs: 1_500 });
    expect(late.every((m) => "error" in m)).toBe(true);
    expect(node.status().dropped.mac_invalid ?? 0).toBe(0);
  });
});

describe("official apps through a slim-ts node over TLS", () => {
  const fixture = (f: string) => fileURLToPath(new URL(`../fixtures/tls/${f}`, import.meta.url));
  let node: SlimNode;
  const apps: OfficialApp[] = [];
  beforeAll(async () => {
    node = await startNode({ listen: "127.0.0.1:0", tls: { cert: fixture("server.pem"), key: fixture("server.key") } });
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await node?.close();
  });

  it("connect with TLS 1.3 (the node's certificate verified against the test CA) and run an MLS p2p session both ways", async () => {
    expect(node.url.startsWith("https://")).toBe(true);
    const [alice, bob] = await Promise.all([
      startOfficialApp({ name: "org/ns/tls-alice", url: node.url, tlsCaFile: fixture("ca.pem") }),
      startOfficialApp({ name: "org/ns/tls-bob", url: node.url, tlsCaFile: fixture("ca.pem") }),
    ]);
    apps.push(alice, bob);
    await mlsP2pBothWays(alice, bob, 10);
    expect(node.status().connections.filter((c) => c.kind === "edge")).toHaveLength(2);
  });
});
