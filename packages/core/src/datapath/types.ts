// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import type { ProtoMessage } from "../wire/gen/dataplane.js";
import type { SharedSend } from "../link/shared-send.js";

/**
 * What kind of neighbour a connection leads to. The order of the values is
 * the routing preference for anycast (fanout 1): local apps first, then
 * remote, peer and edge links, as in the official forwarder.
 */
export type ConnectionKind = "local" | "remote" | "peer" | "edge";
export const KIND_ORDER: readonly ConnectionKind[] = ["local", "remote", "peer", "edge"];

/** Why a message was dropped; every drop is counted per connection under one of these. */
export type DropReason =
  | "decode"
  | "too_large"
  | "invalid"
  | "mac_missing"
  | "mac_invalid"
  | "not_negotiated"
  | "ttl_expired"
  | "no_route"
  | "send_failed"
  | "backpressure"
  | "subscription_limit"
  | "unknown_connection"
  | "fault_injected";

export interface ConnectionCounters {
  msgsIn: number;
  msgsOut: number;
  bytesIn: number;
  bytesOut: number;
  dropped: Partial<Record<DropReason, number>>;
}

export function newCounters(): ConnectionCounters {
  return { msgsIn: 0, msgsOut: 0, bytesIn: 0, bytesOut: 0, dropped: {} };
}

export function countDrop(c: ConnectionCounters, reason: DropReason): void {
  c.dropped[reason] = (c.dropped[reason] ?? 0) + 1;
}

/**
 * One neighbour of the datapath: a local app or a link to another node.
 * `send` never throws and never blocks: it returns false when the message
 * could not be queued (the caller counts the drop).
 */
export interface Connection {
  readonly id: number;
  readonly kind: ConnectionKind;
  readonly counters: ConnectionCounters;
  /** Link details for status output (peer node id, link id, remote address). */
  readonly info: ConnectionInfo;
  /** `share`: the same message goes to several connections in a row (links encode it once). */
  send(msg: ProtoMessage, share?: SharedSend): boolean;
  close(reason?: string): void;
}

export interface ConnectionInfo {
  role: "local" | "dialer" | "acceptor";
  linkId?: string;
  remoteNodeId?: string;
  remoteAddress?: string;
  /** Whether header MACs are signed on this link. */
  mac?: boolean;
  /** Label for a local app. */
  label?: string;
}
