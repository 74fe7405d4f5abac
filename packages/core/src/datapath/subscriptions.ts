// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Subscribe / Unsubscribe handling: the route table, acks, forwarding to an
// upstream link (forward_to), propagation to peer nodes, and replay on reconnect.

import { ANY_ID } from "../names/name.js";
import type { ProtoMessage, ProtoName, ProtoSLIMHeader } from "../wire/gen/dataplane.js";
import { DEFAULT_MESSAGE_TTL, newHeader, subscribeMessage, subscriptionAckMessage } from "../wire/message.js";
import type { MessageProcessor } from "./processor.js";
import type { RouteKey, SubscriptionRecord } from "./subscription-table.js";
import type { Connection } from "./types.js";

export const SUBSCRIPTION_ACK_TIMEOUT_MS = 5_000;
export const SUBSCRIPTION_ACK_RETRIES = 3;

interface AckWaiter {
  conns: Set<number>;
  errors: string[];
  done: (result: { ok: boolean; error: string }) => void;
  timer: NodeJS.Timeout | undefined;
}

interface Forwarded {
  source: ProtoName;
  name: ProtoName;
  identity: string;
}

const routeKeyOf = (n: ProtoName): RouteKey => {
  const e = n.name!;
  return {
    c0: e.component0,
    c1: e.component1,
    c2: e.component2,
    id: e.nameId === undefined ? ANY_ID : (e.nameId.id0 << 64n) | e.nameId.id1,
  };
};
const routeKeyString = (k: RouteKey): string => `${k.c0}.${k.c1}.${k.c2}.${k.id}`;
const U64 = (1n << 64n) - 1n;

function nameOfRecord(r: SubscriptionRecord): ProtoName {
  return {
    name: { component0: r.key.c0, component1: r.key.c1, component2: r.key.c2, nameId: { id0: r.key.id >> 64n, id1: r.key.id & U64 } },
    strName: { strComponent0: r.strings[0], strComponent1: r.strings[1], strComponent2: r.strings[2] },
  };
}

export class SubscriptionHandler {
  /** Subscription ids this node forwarded to peers: one coming back is a loop. */
  private readonly seenSubIds = new Set<bigint>();
  /** Route key -> the subscription id used when it was announced to peers. */
  private readonly announced = new Map<string, bigint>();
  private readonly waiters = new Map<bigint, AckWaiter[]>();
  /** Dialed link -> subscriptions forwarded on it (replayed after a reconnect). */
  private readonly forwardedVia = new Map<number, Map<string, Forwarded>>();

  constructor(private readonly p: MessageProcessor) {}

  onSubscribe(from: Connection, msg: ProtoMessage, h: ProtoSLIMHeader, subId: bigint, add: boolean): void {
    if (!this.p.enterHeader(from, h)) return this.p.drop(from, "ttl_expired", msg);
    const inId = h.recvFrom !== undefined ? Number(h.recvFrom) : from.id;
    const inConn = this.p.connection(inId);
    if (inConn === undefined) {
      this.ack(from, subId, false, `connection not found: ${inId}`);
      return this.p.drop(from, "unknown_connection", msg);
    }
    if (h.recvFrom !== undefined && inConn.kind === "local") return this.ack(from, subId, true);
    if (add && subId !== 0n && this.seenSubIds.has(subId)) return this.ack(from, subId, true);

    let forward: Connection | undefined;
    if (h.forwardTo !== undefined) {
      const f = this.p.connection(Number(h.forwardTo));
      if (f !== undefined && f.kind !== "local") forward = f;
    }

    const dst = h.destination!;
    const key = routeKeyOf(dst);
    let transition: boolean;
    if (add) {
      if (this.p.table.countFor(inId) >= this.p.maxSubscriptionsPerConnection) {
        this.ack(from, subId, false, "subscription limit reached on this connection");
        return this.p.drop(from, "subscription_limit", msg);
      }
      const s = dst.strName!;
      transition = this.p.table.add(key, [s.strComponent0, s.strComponent1, s.strComponent2], inId, inConn.kind, subId).transition;
    } else {
      const r = this.p.table.remove(key, inId);
      if (r.removed === undefined) return this.ack(from, subId, false, "subscription not found");
      transition = r.transition;
    }

    const waits: Array<Promise<{ ok: boolean; error: string }>> = [];
    if (inConn.kind !== "peer" && transition) {
      this.announceToPeers(dst, key, subId, add, DEFAULT_MESSAGE_TTL, undefined);
    } else if (inConn.kind === "peer" && h.ttl >= 2) {
      this.announceToPeers(dst, key, subId, add, h.ttl, inId);
    }
    if (forward !== undefined) {
      this.rememberForwarded(forward.id, h, add);
      waits.push(this.sendAndAwaitAck(forward, msg, subId));
    }
    if (waits.length === 0 || subId === 0n) return this.ack(from, subId, true);
    void Promise.all(waits).then((rs) => {
      const bad = rs.find((r) => !r.ok);
      this.ack(from, subId, bad === undefined, bad?.error ?? "");
    });
  }

