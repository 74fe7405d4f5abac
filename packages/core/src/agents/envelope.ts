// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A SLIM message as agent frameworks keep it: plain JSON (so graph checkpoints
// and workflow snapshots can store it), with a stable id to deduplicate on.
// Our own senders put the id in the message metadata, so sender and receiver
// agree on it; messages from other apps get one derived from the session,
// the sender and the per-sender message id (which retransmissions keep).

import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { SessionMessage } from "../session/types.js";

/** Metadata key carrying the envelope id across the wire. */
export const ENVELOPE_ID_KEY = "slim-ts-envelope";
/** Default cap of a conversation log. */
export const DEFAULT_MAX_ENVELOPES = 1_000;

export const SlimEnvelopeSchema = z.strictObject({
  /** Stable id: equal ids are the same message. */
  id: z.string().min(1).max(256),
  /** Received by us, or sent by us. */
  dir: z.enum(["in", "out"]),
  /** Sender, `org/ns/service[/id]`. */
  from: z.string().min(1).max(1_024),
  /** Peer or group the message went to (outbound), or the channel it came in on. */
  to: z.string().max(1_024).optional(),
  payloadType: z.string().max(256),
  /** UTF-8 payload; binary payloads travel as `base64` instead. */
  text: z.string().optional(),
  base64: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  /** Epoch ms when this side saw (or sent) it. */
  at: z.number(),
});
export type SlimEnvelope = z.output<typeof SlimEnvelopeSchema>;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function bodyOf(payload: Uint8Array): { text: string } | { base64: string } {
  try {
    return { text: strictUtf8.decode(payload) };
  } catch {
    return { base64: Buffer.from(payload).toString("base64") };
  }
}

/** Metadata worth keeping: ours and the app's, without the mux and datapath bookkeeping. */
function appMetadata(m: Record<string, string>): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  let any = false;
  for (const [k, v] of Object.entries(m)) {
    if (k === ENVELOPE_ID_KEY || k === "PUBLISH_TO" || k.startsWith("slim-ts-")) continue;
    out[k] = v;
    any = true;
  }
  return any ? out : undefined;
}

/** The envelope of a received message; `via` names the session (peer or group channel) it came in on. */
export function envelopeOf(msg: SessionMessage, via: { sessionId: number; to?: string }, now: number = Date.now()): SlimEnvelope {
  const from = msg.source.toString();
  const meta = appMetadata(msg.metadata);
  return {
    id: msg.metadata[ENVELOPE_ID_KEY] ?? `${via.sessionId}:${from}:${msg.messageId}`,
    dir: "in",
    from,
    ...(via.to === undefined ? {} : { to: via.to }),
    payloadType: msg.payloadType,
    ...bodyOf(msg.payload),
    ...(meta === undefined ? {} : { metadata: meta }),
    at: now,
  };
}

/** A new outbound text envelope with a fresh id. */
export function outboundEnvelope(from: string, to: string, text: string, options: { id?: string; payloadType?: string; now?: number } = {}): SlimEnvelope {
  return { id: options.id ?? randomUUID(), dir: "out", from, to, payloadType: options.payloadType ?? "msg", text, at: options.now ?? Date.now() };
}

/** The payload bytes of an envelope. */
export function envelopePayload(e: SlimEnvelope): Uint8Array {
  if (e.base64 !== undefined) return new Uint8Array(Buffer.from(e.base64, "base64"));
  return new TextEncoder().encode(e.text ?? "");
}

/**
 * Append `update` to `current`, skipping ids already present (in `current` or
 * earlier in `update`), then keep the newest `max`. Pure: never mutates its
 * inputs, and the same inputs give the same output, so frameworks may call it
 * as often as they like (LangGraph replays reducers on scratch copies).
 */
export function mergeEnvelopes(
  current: readonly SlimEnvelope[],
  update: SlimEnvelope | readonly SlimEnvelope[] | null | undefined,
  max: number = DEFAULT_MAX_ENVELOPES,
): SlimEnvelope[] {
  const incoming = update == null ? [] : Array.isArray(update) ? (update as readonly SlimEnvelope[]) : [update as SlimEnvelope];
  const seen = new Set(current.map((e) => e.id));
  const added: SlimEnvelope[] = [];
  for (const e of incoming) {
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    added.push(e);
  }
  if (added.length === 0 && current.length <= max) return current as SlimEnvelope[];
  const all = [...current, ...added];
  return all.length > max ? all.slice(all.length - max) : all;
}
