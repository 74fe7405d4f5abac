// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * What an exported group contains, before sealing (state-file.ts):
 *
 *   u8 payload version(1) ‖ u16 ciphersuite id ‖ u32 n ‖ n bytes of JSON {"known": [[token, identity, subject], …]}
 *   ‖ ts-mls encodeGroupState(state)
 *
 * `known` carries the identities of the current members' credentials, so lookups keep working after
 * a restart even when their tokens have aged past the verifier's window. ts-mls' client configuration
 * is not part of its encoding and is attached again on import.
 */

import { type ClientState, decodeGroupState, encodeGroupState, type GroupState } from "ts-mls";
import { SlimError } from "../errors.js";
import type { MemberIdentity } from "./credentials.js";
import { ciphersuiteId, ciphersuiteName, type MlsCiphersuiteId } from "./profile.js";
import { openState, sealState } from "./state-file.js";

const PAYLOAD_VERSION = 1;
const HEAD = 7;

export interface StoredGroup {
  state: GroupState;
  ciphersuite: MlsCiphersuiteId;
  known: [string, MemberIdentity][];
}

/** The group as bytes, in the clear: only ever stored sealed (state-file.ts, or the app store). */
export function encodeGroup(state: ClientState, ciphersuite: MlsCiphersuiteId, known: [string, MemberIdentity][]): Uint8Array {
  const meta = new TextEncoder().encode(JSON.stringify({ known: known.map(([token, id]) => [token, id.identity, id.subject]) }));
  const encoded = encodeGroupState(state);
  const payload = new Uint8Array(HEAD + meta.length + encoded.length);
  const view = new DataView(payload.buffer);
  payload[0] = PAYLOAD_VERSION;
  view.setUint16(1, ciphersuite);
  view.setUint32(3, meta.length);
  payload.set(meta, HEAD);
  payload.set(encoded, HEAD + meta.length);
  encoded.fill(0);
  return payload;
}

export async function exportGroup(state: ClientState, ciphersuite: MlsCiphersuiteId, known: [string, MemberIdentity][], passphrase: string | Uint8Array): Promise<Uint8Array> {
  const payload = encodeGroup(state, ciphersuite, known);
  try {
    return await sealState(payload, passphrase);
  } finally {
    payload.fill(0);
  }
}

function parseKnown(json: string): [string, MemberIdentity][] {
  const meta = JSON.parse(json) as { known?: unknown };
  if (!Array.isArray(meta.known)) throw new SlimError("MLS", "group state payload has no member identities");
  return meta.known.map((entry: unknown) => {
    if (!Array.isArray(entry) || entry.length !== 3 || !entry.every((x) => typeof x === "string")) {
      throw new SlimError("MLS", "group state payload has a malformed member identity");
    }
    const [token, identity, subject] = entry as [string, string, string];
    return [token, { identity, subject }];
  });
}

/** Open and decode an exported group; SlimError("MLS") for anything that is not one. */
export async function importGroup(sealed: Uint8Array, passphrase: string | Uint8Array): Promise<StoredGroup> {
  return decodeGroup(await openState(sealed, passphrase));
}

/** Decode what {@link encodeGroup} wrote; SlimError("MLS") for anything else. */
export function decodeGroup(payload: Uint8Array): StoredGroup {
  // The decoded state keeps views into `payload`, so it is not wiped.
  if (payload.length < HEAD || payload[0] !== PAYLOAD_VERSION) throw new SlimError("MLS", "unknown group state payload version");
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const ciphersuite = view.getUint16(1) as MlsCiphersuiteId;
  ciphersuiteName(ciphersuite);
  const metaLength = view.getUint32(3);
  if (HEAD + metaLength > payload.length) throw new SlimError("MLS", "group state payload is truncated");
  let known: [string, MemberIdentity][];
  let decoded: [GroupState, number] | undefined;
  try {
    known = parseKnown(new TextDecoder("utf-8", { fatal: true }).decode(payload.subarray(HEAD, HEAD + metaLength)));
    decoded = decodeGroupState(payload, HEAD + metaLength);
  } catch (err) {
    throw new SlimError("MLS", "group state payload is malformed", { cause: err });
  }
  if (decoded === undefined || decoded[1] !== payload.length - HEAD - metaLength) throw new SlimError("MLS", "group state payload is malformed");
  if (ciphersuiteId(decoded[0].groupContext.cipherSuite) !== ciphersuite) throw new SlimError("MLS", "group state ciphersuite mismatch");
  return { state: decoded[0], ciphersuite, known };
}
