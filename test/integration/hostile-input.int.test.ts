// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Hostile and broken peers against our node. Each case checks that the node
// stays up, the offender is cut off or its message dropped with a counted
// reason, and that a conversation between two other clients is undisturbed.

import { startNode, type SlimNode } from "@slim-ts/node-embedded";
import { Name } from "@slim-ts/core";
import { newHeader, proto, subscribeMessage, toProtoName } from "@slim-ts/core/internal";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RawLink } from "../helpers/raw-link.js";
import { conversation } from "../helpers/ts-clients.js";

let node: SlimNode;
let talk: Awaited<ReturnType<typeof conversation>>;
const raws: RawLink[] = [];

beforeAll(async () => {
  node = await startNode({ listen: "127.0.0.1:0", limits: { negotiationTimeoutMs: 1_000 } });
  talk = await conversation(node.url);
});
afterEach(async () => {
  for (const r of raws.splice(0)) r.close();
  // the bystanders' conversation goes on through every case
  talk.send(50);
  await talk.check();
});
afterAll(async () => {
  await talk?.close();
  await node?.close();
});

const open = (): RawLink => {
  const r = new RawLink(node.url);
  raws.push(r);
  return r;
};
const dropped = (reason: string): number => node.status().dropped[reason] ?? 0;
const victim = () => toProtoName(talk.bob.ep.name);

function publishTo(dst: proto.ProtoName, text: string, src = Name.parse("org/ns/mallory")): proto.ProtoMessage {
  return {
    messageType: {
      case: "publish",
      value: {
        header: newHeader(toProtoName(src), dst),
        session: { sessionType: 1, sessionMessageType: 1, sessionId: 9, messageId: 1 },
        msg: { contentType: { case: "appPayload", value: { payloadType: "msg", blob: new TextEncoder().encode(text) } } },
      },
    },
    metadata: new Map(),
  };
}

describe("hostile input against a slim-ts node", () => {
  it("a publish before the link message closes that stream only", async () => {
    talk.send(20);
    const r = open();
    r.write(publishTo(victim(), "too-early"));
    expect(await r.waitEnded()).toBe(true);
    expect(talk.got).not.toContain("too-early");
  });

  it("a stream that never negotiates is closed after the negotiation timeout", async () => {
    const r = open();
    expect(await r.waitEnded(3_000)).toBe(true);
  });

  it("garbage as the first frame closes the stream; garbage after negotiation is dropped and counted", async () => {
    const first = open();
    first.writeBytes(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]));
    expect(await first.waitEnded()).toBe(true);

    const r = open();
    await r.negotiate();
    const before = dropped("decode");
    r.writeBytes(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    r.writeBytes(new Uint8Array([0x1a, 0x05, 0x0a, 0x03]));
    await expect.poll(() => dropped("decode"), { timeout: 3_000 }).toBe(before + 2);
    // the link survives and still works
    r.writeSigned(subscribeMessage(newHeader(toProtoName(Name.parse("org/ns/m1")), toProtoName(Name.parse("org/ns/m1"))), 5n, true));
    await r.waitFor((m) => m.messageType.case === "subscriptionAck");
    expect(r.ended).toBe(false);
  });

  it("a Subscribe without str_name is refused with a failed ack and counted", async () => {
    const r = open();
    await r.negotiate();
    const dst = toProtoName(Name.parse("org/ns/nostr"));
    delete dst.strName;
    const before = dropped("invalid");
    r.writeSigned(subscribeMessage(newHeader(dst, dst), 0n, true));
    await expect.poll(() => dropped("invalid"), { timeout: 3_000 }).toBe(before + 1);
    expect(node.status().subscriptions.some((s) => s.name.includes("nostr"))).toBe(false);
  });

  it("a 5 MiB message is refused: that link is closed, the node stays up", async () => {
    const r = open();
    await r.negotiate();
    const big = publishTo(victim(), "x".repeat(5 * 1024 * 1024));
    r.writeSigned(big);
    expect(await r.waitEnded()).toBe(true);
    expect(talk.got.some((t) => t.length > 1000)).toBe(false);
  });

  it("a forged or missing header MAC is dropped with its reason; the link stays up", async () => {
    const r = open();
    await r.negotiate();
    const beforeBad = dropped("mac_invalid");
    const beforeMissing = dropped("mac_missing");
    const forged = publishTo(victim(), "forged");
    r.writeSigned(forged);
    const h = forged.messageType.case === "publish" ? forged.messageType.value.header! : undefined;
    h!.headerMac![0]! ^= 1;
    r.write(forged);
    const unsigned = publishTo(victim(), "unsigned");
    r.write(unsigned);
    await expect.poll(() => dropped("mac_invalid"), { timeout: 3_000 }).toBe(beforeBad + 1);
    await expect.poll(() => dropped("mac_missing"), { timeout: 3_000 }).toBe(beforeMissing + 1);
    // the correctly signed copy (written first) went through; the forged and unsigned ones did not
    await expect.poll(() => talk.got.filter((t) => t === "forged").length, { timeout: 3_000 }).toBe(1);
    expect(talk.got).not.toContain("unsigned");
    expect(r.ended).toBe(false);
    talk.got.splice(talk.got.indexOf("forged"), 1);
  });

  it("200 KB name strings are refused", async () => {
    const r = open();
    await r.negotiate();
    const long = Name.parse("org/ns/long");
    const dst = toProtoName(long);
    dst.strName!.strComponent2 = "y".repeat(200_000);
    const before = dropped("invalid");
    r.writeSigned(subscribeMessage(newHeader(dst, dst), 77n, true));
    const ack = await r.waitFor((m) => m.messageType.case === "subscriptionAck", 3_000).catch(() => undefined);
    await expect.poll(() => dropped("invalid"), { timeout: 3_000 }).toBe(before + 1);
    expect(ack).toBeUndefined();
  });

  it("5 000 subscriptions on one link are served and all removed when it drops", async () => {
    const r = open();
    await r.negotiate();
    const base = node.status().subscriptions.length;
    for (let i = 1; i <= 5_000; i++) {
      const n = toProtoName(new Name("org", "flood", `s${i}`));
      r.writeSigned(subscribeMessage(newHeader(n, n), BigInt(i), true));
    }
    await expect.poll(() => r.received.filter((m) => m.messageType.case === "subscriptionAck").length, { timeout: 15_000 }).toBe(5_000);
    r.close();
    await expect.poll(() => node.status().connections.length, { timeout: 5_000 }).toBe(2);
    expect(node.status().subscriptions.length).toBe(base);
  });

  it("60 links opened and dropped leave the node with only the two healthy ones", async () => {
    const links = Array.from({ length: 60 }, () => open());
    await Promise.all(links.map((l) => l.negotiate()));
    expect(node.status().connections.length).toBe(62);
    for (const l of links) l.close();
    raws.splice(0);
    await expect.poll(() => node.status().connections.length, { timeout: 10_000 }).toBe(2);
  });
});
