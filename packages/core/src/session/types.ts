// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import type { Name } from "../names/name.js";
import type { AbortOptions } from "../util/abort.js";
import type { MlsOptions } from "./mls-session.js";

export interface ReliableOptions {
  /** Resend interval for unacknowledged messages (ms). */
  intervalMs: number;
  /** Resends before a peer counts as silent. */
  maxRetries: number;
}

export interface SessionOptions {
  /** Acks, retransmission and in-order delivery. Off: fire and forget, as upstream. */
  reliable?: ReliableOptions;
  /** Session metadata, delivered to the peer with the invitation. */
  metadata?: Record<string, string>;
  /** End-to-end encryption with MLS (RFC 9420), as the official apps do it: true, or tuned. */
  mls?: boolean | MlsOptions;
}

export interface SessionPublishOptions extends AbortOptions {
  payloadType?: string;
  metadata?: Record<string, string>;
}

/** One message received on a session. */
export interface SessionMessage {
  /** Sender, with its instance id. */
  source: Name;
  payloadType: string;
  metadata: Record<string, string>;
  payload: Uint8Array;
  /** Per-sender sequence number (data messages); direct replies carry a random id above 2^31. */
  messageId: number;
  /** The payload as UTF-8 text. */
  text(): string;
  /** Answer the sender only (see ReceivedMessage.reply). */
  reply(data: Uint8Array | string, options?: SessionPublishOptions): Promise<void>;
}

/** A change in who is in a session and reachable. */
export interface ParticipantEvent {
  /**
   * joined / left: the member list changed (invite, remove, leave).
   * offline: the member went silent (missed heartbeats) or announced it (soft close).
   * online: an offline member is back.
   * lost: a message from this participant could not be recovered (reliable sessions: its sender
   * no longer had it, or every retransmission request went unanswered). The session's messages
   * go on with the ones after it; an ordered stream (SessionMux) that it belonged to fails.
   */
  type: "joined" | "left" | "offline" | "online" | "lost";
  participant: Name;
  /** Why, in words (e.g. "no heartbeat for 30 s"). */
  reason?: string;
  /** lost: the session message id that is missing (the first of them, with `count`). */
  messageId?: number;
  /** lost: how many consecutive messages from `messageId` on are missing (1 unless a sender jumped far ahead). */
  count?: number;
}

export type SessionKind = "p2p" | "group";
