// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A deliberately low-level client for hostile-input tests: it opens an
// OpenChannel stream and writes whatever bytes the test wants.

import * as grpc from "@grpc/grpc-js";
import { randomUUID } from "node:crypto";
import {
  OPEN_CHANNEL_PATH,
  computeHeaderMac,
  deriveLinkKey,
  generateLinkKeyPair,
  headerOf,
  linkMessage,
  negotiationPayload,
  proto,
} from "@slim-ts/core/internal";

const codec = {
  serialize: (b: Uint8Array): Buffer => Buffer.from(b),
  deserialize: (b: Buffer): Uint8Array => b,
};

/** Written with grpc-js on purpose: an independent gRPC implementation against our server. */
export class RawLink {
  readonly received: proto.ProtoMessage[] = [];
  ended = false;
  status: grpc.StatusObject | undefined;
  linkId = randomUUID();
  key: Uint8Array | undefined;
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<Uint8Array, Uint8Array>;
  private readonly keys = generateLinkKeyPair();

  constructor(url: string) {
    this.client = new grpc.Client(url.replace(/^https?:\/\//, ""), grpc.credentials.createInsecure(), {
      "grpc.max_send_message_length": -1,
    });
    this.call = this.client.makeBidiStreamRequest(OPEN_CHANNEL_PATH, codec.serialize, codec.deserialize, new grpc.Metadata());
    this.call.on("data", (b: Uint8Array) => {
      try {
        this.received.push(proto.decodeProtoMessage(b));
      } catch {
        /* the test decides what to do with junk */
      }
    });
    this.call.on("status", (s) => (this.status = s));
    this.call.on("end", () => (this.ended = true));
    this.call.on("error", () => (this.ended = true));
  }

  writeBytes(b: Uint8Array): void {
    this.call.write(b);
  }

  write(m: proto.ProtoMessage): void {
    this.call.write(proto.encodeProtoMessage(m));
  }

  /** Send a signed message (the MAC is computed over the header as given). */
  writeSigned(m: proto.ProtoMessage): void {
    const h = headerOf(m);
    if (h !== undefined && this.key !== undefined) h.headerMac = computeHeaderMac(this.key, h, this.linkId);
    this.write(m);
  }

  /** Negotiate as an EDGE dialer, with an X25519 key unless `withKey` is false; resolves when the reply arrived. */
  async negotiate(timeoutMs = 5_000, withKey = true): Promise<void> {
    const publicKey = withKey ? this.keys.publicKey : new Uint8Array(0);
    this.write(linkMessage(negotiationPayload({ linkId: this.linkId, isReply: false, publicKey, connectionType: 2, nodeId: "node-raw" })));
    const reply = await this.waitFor((m) => m.messageType.case === "link", timeoutMs);
    const t = reply.messageType;
    if (t.case !== "link" || t.value.linkType.case !== "linkNegotiation") throw new Error("no link reply");
    if (withKey) this.key = deriveLinkKey(this.keys.privateKey, t.value.linkType.value.linkEcdhPublicKey, this.linkId);
  }

  async waitFor(pred: (m: proto.ProtoMessage) => boolean, timeoutMs = 5_000): Promise<proto.ProtoMessage> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = this.received.find(pred);
      if (m !== undefined) return m;
      if (Date.now() > end) throw new Error("timed out waiting for a message");
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async waitEnded(timeoutMs = 7_000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!this.ended && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    return this.ended;
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}
