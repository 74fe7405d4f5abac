// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Link negotiation: the first message on every link, both directions.

import { SlimError } from "../errors.js";
import type { ConnectionKind } from "../datapath/types.js";
import { LinkConnectionType, type ProtoLinkNegotiationPayload, type ProtoMessage } from "../wire/gen/dataplane.js";
import { SLIM_PROTOCOL_VERSION } from "../wire/message.js";
import { X25519_KEY_BYTES } from "./header-mac.js";

export const NEGOTIATION_TIMEOUT_MS = 5_000;
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

export function kindFromConnectionType(t: number): ConnectionKind {
  switch (t) {
    case LinkConnectionType.PEER:
      return "peer";
    case LinkConnectionType.EDGE:
      return "edge";
    default:
      return "remote";
  }
}

export function connectionTypeOf(kind: ConnectionKind): LinkConnectionType {
  switch (kind) {
    case "peer":
      return LinkConnectionType.PEER;
    case "edge":
      return LinkConnectionType.EDGE;
    default:
      return LinkConnectionType.REMOTE;
  }
}

export function linkMessage(p: ProtoLinkNegotiationPayload): ProtoMessage {
  return { messageType: { case: "link", value: { linkType: { case: "linkNegotiation", value: p } } }, metadata: new Map() };
}

export function negotiationPayload(init: {
  linkId: string;
  isReply: boolean;
  publicKey: Uint8Array;
  connectionType: LinkConnectionType;
  nodeId: string;
}): ProtoLinkNegotiationPayload {
  return {
    linkId: init.linkId,
    slimVersion: SLIM_PROTOCOL_VERSION,
    isReply: init.isReply,
    linkEcdhPublicKey: init.publicKey,
    connectionType: init.connectionType,
    nodeId: init.nodeId,
    deploymentName: "",
  };
}

/** The negotiation payload of a message, or a PROTOCOL error saying why it is not one. */
export function expectNegotiation(msg: ProtoMessage, wantReply: boolean): ProtoLinkNegotiationPayload {
  const t = msg.messageType;
  if (t.case !== "link" || t.value.linkType.case !== "linkNegotiation") {
    throw new SlimError("PROTOCOL", "first message on a link is not a link negotiation");
  }
  const p = t.value.linkType.value;
  if (p.isReply !== wantReply) {
    throw new SlimError("PROTOCOL", wantReply ? "expected a link negotiation reply" : "expected a link negotiation request");
  }
  if (p.linkId.length === 0 || p.linkId.length > 256) throw new SlimError("PROTOCOL", "link id missing or too long");
  if (!SEMVER.test(p.slimVersion)) throw new SlimError("PROTOCOL", `invalid SLIM version ${JSON.stringify(p.slimVersion.slice(0, 64))}`);
  return p;
}

/** Validate the peer's key: strict links need exactly 32 bytes; lenient ones accept none. */
export function peerKeyOf(p: ProtoLinkNegotiationPayload, strict: boolean): Uint8Array | undefined {
  const k = p.linkEcdhPublicKey;
  if (k.length === X25519_KEY_BYTES) return k;
  if (k.length === 0 && !strict) return undefined;
  throw new SlimError("PROTOCOL", `link public key length is invalid: ${k.length}`);
}