  onAck(subId: bigint, success: boolean, error: string, from?: Connection): void {
    const list = this.waiters.get(subId);
    if (list === undefined) return;
    const w = from === undefined ? list[0] : (list.find((x) => x.conns.has(from.id)) ?? list[0]);
    if (w === undefined) return;
    if (from !== undefined) w.conns.delete(from.id);
    else w.conns.clear();
    if (!success) w.errors.push(error);
    if (w.conns.size === 0) this.finish(subId, w);
  }

  private finish(subId: bigint, w: AckWaiter): void {
    if (w.timer !== undefined) clearTimeout(w.timer);
    const list = this.waiters.get(subId);
    if (list !== undefined) {
      const i = list.indexOf(w);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.waiters.delete(subId);
    }
    w.done({ ok: w.errors.length === 0, error: w.errors.join("; ") });
  }

  private waitAcks(subId: bigint, conns: number[], timeoutMs: number): Promise<{ ok: boolean; error: string }> {
    return new Promise((done) => {
      const w: AckWaiter = { conns: new Set(conns), errors: [], done, timer: undefined };
      w.timer = setTimeout(() => {
        w.errors.push("subscription ack timed out");
        this.finish(subId, w);
      }, timeoutMs);
      w.timer.unref?.();
      const list = this.waiters.get(subId) ?? [];
      list.push(w);
      this.waiters.set(subId, list);
    });
  }

  private async sendAndAwaitAck(out: Connection, msg: ProtoMessage, subId: bigint): Promise<{ ok: boolean; error: string }> {
    if (subId === 0n) {
      this.p.sendTo(out, msg);
      return { ok: true, error: "" };
    }
    let last = { ok: false, error: "not sent" };
    for (let attempt = 0; attempt <= SUBSCRIPTION_ACK_RETRIES; attempt++) {
      const wait = this.waitAcks(subId, [out.id], SUBSCRIPTION_ACK_TIMEOUT_MS);
      if (!out.send(msg)) {
        this.onAck(subId, false, "upstream link refused the subscription", out);
      }
      last = await wait;
      if (last.ok || !last.error.includes("timed out")) return last;
    }
    return last;
  }

  private announceToPeers(name: ProtoName, key: RouteKey, subId: bigint, add: boolean, ttl: number, except: number | undefined): void {
    const peers = this.p.peerConnections().filter((c) => c.id !== except);
    if (peers.length === 0) return;
    const ks = routeKeyString(key);
    let id = subId;
    if (add) {
      this.announced.set(ks, subId);
      if (subId !== 0n) this.seenSubIds.add(subId);
    } else {
      id = this.announced.get(ks) ?? subId;
      this.announced.delete(ks);
    }
    const m = subscribeMessage(newHeader(name, name, { ttl }), id, add);
    for (const peer of peers) this.p.sendTo(peer, m);
    // Peer acks are informational upstream; failures are logged, never fatal.
    if (id !== 0n) {
      void this.waitAcks(id, peers.map((c) => c.id), SUBSCRIPTION_ACK_TIMEOUT_MS).then((r) => {
        if (!r.ok) this.p.log.warn("peer subscription ack failed", { error: r.error });
      });
    }
  }

  private rememberForwarded(conn: number, h: ProtoSLIMHeader, add: boolean): void {
    const ks = routeKeyString(routeKeyOf(h.destination!));
    let m = this.forwardedVia.get(conn);
    if (add) {
      if (m === undefined) this.forwardedVia.set(conn, (m = new Map()));
      m.set(ks, { source: h.source!, name: h.destination!, identity: h.identity });
    } else m?.delete(ks);
  }

  ack(to: Connection, subId: bigint, success: boolean, error = ""): void {
    if (subId === 0n) return;
    to.send(subscriptionAckMessage(subId, success, success ? "" : error));
  }

  onLinkUp(conn: Connection): void {
    if (conn.kind === "peer") {
      const sent = new Set<string>();
      for (const r of this.p.table.records()) {
        if (r.conn === conn.id) continue;
        const ks = routeKeyString(r.key);
        if (sent.has(ks)) continue;
        sent.add(ks);
        const name = nameOfRecord(r);
        if (r.subscriptionId !== 0n) this.seenSubIds.add(r.subscriptionId);
        this.announced.set(ks, r.subscriptionId);
        this.p.sendTo(conn, subscribeMessage(newHeader(name, name), r.subscriptionId, true));
      }
    }
    const replay = this.forwardedVia.get(conn.id);
    if (replay !== undefined) {
      for (const f of replay.values()) {
        this.p.sendTo(conn, subscribeMessage(newHeader(f.source, f.name, { identity: f.identity }), 0n, true));
      }
    }
  }

  onConnectionDown(conn: Connection, keepForReconnect: boolean): void {
    for (const { record, transition } of this.p.table.removeConnection(conn.id)) {
      if (transition) this.announceToPeers(nameOfRecord(record), record.key, record.subscriptionId, false, DEFAULT_MESSAGE_TTL, conn.id);
    }
    for (const [subId, list] of [...this.waiters]) {
      for (const w of [...list]) {
        if (w.conns.has(conn.id)) this.onAck(subId, false, "connection lost", conn);
      }
    }
    if (!keepForReconnect) this.forwardedVia.delete(conn.id);
  }

  close(): void {
    for (const [subId, list] of [...this.waiters]) {
      for (const w of [...list]) {
        w.errors.push("closed");
        this.finish(subId, w);
      }
    }
  }
}
