// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { SlimError } from "../errors.js";
import type { ProtoMessage, ProtoName, ProtoSLIMHeader } from "./gen/dataplane.js";

const MAX_STR_COMPONENT = 4096;
const MAX_IDENTITY = 64 * 1024;

function checkName(n: ProtoName | undefined, what: string, needStrings: boolean): void {
  if (n === undefined) throw new SlimError("PROTOCOL", `${what} name missing`);
  if (n.name === undefined) throw new SlimError("PROTOCOL", `${what} encoded name missing`);
  const s = n.strName;
  if (s === undefined) {
    if (needStrings) throw new SlimError("PROTOCOL", `${what} str_name missing`);
    return;
  }
  if (
    s.strComponent0.length > MAX_STR_COMPONENT ||
    s.strComponent1.length > MAX_STR_COMPONENT ||
    s.strComponent2.length > MAX_STR_COMPONENT
  ) {
    throw new SlimError("PROTOCOL", `${what} str_name component longer than ${MAX_STR_COMPONENT} characters`);
  }
}

function checkHeader(h: ProtoSLIMHeader | undefined, strOnDestination: boolean): ProtoSLIMHeader {
  if (h === undefined) throw new SlimError("PROTOCOL", "SLIM header missing");
  checkName(h.source, "source", false);
  checkName(h.destination, "destination", strOnDestination);
  if (h.identity.length > MAX_IDENTITY) throw new SlimError("PROTOCOL", "identity longer than 64 KiB");
  return h;
}

/**
 * The checks a node applies to every decoded message before acting on it.
 * Throws SlimError("PROTOCOL"); the caller drops the message and counts it.
 */
export function validateMessage(m: ProtoMessage): void {
  const t = m.messageType;
  switch (t.case) {
    case "subscribe":
      checkHeader(t.value.header, true);
      return;
    case "unsubscribe":
      checkHeader(t.value.header, false);
      return;
    case "publish":
      checkHeader(t.value.header, false);
      if (t.value.session === undefined) throw new SlimError("PROTOCOL", "publish without session header");
      return;
    case "link":
      if (t.value.linkType.case === undefined) throw new SlimError("PROTOCOL", "link message without a payload");
      return;
    case "subscriptionAck":
      return;
    default:
      throw new SlimError("PROTOCOL", "message type not set");
  }
}

/** The SLIM header of a routed message, if it has one. */
export function headerOf(m: ProtoMessage): ProtoSLIMHeader | undefined {
  const t = m.messageType;
  switch (t.case) {
    case "subscribe":
    case "unsubscribe":
    case "publish":
      return t.value.header;
    default:
      return undefined;
  }
}

/**
 * Unset an optional header field in place, keeping the object's shape: `delete` of a property
 * that is not the newest turns the object into a slow dictionary for every later read. The
 * encoder and the MAC treat an undefined field as absent.
 */
export function clear(h: ProtoSLIMHeader, field: "recvFrom" | "forwardTo" | "headerMac" | "e2eHeaderSig"): void {
  (h as Record<typeof field, unknown>)[field] = undefined;
}
