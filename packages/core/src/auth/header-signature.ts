// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * End-to-end header signatures (`SLIMHeader.e2e_header_sig`, field 12).
 *
 * The signed bytes are the prost encoding of `HeaderIntegrityAad` built from a Publish exactly as the
 * official session layer does: version 1, the SLIM header's source and destination names (always
 * present, copied as received), its identity token, the session header's type, message type, session
 * id and message id (enum values the official decoder does not know read as 0), and the payload type of
 * an application payload ("" for command payloads). Fields at their default are left out of the
 * encoding. The same bytes are the MLS `authenticated_data` of encrypted application messages.
 *
 * The official sender signs every command message (types 5 to 20) with its identity key (ECDSA P-256,
 * SHA-256, DER); receivers verify DiscoveryRequest always and the command messages of MLS sessions.
 * The signature does not cover ttl, fanout, version, header_mac or the payload bytes.
 */

import { SlimError } from "../errors.js";
import {
  encodeProtoHeaderIntegrityAad,
  type ProtoHeaderIntegrityAad,
  type ProtoName,
  type ProtoPublish,
  SessionMessageType,
  SessionType,
} from "../wire/gen/dataplane.js";
import { SlimAuthError } from "./errors.js";
import { requireIdentity } from "./identity.js";
import { verifyWithRawPublicKey } from "./p256.js";
import type { IdentityVerifier, VerifiedToken, VerifyOptions } from "./types.js";

/** The header fields the signature covers, for callers that do not hold a ProtoPublish. */
export interface HeaderAadFields {
  source: ProtoName;
  destination: ProtoName;
  identity: string;
  sessionType: number;
  sessionMessageType: number;
  sessionId: number;
  messageId: number;
  /** Payload type of an application payload; omit or "" for command messages. */
  payloadType?: string;
}

/** Either a Publish (fields taken as the official code takes them) or the fields themselves. */
export type HeaderAadInput = ProtoPublish | HeaderAadFields;

/** Current HeaderIntegrityAad version. */
export const HEADER_AAD_VERSION = 1;

const KNOWN_SESSION_TYPES = new Set<number>(Object.values(SessionType));
const KNOWN_MESSAGE_TYPES = new Set<number>(Object.values(SessionMessageType));

/** Session message types 5..20 (Discovery*, Join*, Leave*, Group*, Heartbeat, UpdateParticipantState, Rejoin*). */
export function isCommandMessageType(type: number): boolean {
  return type >= SessionMessageType.DISCOVERY_REQUEST && type <= SessionMessageType.REJOIN_REPLY;
}

function isPublish(input: HeaderAadInput): input is ProtoPublish {
  return "msg" in input || "session" in input || "header" in input;
}

function fieldsOf(input: HeaderAadInput): HeaderAadFields {
  if (!isPublish(input)) return input;
  const h = input.header;
  const s = input.session;
  if (h === undefined) throw new SlimError("INVALID_ARGUMENT", "publish has no SLIM header");
  if (s === undefined) throw new SlimError("INVALID_ARGUMENT", "publish has no session header");
  if (h.source === undefined || h.destination === undefined) throw new SlimError("INVALID_ARGUMENT", "publish header lacks source or destination");
  const content = input.msg?.contentType;
  return {
    source: h.source,
    destination: h.destination,
    identity: h.identity,
    sessionType: s.sessionType,
    sessionMessageType: s.sessionMessageType,
    sessionId: s.sessionId,
    messageId: s.messageId,
    payloadType: content?.case === "appPayload" ? content.value.payloadType : "",
  };
}

/** Build the HeaderIntegrityAad message; throws SlimError("INVALID_ARGUMENT") without source/destination. */
export function buildHeaderAad(input: HeaderAadInput): ProtoHeaderIntegrityAad {
  const f = fieldsOf(input);
  if (f.source === undefined || f.destination === undefined) throw new SlimError("INVALID_ARGUMENT", "AAD needs source and destination");
  return {
    version: HEADER_AAD_VERSION,
    source: f.source,
    destination: f.destination,
    identity: f.identity,
    sessionType: (KNOWN_SESSION_TYPES.has(f.sessionType) ? f.sessionType : 0) as SessionType,
    sessionMessageType: (KNOWN_MESSAGE_TYPES.has(f.sessionMessageType) ? f.sessionMessageType : 0) as SessionMessageType,
    sessionId: f.sessionId >>> 0,
    messageId: f.messageId >>> 0,
    payloadType: f.payloadType ?? "",
  };
}

/** The exact bytes that are signed (and used as MLS authenticated data). */
export function encodeHeaderAad(input: HeaderAadInput): Uint8Array {
  return encodeProtoHeaderIntegrityAad(buildHeaderAad(input));
}

/** Anything that signs with the identity key (SharedSecretProvider, JwtProvider, P256SigningKey). */
export interface HeaderSigner {
  sign(data: Uint8Array): Uint8Array;
}

/** DER ECDSA-P256-SHA256 signature over the AAD of `input`. */
export function signHeader(signer: HeaderSigner, input: HeaderAadInput): Uint8Array {
  return signer.sign(encodeHeaderAad(input));
}

/**
 * Check an `e2e_header_sig` against the sender's public key (65/33-byte P-256, or 32-byte Ed25519 as
 * curve25519 builds of the official code use). Returns false for any invalid input; never throws.
 */
export function verifyHeaderSignature(publicKey: Uint8Array, input: HeaderAadInput, signature: Uint8Array): boolean {
  let aad: Uint8Array;
  try {
    aad = encodeHeaderAad(input);
  } catch {
    return false;
  }
  return verifyWithRawPublicKey(publicKey, aad, signature);
}

/**
 * Sign a Publish in place when it is a command message (sets `header.e2eHeaderSig`), as the official
 * sender does after setting the identity token. Data messages are left untouched. Returns whether it signed.
 */
export function applyHeaderSignature(publish: ProtoPublish, signer: HeaderSigner): boolean {
  if (publish.header === undefined || publish.session === undefined) throw new SlimError("INVALID_ARGUMENT", "publish needs SLIM and session headers");
  if (!isCommandMessageType(publish.session.sessionMessageType)) return false;
  publish.header.e2eHeaderSig = signHeader(signer, publish);
  return true;
}

export interface VerifyPublishIdentityOptions extends VerifyOptions {
  /**
   * Also require a valid `e2e_header_sig` on command messages. The official receiver sets this for
   * DiscoveryRequest and for the command messages of MLS sessions.
   */
  requireHeaderSignature: boolean;
}

/**
 * The official receive-side identity check of one Publish: verify the identity token in the SLIM
 * header, then (if required and the message is a command message) the header signature with the
 * token's `pubkey`. Throws SlimAuthError; the replay check on message ids is the session's job.
 */
export function verifyPublishIdentity(publish: ProtoPublish, verifier: IdentityVerifier, options: VerifyPublishIdentityOptions): VerifiedToken {
  const header = publish.header;
  if (header === undefined || publish.session === undefined) throw new SlimAuthError("malformed", "publish needs SLIM and session headers");
  const token = verifier.verifyToken(header.identity, options);
  if (!options.requireHeaderSignature || !isCommandMessageType(publish.session.sessionMessageType)) return token;
  const sig = header.e2eHeaderSig;
  if (sig === undefined) throw new SlimAuthError("missing-signature", "command message has no e2e header signature");
  const identity = requireIdentity(token);
  if (!verifyHeaderSignature(identity.publicKey, publish, sig)) throw new SlimAuthError("bad-signature", "e2e header signature does not verify");
  return identity;
}
