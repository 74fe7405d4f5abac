// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// One inter-node link over a byte stream (a gRPC OpenChannel call): negotiation,
// header MACs, bounded decode, counters. Transport-specific code (dialing,
// reconnecting, accepting) lives in grpc-client.ts and grpc-server.ts.

import type { MessageProcessor } from "../datapath/processor.js";
import { countDrop, newCounters, type Connection, type ConnectionInfo, type ConnectionKind, type DropReason } from "../datapath/types.js";
import { SlimError } from "../errors.js";
import { decodeProtoMessage, encodeProtoMessage, type ProtoMessage } from "../wire/gen/dataplane.js";
import { clear, headerOf } from "../wire/validate.js";
import { LINK_FRAMING_ROOM, type FrameStream } from "./frame-stream.js";
import type { SharedSend } from "./shared-send.js";
import { HeaderMacer, deriveLinkKey, generateLinkKeyPair, type LinkKeyPair } from "./header-mac.js";
import {
  NEGOTIATION_TIMEOUT_MS,
  connectionTypeOf,
  expectNegotiation,
  kindFromConnectionType,
  linkMessage,
  negotiationPayload,
  peerKeyOf,
} from "./negotiation.js";

export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
/** Above this much queued output the datapath stops reading from other links until it drains. */
export const CONGESTION_HIGH_BYTES = 4 * 1024 * 1024;
export const CONGESTION_LOW_BYTES = 1024 * 1024;

export interface LinkOptions {
  /** Require a header MAC on this link (default true, as the official nodes and clients). */
  strictMac: boolean;
  /** Outbound bytes buffered before messages are dropped with reason `backpressure`. */
  maxBufferedBytes?: number;
  negotiationTimeoutMs?: number;
}

export interface LinkEvents {
  /** Negotiation finished on a (new) stream. */
  up(link: Link): void;
  /** The stream ended or failed; `err` says why. */
  down(link: Link, err: SlimError): void;
}

type State = "idle" | "negotiating" | "up" | "closed";

export class Link implements Connection {
  kind: ConnectionKind;
  readonly counters = newCounters();
  readonly info: ConnectionInfo;
  private state: State = "idle";
  private stream: FrameStream | undefined;
  private keys: LinkKeyPair | undefined;
  private macKey: HeaderMacer | undefined;
  private negotiationTimer: NodeJS.Timeout | undefined;
  private readonly maxBuffered: number;
  private congested = false;

  constructor(
    readonly id: number,
    readonly role: "dialer" | "acceptor",
    kind: ConnectionKind,
    private linkId: string,
    private readonly processor: MessageProcessor,
    private readonly options: LinkOptions,
    private readonly events: LinkEvents,
    remoteAddress?: string,
  ) {
    this.kind = kind;
    this.info = { role, linkId, ...(remoteAddress === undefined ? {} : { remoteAddress }) };
    this.maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  }

  get isUp(): boolean {
    return this.state === "up";
  }

  get isClosed(): boolean {
    return this.state === "closed";
  }

  /** Start negotiating on a fresh stream (first connect or a reconnect). */
  attach(stream: FrameStream): void {
    if (this.state === "closed") {
      stream.end();
      return;
    }
    this.detachStream();
    this.stream = stream;
    this.state = "negotiating";
    this.macKey = undefined;
    this.keys = generateLinkKeyPair();
    stream.start(
      (bytes) => this.onFrame(stream, bytes),
      (err) => this.onStreamEnd(stream, err),
    );
    stream.onDrain(() => {
      if (this.congested && stream.bufferedBytes < CONGESTION_LOW_BYTES) {
        this.congested = false;
        this.processor.congestion(this, false);
      }
    });
    if (this.processor.isBlocked(this.id)) stream.pause();
    this.negotiationTimer = setTimeout(
      () => this.fail(new SlimError("TIMEOUT", "timed out waiting for link negotiation")),
      this.options.negotiationTimeoutMs ?? NEGOTIATION_TIMEOUT_MS,
    );
    if (this.role === "dialer") {
      this.writeRaw(
        linkMessage(
          negotiationPayload({
            linkId: this.linkId,
            isReply: false,
            publicKey: this.keys.publicKey,
            connectionType: connectionTypeOf(this.kind),
            nodeId: this.processor.nodeId,
          }),
        ),
      );
    }
  }

  private onFrame(from: FrameStream, chunk: Uint8Array): void {
    if (from !== this.stream) return;
    this.counters.msgsIn++;
    this.counters.bytesIn += chunk.length;
    let msg: ProtoMessage;
    try {
      msg = decodeProtoMessage(chunk, MAX_MESSAGE_BYTES);
    } catch (err) {
      if (this.state === "negotiating") return this.fail(SlimError.from(err, "PROTOCOL"));
      return this.count(isTooLarge(err) ? "too_large" : "decode");
    }
    if (this.state === "negotiating") return this.negotiate(msg);
    if (this.state !== "up") return;
    if (msg.messageType.case === "link") return; // late negotiation messages are ignored
    const reason = this.checkMac(msg);
    if (reason !== undefined) return this.count(reason);
    this.processor.handle(this, msg);
  }

