// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// (name prefix, instance id) -> connections, split by connection kind so that
// anycast can honour the local > remote > peer > edge preference.

import { ANY_ID } from "../names/name.js";
import { KIND_ORDER, type ConnectionKind } from "./types.js";

/** Three component hashes plus the 128-bit id, as carried on the wire. */
export interface RouteKey {
  c0: bigint;
  c1: bigint;
  c2: bigint;
  id: bigint;
}

type KindLists = Record<ConnectionKind, number[]>;

interface PrefixEntry {
  /** Display strings of the components, from the first subscription (the wire carries them). */
  strings: readonly [string, string, string];
  ids: Map<bigint, KindLists>;
  /** Per kind: refcount of each connection over all ids, for NULL-id (any instance) lookups. */
  anyIds: Record<ConnectionKind, Map<number, number>>;
  /** Per kind: the keys of anyIds as an array, rebuilt on change (hot path reads it). */
  anyList: KindLists;
  rr: number;
}

export interface SubscriptionRecord {
  key: RouteKey;
  strings: readonly [string, string, string];
  conn: number;
  kind: ConnectionKind;
  subscriptionId: bigint;
}

const emptyLists = (): KindLists => ({ local: [], remote: [], peer: [], edge: [] });
const emptyAny = (): Record<ConnectionKind, Map<number, number>> => ({
  local: new Map(),
  remote: new Map(),
  peer: new Map(),
  edge: new Map(),
});

export function prefixKey(c0: bigint, c1: bigint, c2: bigint): string {
  return `${c0.toString(36)}.${c1.toString(36)}.${c2.toString(36)}`;
}

export class SubscriptionTable {
  private readonly prefixes = new Map<bigint, Map<bigint, Map<bigint, PrefixEntry>>>();
  /** conn -> (route key string -> record) */
  private readonly byConn = new Map<number, Map<string, SubscriptionRecord>>();

  get size(): number {
    let n = 0;
    for (const m of this.byConn.values()) n += m.size;
    return n;
  }

  countFor(conn: number): number {
    return this.byConn.get(conn)?.size ?? 0;
  }

  /**
   * Add a route. Returns true when this is the first route to this (name, id)
   * over connections of kinds other than `peer` — the transition that gets
   * propagated to peers.
   */
  add(
    key: RouteKey,
    strings: readonly [string, string, string],
    conn: number,
    kind: ConnectionKind,
    subscriptionId: bigint,
  ): { added: boolean; transition: boolean } {
    const pk = prefixKey(key.c0, key.c1, key.c2);
    const recKey = `${pk}#${key.id.toString(36)}`;
    let forConn = this.byConn.get(conn);
    if (forConn?.has(recKey)) return { added: false, transition: false };
    let entry = this.entry(key.c0, key.c1, key.c2);
    if (entry === undefined) {
      entry = { strings, ids: new Map(), anyIds: emptyAny(), anyList: emptyLists(), rr: 0 };
      let m1 = this.prefixes.get(key.c0);
      if (m1 === undefined) this.prefixes.set(key.c0, (m1 = new Map()));
      let m2 = m1.get(key.c1);
      if (m2 === undefined) m1.set(key.c1, (m2 = new Map()));
      m2.set(key.c2, entry);
    }
    let lists = entry.ids.get(key.id);
    if (lists === undefined) {
      lists = emptyLists();
      entry.ids.set(key.id, lists);
    }
    const before = nonPeerCount(lists);
    lists[kind].push(conn);
    const any = entry.anyIds[kind];
    any.set(conn, (any.get(conn) ?? 0) + 1);
    entry.anyList[kind] = [...any.keys()];
    if (forConn === undefined) {
      forConn = new Map();
      this.byConn.set(conn, forConn);
    }
    forConn.set(recKey, { key, strings, conn, kind, subscriptionId });
    return { added: true, transition: kind !== "peer" && before === 0 };
  }

  /** Remove a route. Returns whether it existed and whether it was the last non-peer route. */
  remove(key: RouteKey, conn: number): { removed: SubscriptionRecord | undefined; transition: boolean } {
    const pk = prefixKey(key.c0, key.c1, key.c2);
    const recKey = `${pk}#${key.id.toString(36)}`;
    const forConn = this.byConn.get(conn);
    const rec = forConn?.get(recKey);
    if (rec === undefined || forConn === undefined) return { removed: undefined, transition: false };
    forConn.delete(recKey);
    if (forConn.size === 0) this.byConn.delete(conn);
    return { removed: rec, transition: this.unlink(rec) };
  }

