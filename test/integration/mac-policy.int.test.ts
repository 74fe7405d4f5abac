// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Header MAC policy at link level: strict (default) and lenient nodes.

import { Name } from "@slim-ts/core";
import { newHeader, proto, subscribeMessage, toProtoName } from "@slim-ts/core/internal";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";
import { RawLink } from "../helpers/raw-link.js";

const subscribe = (svc: string, id: bigint) => {
  const n = toProtoName(Name.parse(`org/mac/${svc}`));
  return subscribeMessage(newHeader(n, n), id, true);
};

const publish = (svc: string, mac?: Uint8Array): proto.ProtoMessage => {
  const n = toProtoName(Name.parse(`org/mac/${svc}`));
  const header = newHeader(n, n);
  if (mac !== undefined) header.headerMac = mac;
  return {
    messageType: { case: "publish", value: { header, session: { sessionType: 1, sessionMessageType: 1, sessionId: 1, messageId: 1 } } },
    metadata: new Map(),
  };
};

describe("header MAC policy", () => {
  it("a strict node closes a link whose dialer offers no X25519 key", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    const r = new RawLink(node.url);
    try {
      await expect(r.negotiate(2_000, false)).rejects.toThrow();
      expect(await r.waitEnded()).toBe(true);
    } finally {
      r.close();
    }
  });

  it("a lenient node accepts a key-less dialer and its unsigned traffic, but not a publish carrying a MAC it cannot check", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0", lenient: true });
    const r = new RawLink(node.url);
    try {
      await r.negotiate(2_000, false);
      r.write(subscribe("plain", 3n));
      const ack = await r.waitFor((m) => m.messageType.case === "subscriptionAck");
      expect(ack.messageType.case === "subscriptionAck" && ack.messageType.value.success).toBe(true);
      expect(node.status().connections[0]?.mac).toBe(false);
      // a second key-less link receives what the first publishes, unsigned
      const sink = new RawLink(node.url);
      try {
        await sink.negotiate(2_000, false);
        sink.write(subscribe("target", 5n));
        await sink.waitFor((m) => m.messageType.case === "subscriptionAck");
        r.write(publish("target"));
        const got = await sink.waitFor((m) => m.messageType.case === "publish");
        expect(got.messageType.case === "publish" && got.messageType.value.header!.headerMac).toBeUndefined();
        // a publish carrying a MAC that this key-less link cannot check is dropped
        r.write(publish("target", new Uint8Array(32).fill(7)));
        await expect.poll(() => node.status().dropped.mac_invalid ?? 0, { timeout: 3_000 }).toBe(1);
      } finally {
        sink.close();
      }
    } finally {
      r.close();
    }
  });

  it("a lenient node still requires MACs on publishes from a dialer that did exchange keys", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0", lenient: true });
    const r = new RawLink(node.url);
    try {
      await r.negotiate();
      r.write(subscribe("unsigned", 4n)); // a Subscribe without a MAC is accepted on a lenient link
      await r.waitFor((m) => m.messageType.case === "subscriptionAck");
      expect(node.status().connections[0]?.mac).toBe(true);
      r.write(publish("unsigned")); // a Publish without one is not
      await expect.poll(() => node.status().dropped.mac_missing ?? 0, { timeout: 3_000 }).toBe(1);
    } finally {
      r.close();
    }
  });
});
