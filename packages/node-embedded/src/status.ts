// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import type { ConnectionCounters, ConnectionInfo, ConnectionKind, MessageProcessor } from "@slim-ts/core/internal";

export interface LinkStatus extends ConnectionInfo {
  id: number;
  kind: ConnectionKind;
  counters: ConnectionCounters;
  subscriptions: number;
  /** Backpressure: this connection's output is backed up (a slow reader, or a local app behind). */
  congested: boolean;
  /** Not being read until these congested connections drain (it sent to them); empty when flowing. */
  waitingFor: number[];
}

export interface SubscriptionStatus {
  name: string;
  id: string;
  conn: number;
  kind: ConnectionKind;
}

export interface NodeStatus {
  nodeId: string;
  address: string;
  connections: LinkStatus[];
  subscriptions: SubscriptionStatus[];
  routed: number;
  dropped: Partial<Record<string, number>>;
}

const MAX_LISTED_SUBSCRIPTIONS = 1_000;

export function nodeStatus(p: MessageProcessor, address: string): NodeStatus {
  const connections: LinkStatus[] = [];
  for (const c of p.connections()) {
    connections.push({ id: c.id, kind: c.kind, ...c.info, counters: structuredClone(c.counters), subscriptions: p.table.countFor(c.id), ...p.flowState(c.id) });
  }
  const subscriptions: SubscriptionStatus[] = [];
  for (const r of p.table.records()) {
    if (subscriptions.length >= MAX_LISTED_SUBSCRIPTIONS) break;
    subscriptions.push({
      name: r.strings.join("/"),
      id: r.key.id === (1n << 128n) - 1n ? "any" : r.key.id.toString(16).padStart(32, "0"),
      conn: r.conn,
      kind: r.kind,
    });
  }
  return { nodeId: p.nodeId, address, connections, subscriptions, routed: p.stats.routed, dropped: { ...p.stats.dropped } };
}
