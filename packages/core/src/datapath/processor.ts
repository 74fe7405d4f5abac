// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The message processor every slim-ts process runs: it owns the connection and
// subscription tables, routes publishes and handles (un)subscriptions.

import { randomUUID } from "node:crypto";
import { SlimError } from "../errors.js";
import { noopLogger, type Logger } from "../log.js";
import { ANY_ID } from "../names/name.js";
import type { ProtoMessage, ProtoPublish, ProtoSLIMHeader } from "../wire/gen/dataplane.js";
import { headerOf, validateMessage } from "../wire/validate.js";
import { SubscriptionHandler } from "./subscriptions.js";
import { SubscriptionTable } from "./subscription-table.js";
import { countDrop, type Connection, type ConnectionKind, type DropReason } from "./types.js";
import { SharedSend } from "../link/shared-send.js";
import { FlowControl } from "./flow.js";

export const DEFAULT_TTL = 8;
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION = 10_000;

export interface ProcessorOptions {
  /** This node's id, sent in link negotiation. Default `node-<uuid>`. */
  nodeId?: string;
  logger?: Logger;
  /** Subscriptions one connection may hold; more are refused with an error ack. */
  maxSubscriptionsPerConnection?: number;
  /** Test-only fault injection: drop this fraction of publishes arriving from other nodes. */
  faults?: { dropRatio: number; seed?: number };
  /** Test-only: sees every publish this datapath routes (e.g. to assert a relay never sees plaintext). */
  tap?: (msg: ProtoMessage, publish: ProtoPublish) => void;
}

export interface ProcessorStats {
  routed: number;
  dropped: Partial<Record<DropReason, number>>;
}

/** Callback for local apps: what the datapath could not do with their message. */
export type LocalErrorSink = (err: SlimError, msg: ProtoMessage) => void;

const CONN_BIGINTS: bigint[] = Array.from({ length: 256 }, (_, i) => BigInt(i));
const connBigint = (id: number): bigint => CONN_BIGINTS[id] ?? BigInt(id);

export class MessageProcessor {
  readonly nodeId: string;
  readonly log: Logger;
  readonly table = new SubscriptionTable();
  readonly stats: ProcessorStats = { routed: 0, dropped: {} };
  readonly maxSubscriptionsPerConnection: number;
  private readonly conns = new Map<number, Connection>();
  private readonly reserved = new Set<number>();
  private readonly flow = new FlowControl(this.conns);
  private readonly localErrors = new Map<number, LocalErrorSink>();
  private readonly subs: SubscriptionHandler;
  private closed = false;

  constructor(options: ProcessorOptions = {}) {
    this.nodeId = options.nodeId ?? `node-${randomUUID()}`;
    this.log = options.logger?.child("datapath") ?? noopLogger;
    this.maxSubscriptionsPerConnection = options.maxSubscriptionsPerConnection ?? DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION;
    this.subs = new SubscriptionHandler(this);
    this.tap = options.tap;
    const f = options.faults;
    if (f !== undefined && f.dropRatio > 0) {
      let x = (f.seed ?? 1) >>> 0 || 1;
      const rnd = () => {
        // xorshift32: reproducible loss patterns for tests
        x ^= x << 13;
        x >>>= 0;
        x ^= x >>> 17;
        x ^= x << 5;
        x >>>= 0;
        return x / 0x1_0000_0000;
      };
      this.injectDrop = () => rnd() < f.dropRatio;
    }
  }

  private readonly injectDrop: (() => boolean) | undefined;
  private readonly tap: ((msg: ProtoMessage, publish: ProtoPublish) => void) | undefined;

  // ---- connections -------------------------------------------------------

  /** Reserve the smallest free connection id (ids are reused, as upstream). */
  allocateId(): number {
    let id = 0;
    while (this.conns.has(id) || this.reserved.has(id)) id++;
    this.reserved.add(id);
    return id;
  }

  /** Give back an id from allocateId() that was never registered. */
  releaseId(id: number): void {
    this.reserved.delete(id);
  }

  /** Register a connection (a local app, or a link once negotiated). */
  register(conn: Connection, onLocalError?: LocalErrorSink): void {
    if (this.closed) throw new SlimError("CLOSED", "message processor is closed");
    if (this.conns.has(conn.id)) throw new SlimError("INTERNAL", `connection id ${conn.id} already in use`);
    this.reserved.delete(conn.id);
    this.conns.set(conn.id, conn);
    if (onLocalError !== undefined) this.localErrors.set(conn.id, onLocalError);
    this.log.debug("connection registered", { conn: conn.id, kind: conn.kind, ...conn.info });
  }

  /** A link came (back) up: peers get a full subscription sync, dialers replay what they forwarded. */
  linkUp(conn: Connection): void {
    this.subs.onLinkUp(conn);
  }

  /** Drop a connection and every route through it; peers learn about names no longer reachable. */
  unregister(id: number, keepForReconnect = false): void {
    const conn = this.conns.get(id);
    if (conn === undefined) return;
    this.subs.onConnectionDown(conn, keepForReconnect);
    if (keepForReconnect) this.flow.set(id, false);
    else {
      this.flow.gone(id);
      this.conns.delete(id);
      this.reserved.delete(id);
      this.localErrors.delete(id);
    }
    this.log.debug("connection down", { conn: id, keepForReconnect });
  }

  connection(id: number): Connection | undefined {
    return this.conns.get(id);
  }

  connections(): IterableIterator<Connection> {
    return this.conns.values();
  }

  peerConnections(): Connection[] {
    return [...this.conns.values()].filter((c) => c.kind === "peer");
  }

