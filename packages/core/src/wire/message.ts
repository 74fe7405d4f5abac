// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Builders for the control messages the datapath itself originates.

import type { ProtoMessage, ProtoName, ProtoSLIMHeader } from "./gen/dataplane.js";

/** The SLIM protocol version we speak (link negotiation requires semver; headers carry it). */
export const SLIM_PROTOCOL_VERSION = "2.0.0-alpha.8";
export const DEFAULT_MESSAGE_TTL = 8;

export function newHeader(source: ProtoName, destination: ProtoName, init: Partial<ProtoSLIMHeader> = {}): ProtoSLIMHeader {
  return {
    source,
    destination,
    identity: "",
    fanout: 1,
    version: SLIM_PROTOCOL_VERSION,
    ttl: DEFAULT_MESSAGE_TTL,
    ...init,
  };
}

export function subscribeMessage(
  header: ProtoSLIMHeader,
  subscriptionId: bigint,
  add: boolean,
  metadata: Map<string, string> = new Map(),
): ProtoMessage {
  const value = { header, subscriptionId };
  return {
    messageType: add ? { case: "subscribe", value } : { case: "unsubscribe", value },
    metadata,
  };
}

export function subscriptionAckMessage(subscriptionId: bigint, success: boolean, error = ""): ProtoMessage {
  return {
    messageType: { case: "subscriptionAck", value: { subscriptionId, success, error } },
    metadata: new Map(),
  };
}

/** Shallow copy with a copied header, for a receiver that must not see later mutations. */
export function cloneWithHeader(msg: ProtoMessage): ProtoMessage {
  const t = msg.messageType;
  switch (t.case) {
    case "publish":
      return { ...msg, messageType: { case: "publish", value: { ...t.value, header: { ...t.value.header! } } } };
    case "subscribe":
      return { ...msg, messageType: { case: "subscribe", value: { ...t.value, header: { ...t.value.header! } } } };
    case "unsubscribe":
      return { ...msg, messageType: { case: "unsubscribe", value: { ...t.value, header: { ...t.value.header! } } } };
    default:
      return msg;
  }
}