  private negotiate(msg: ProtoMessage): void {
    try {
      const p = expectNegotiation(msg, this.role === "dialer");
      if (this.role === "dialer" && p.linkId !== this.linkId) {
        throw new SlimError("PROTOCOL", "link negotiation reply carries another link id");
      }
      const peerKey = peerKeyOf(p, this.options.strictMac);
      if (this.role === "acceptor") {
        this.linkId = p.linkId;
        this.info.linkId = p.linkId;
        this.kind = kindFromConnectionType(p.connectionType);
        if (this.kind === "peer" && p.nodeId === this.processor.nodeId) {
          throw new SlimError("PROTOCOL", "peer link from a node with our own node id");
        }
      } else {
        this.kind = kindFromConnectionType(p.connectionType);
      }
      this.macKey = peerKey === undefined ? undefined : new HeaderMacer(deriveLinkKey(this.keys!.privateKey, peerKey, this.linkId), this.linkId);
      this.info.mac = this.macKey !== undefined;
      this.info.remoteNodeId = p.nodeId;
      if (this.role === "acceptor") {
        this.writeRaw(
          linkMessage(
            negotiationPayload({
              linkId: this.linkId,
              isReply: true,
              publicKey: this.keys!.publicKey,
              connectionType: p.connectionType,
              nodeId: this.processor.nodeId,
            }),
          ),
        );
      }
    } catch (err) {
      return this.fail(SlimError.from(err, "PROTOCOL"));
    }
    clearTimeout(this.negotiationTimer);
    this.negotiationTimer = undefined;
    this.state = "up";
    this.events.up(this);
  }

  /** Inbound MAC policy, as the official node applies it; undefined = accept. */
  private checkMac(msg: ProtoMessage): DropReason | undefined {
    if (this.kind !== "edge" && this.kind !== "remote") return undefined;
    const h = headerOf(msg);
    if (h === undefined) return undefined;
    const hasMac = h.headerMac !== undefined && h.headerMac.length > 0;
    const isPublish = msg.messageType.case === "publish";
    if (!isPublish && !hasMac) return this.options.strictMac ? "mac_missing" : undefined;
    if (this.macKey === undefined) {
      if (this.options.strictMac) return "mac_missing";
      return isPublish && hasMac ? "mac_invalid" : undefined;
    }
    if (!hasMac) return "mac_missing";
    return this.macKey.verify(h) ? undefined : "mac_invalid";
  }

  send(msg: ProtoMessage, share?: SharedSend): boolean {
    if (this.state !== "up") return false;
    const h = headerOf(msg);
    let mac: Uint8Array | undefined;
    if (h !== undefined) {
      // cleared by assigning undefined, not `delete`: deleting a property that is not the
      // object's newest turns the header into a slow dictionary object for the MAC and the
      // encoder (an ack's forward_to, with incoming_conn added after it, cost 15-20 µs cold)
      if (h.recvFrom !== undefined) clear(h, "recvFrom");
      if (h.forwardTo !== undefined) clear(h, "forwardTo");
      if (this.macKey !== undefined) h.headerMac = mac = this.macKey.sign(h, share);
      else if (this.options.strictMac && (this.kind === "edge" || this.kind === "remote")) return false;
      else if (h.headerMac !== undefined) clear(h, "headerMac");
    }
    return this.writeRaw(msg, share, mac);
  }

  private writeRaw(msg: ProtoMessage, share?: SharedSend, mac?: Uint8Array): boolean {
    const s = this.stream;
    if (s === undefined) return false;
    if (s.bufferedBytes > this.maxBuffered) {
      countDrop(this.counters, "backpressure");
      return false;
    }
    let bytes: Uint8Array;
    try {
      bytes = share === undefined ? encodeProtoMessage(msg, LINK_FRAMING_ROOM) : share.encode(msg, mac);
    } catch {
      return false;
    }
    if (bytes.length > MAX_MESSAGE_BYTES) {
      countDrop(this.counters, "too_large");
      return false;
    }
    if (!s.write(bytes, LINK_FRAMING_ROOM)) return false;
    if (!this.congested && s.bufferedBytes > CONGESTION_HIGH_BYTES) {
      this.congested = true;
      this.processor.congestion(this, true);
    }
    this.counters.msgsOut++;
    this.counters.bytesOut += bytes.length;
    return true;
  }

  private count(reason: DropReason): void {
    countDrop(this.counters, reason);
    this.processor.stats.dropped[reason] = (this.processor.stats.dropped[reason] ?? 0) + 1;
  }

  private onStreamEnd(stream: FrameStream, err: SlimError): void {
    if (stream !== this.stream) return;
    this.fail(err);
  }

  /** End the current stream; the owner decides whether to reconnect. */
  private fail(err: SlimError): void {
    if (this.state === "closed" || this.stream === undefined) return;
    if (this.state === "negotiating" && err.code === "PROTOCOL") this.stream.destroy(err.message);
    this.detachStream();
    this.state = "idle";
    this.events.down(this, err);
  }

  /** Stop or restart reading this link's inbound messages (backpressure from a destination it wrote to). */
  setReading(on: boolean): void {
    if (on) this.stream?.resume();
    else this.stream?.pause();
  }

  private detachStream(): void {
    clearTimeout(this.negotiationTimer);
    if (this.congested) {
      this.congested = false;
      this.processor.congestion(this, false);
    }
    this.negotiationTimer = undefined;
    const s = this.stream;
    this.stream = undefined;
    if (s !== undefined) {
      try {
        s.end();
      } catch {
        // the stream may already be gone
      }
    }
  }

  close(reason = "closed"): void {
    if (this.state === "closed") return;
    const wasAttached = this.stream !== undefined;
    this.detachStream();
    this.state = "closed";
    if (wasAttached) this.events.down(this, new SlimError("CLOSED", reason));
  }
}

function isTooLarge(err: unknown): boolean {
  return err instanceof SlimError && err.code === "MESSAGE_TOO_LARGE";
}