  // ---- inbound -----------------------------------------------------------

  /**
   * Process one message that arrived on connection `from`. Never throws: a bad
   * message is dropped and counted; a local app is told why.
   */
  handle(from: Connection, msg: ProtoMessage): void {
    try {
      validateMessage(msg);
    } catch (err) {
      this.drop(from, "invalid", msg, SlimError.from(err, "PROTOCOL"));
      return;
    }
    const t = msg.messageType;
    switch (t.case) {
      case "publish":
        return this.onPublish(from, msg, t.value);
      case "subscribe":
        return this.subs.onSubscribe(from, msg, t.value.header!, t.value.subscriptionId, true);
      case "unsubscribe":
        return this.subs.onSubscribe(from, msg, t.value.header!, t.value.subscriptionId, false);
      case "subscriptionAck":
        return this.subs.onAck(t.value.subscriptionId, t.value.success, t.value.error, from);
      case "link":
        // Negotiation is the link's business; a late Link message is ignored.
        return;
      default:
        return;
    }
  }

  /** Decrement TTL for messages from other nodes; false when the message must die here. */
  enterHeader(from: Connection, h: ProtoSLIMHeader): boolean {
    h.incomingConn = connBigint(from.id);
    if (from.kind !== "local") {
      const ttl = h.ttl > 0 ? h.ttl - 1 : 0;
      h.ttl = ttl;
      if (ttl === 0) return false;
    }
    return true;
  }

  private onPublish(from: Connection, msg: ProtoMessage, p: ProtoPublish): void {
    const h = p.header!;
    this.tap?.(msg, p);
    if (this.injectDrop !== undefined && from.kind !== "local" && this.injectDrop()) return this.drop(from, "fault_injected", msg);
    if (!this.enterHeader(from, h)) return this.drop(from, "ttl_expired", msg);
    if (h.forwardTo !== undefined) {
      const out = this.conns.get(Number(h.forwardTo));
      if (out === undefined) return this.drop(from, "unknown_connection", msg);
      return this.sendTo(out, msg, from);
    }
    const e = h.destination!.name!;
    const id = e.nameId === undefined ? ANY_ID : (e.nameId.id0 << 64n) | e.nameId.id1;
    if (h.fanout === 1) {
      const out = this.table.matchOne(e.component0, e.component1, e.component2, id, from.id);
      if (out === undefined) return this.noRoute(from, msg);
      this.sendTo(this.conns.get(out)!, msg, from);
    } else {
      const outs = this.table.matchAll(e.component0, e.component1, e.component2, id, from.id);
      if (outs.length === 0) return this.noRoute(from, msg);
      const share = outs.length > 1 ? new SharedSend(msg) : undefined;
      for (const o of outs) this.sendTo(this.conns.get(o)!, msg, from, share);
    }
  }

  private noRoute(from: Connection, msg: ProtoMessage): void {
    const h = headerOf(msg);
    const dst = h?.destination?.strName;
    const text = dst === undefined ? "unknown" : `${dst.strComponent0}/${dst.strComponent1}/${dst.strComponent2}`;
    this.drop(from, "no_route", msg, new SlimError("SEND", `no route to ${text}`));
  }

  /** Hand a message to a connection; a refusal is counted on that connection. */
  sendTo(out: Connection, msg: ProtoMessage, from?: Connection, share?: SharedSend): void {
    const ok = out.send(msg, share);
    this.flow.sent(from, out.id);
    if (ok) {
      this.stats.routed++;
      return;
    }
    countDrop(out.counters, "send_failed");
    this.countGlobal("send_failed");
    if (from !== undefined && from.kind === "local") {
      this.localErrors.get(from.id)?.(new SlimError("SEND", `connection ${out.id} refused the message`), msg);
    }
  }

  /** Count a dropped message on the connection it came from; tell a local app why. */
  drop(from: Connection, reason: DropReason, msg: ProtoMessage, err?: SlimError): void {
    countDrop(from.counters, reason);
    this.countGlobal(reason);
    this.log.debug("message dropped", { conn: from.id, reason, error: err?.message });
    if (from.kind === "local" && err !== undefined) this.localErrors.get(from.id)?.(err, msg);
  }

  private countGlobal(reason: DropReason): void {
    this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1;
  }

  /**
   * Backpressure, per destination (see flow.ts): connection `conn` (a link with too much
   * output queued, or a local app that is behind) started or stopped being congested. Links
   * that hand it messages meanwhile stop being read until it drains.
   */
  congestion(conn: { readonly id: number }, congested: boolean): void {
    this.flow.set(conn.id, congested);
  }

  /** Local app `conn` holds its input (a session is behind): links that feed it pause; local senders go on. */
  holdInput(conn: { readonly id: number }, held: boolean): void {
    this.flow.hold(conn.id, held);
  }

  /** Run `send` (a local app's) now if no link is congested, else once none is, in call order. */
  runWhenWritable(send: () => void): void {
    this.flow.runWhenWritable(send);
  }

  /** Backpressure state of connection `id`: congested as a destination, and what it waits for as a sender. */
  flowState(id: number): { congested: boolean; waitingFor: number[] } {
    return this.flow.state(id);
  }

  /** Whether link `id` is not being read (it wrote to a destination that has not drained yet). */
  isBlocked(id: number): boolean {
    return this.flow.isBlocked(id);
  }

  kindOf(id: number): ConnectionKind | undefined {
    return this.conns.get(id)?.kind;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.conns.values()]) c.close("processor closed");
    this.conns.clear();
    this.subs.close();
  }
}