  /** Remove every route of a connection; returns the removed records with their transition flag. */
  removeConnection(conn: number): Array<{ record: SubscriptionRecord; transition: boolean }> {
    const forConn = this.byConn.get(conn);
    if (forConn === undefined) return [];
    this.byConn.delete(conn);
    const out: Array<{ record: SubscriptionRecord; transition: boolean }> = [];
    for (const rec of forConn.values()) {
      out.push({ record: rec, transition: this.unlink(rec) });
    }
    return out;
  }

  private entry(c0: bigint, c1: bigint, c2: bigint): PrefixEntry | undefined {
    return this.prefixes.get(c0)?.get(c1)?.get(c2);
  }

  private deleteEntry(c0: bigint, c1: bigint, c2: bigint): void {
    const m1 = this.prefixes.get(c0);
    const m2 = m1?.get(c1);
    m2?.delete(c2);
    if (m2?.size === 0) m1!.delete(c1);
    if (m1?.size === 0) this.prefixes.delete(c0);
  }

  private unlink(rec: SubscriptionRecord): boolean {
    const entry = this.entry(rec.key.c0, rec.key.c1, rec.key.c2);
    if (entry === undefined) return false;
    const lists = entry.ids.get(rec.key.id);
    if (lists === undefined) return false;
    const list = lists[rec.kind];
    const i = list.indexOf(rec.conn);
    if (i >= 0) list.splice(i, 1);
    const any = entry.anyIds[rec.kind];
    const n = (any.get(rec.conn) ?? 1) - 1;
    if (n <= 0) any.delete(rec.conn);
    else any.set(rec.conn, n);
    entry.anyList[rec.kind] = [...any.keys()];
    const after = nonPeerCount(lists);
    if (KIND_ORDER.every((k) => lists[k].length === 0)) entry.ids.delete(rec.key.id);
    if (entry.ids.size === 0) this.deleteEntry(rec.key.c0, rec.key.c1, rec.key.c2);
    return rec.kind !== "peer" && after === 0;
  }

  /**
   * Anycast: one connection for (prefix, id), never `exclude`. A specific id
   * matches only that id; ANY_ID matches every instance of the prefix.
   */
  matchOne(c0: bigint, c1: bigint, c2: bigint, id: bigint, exclude: number, allowPeer = true): number | undefined {
    const entry = this.entry(c0, c1, c2);
    if (entry === undefined) return undefined;
    const lists = id === ANY_ID ? entry.anyList : entry.ids.get(id);
    if (lists === undefined) return undefined;
    for (const kind of KIND_ORDER) {
      if (kind === "peer" && !allowPeer) continue;
      const candidates = lists[kind];
      const len = candidates.length;
      if (len === 0) continue;
      if (len === 1) {
        const only = candidates[0]!;
        if (only !== exclude) return only;
        continue;
      }
      const pick = entry.rr++ % len;
      for (let i = 0; i < candidates.length; i++) {
        const c = candidates[(pick + i) % candidates.length]!;
        if (c !== exclude) return c;
      }
    }
    return undefined;
  }

  /** Multicast: every matching connection except `exclude`. */
  matchAll(c0: bigint, c1: bigint, c2: bigint, id: bigint, exclude: number, allowPeer = true): number[] {
    const entry = this.entry(c0, c1, c2);
    if (entry === undefined) return [];
    const out = new Set<number>();
    for (const kind of KIND_ORDER) {
      if (kind === "peer" && !allowPeer) continue;
      if (id === ANY_ID) {
        for (const c of entry.anyList[kind]) if (c !== exclude) out.add(c);
      } else {
        for (const c of entry.ids.get(id)?.[kind] ?? []) if (c !== exclude) out.add(c);
      }
    }
    return [...out];
  }

  /** Every route, one record per (name, id, connection). */
  *records(): IterableIterator<SubscriptionRecord> {
    for (const m of this.byConn.values()) yield* m.values();
  }
}

function nonPeerCount(l: KindLists): number {
  return l.local.length + l.remote.length + l.edge.length;
}
