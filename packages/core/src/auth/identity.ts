// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { decodeBase64Standard, isPlainObject } from "./encoding.js";
import { SlimAuthError } from "./errors.js";
import type { VerifiedIdentity, VerifiedToken } from "./types.js";

/**
 * The `pubkey` claim as the official identity reader finds it: a top-level string claim, else a
 * string inside `custom_claims` (where shared-secret claims put it).
 */
export function pubkeyClaim(claims: Readonly<Record<string, unknown>>): string | undefined {
  const top = claims["pubkey"];
  if (typeof top === "string") return top;
  const custom = claims["custom_claims"];
  const nested = isPlainObject(custom) ? custom["pubkey"] : undefined;
  return typeof nested === "string" ? nested : undefined;
}

/** Raw public key bytes of the `pubkey` claim (canonical standard base64), if any. */
export function publicKeyFromClaims(claims: Readonly<Record<string, unknown>>): Uint8Array | undefined {
  const text = pubkeyClaim(claims);
  return text === undefined ? undefined : decodeBase64Standard(text);
}

/** Narrow a verified token to an identity: needs a decodable `pubkey` and a subject. */
export function requireIdentity(token: VerifiedToken): VerifiedIdentity {
  if (pubkeyClaim(token.claims) === undefined) throw new SlimAuthError("missing-pubkey", "token has no pubkey claim");
  if (token.publicKey === undefined) throw new SlimAuthError("bad-pubkey", "pubkey claim is not canonical standard base64");
  if (typeof token.claims["sub"] !== "string" && typeof token.claims["id"] !== "string") {
    throw new SlimAuthError("missing-subject", "token has no sub claim");
  }
  return { ...token, publicKey: token.publicKey };
}
