// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Building session messages: every one is a Publish with a session header; each
// send gets a fresh identity token, command messages an e2e header signature.

import { randomInt } from "node:crypto";
import { applyHeaderSignature } from "../auth/header-signature.js";
import type { IdentityProvider } from "../auth/types.js";
import {
  SessionMessageType,
  type ProtoCommandPayload,
  type ProtoMessage,
  type ProtoName,
  type ProtoPublish,
  type SessionType,
} from "../wire/gen/dataplane.js";
import { DEFAULT_MESSAGE_TTL, SLIM_PROTOCOL_VERSION } from "../wire/message.js";
import { clear } from "../wire/validate.js";

/** Session ids are random below u32::MAX - 1000 (the top is reserved upstream). */
export const randomSessionId = (): number => randomInt(0, 0xffff_ffff - 1000);
/** Control message ids are random u32 (replies reuse the request's id). */
export const randomMessageId = (): number => randomInt(1, 0xffff_ffff);
/** Data message ids wrap after 2^31 - 1; ids above are for publish_to. */
export const MAX_DATA_MESSAGE_ID = 0x7fff_ffff;

export interface PublishSpec {
  source: ProtoName;
  destination: ProtoName;
  sessionType: SessionType;
  type: SessionMessageType;
  sessionId: number;
  messageId: number;
  fanout?: number;
  forwardTo?: bigint;
  error?: boolean;
  metadata?: Map<string, string>;
  command?: ProtoCommandPayload["commandPayloadType"];
  app?: { payloadType: string; blob: Uint8Array };
}

export function buildPublish(spec: PublishSpec): ProtoMessage {
  const publish: ProtoPublish = {
    header: {
      source: spec.source,
      destination: spec.destination,
      identity: "",
      fanout: spec.fanout ?? 1,
      version: SLIM_PROTOCOL_VERSION,
      ttl: DEFAULT_MESSAGE_TTL,
      ...(spec.forwardTo === undefined ? {} : { forwardTo: spec.forwardTo }),
      ...(spec.error === undefined ? {} : { error: spec.error }),
    },
    session: { sessionType: spec.sessionType, sessionMessageType: spec.type, sessionId: spec.sessionId, messageId: spec.messageId },
    msg:
      spec.command !== undefined
        ? { contentType: { case: "commandPayload", value: { commandPayloadType: spec.command } } }
        : { contentType: { case: "appPayload", value: spec.app ?? { payloadType: "", blob: new Uint8Array(0) } } },
  };
  return { messageType: { case: "publish", value: publish }, metadata: spec.metadata ?? new Map() };
}

/** Set a fresh identity token and, for command messages, the header signature. */
export function stamp(msg: ProtoMessage, provider: IdentityProvider): ProtoMessage {
  if (msg.messageType.case !== "publish") return msg;
  const p = msg.messageType.value;
  const h = p.header!;
  h.identity = provider.token();
  if (h.e2eHeaderSig !== undefined) clear(h, "e2eHeaderSig"); // a resend's old signature
  applyHeaderSignature(p, provider);
  return msg;
}

export function publishOf(msg: ProtoMessage): ProtoPublish | undefined {
  return msg.messageType.case === "publish" ? msg.messageType.value : undefined;
}

export function commandOf(p: ProtoPublish): ProtoCommandPayload["commandPayloadType"] | undefined {
  const c = p.msg?.contentType;
  return c?.case === "commandPayload" ? c.value.commandPayloadType : undefined;
}

export function appPayloadOf(p: ProtoPublish): { payloadType: string; blob: Uint8Array } | undefined {
  const c = p.msg?.contentType;
  return c?.case === "appPayload" ? c.value : undefined;
}

export const isDataType = (t: number): boolean =>
  t === SessionMessageType.MSG || t === SessionMessageType.MSG_ACK || t === SessionMessageType.RTX_REQUEST || t === SessionMessageType.RTX_REPLY;
