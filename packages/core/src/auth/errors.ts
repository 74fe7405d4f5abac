// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { SlimError, type SlimErrorOptions } from "../errors.js";

/**
 * Why an identity token, a header signature or a connection credential was refused.
 * Carried by {@link SlimAuthError}; messages never include token text or secrets.
 */
export type AuthFailureReason =
  /** Not a token of the expected shape (field count, encoding, JSON). */
  | "malformed"
  /** Issued further in the future than the tolerated clock skew. */
  | "not-yet-valid"
  /** Older than the validity window (shared secret) or past `exp` plus leeway (JWT). */
  | "expired"
  /** The shared-secret HMAC does not match. */
  | "bad-mac"
  /** The same (nonce, timestamp) was already accepted (replay cache enabled). */
  | "replay"
  /** The claims could not be decoded or a claim has the wrong type. */
  | "bad-claims"
  /** A claim the verifier requires is absent. */
  | "missing-claim"
  /** No `pubkey` claim (needed for header signatures and MLS credentials). */
  | "missing-pubkey"
  /** `pubkey` is not canonical standard base64. */
  | "bad-pubkey"
  /** No `sub` (or `id`) claim. */
  | "missing-subject"
  /** JWT header names an algorithm this implementation does not know. */
  | "unsupported-algorithm"
  /** JWT header names an algorithm the verifier was not configured to accept. */
  | "algorithm-not-allowed"
  /** A JWT or header signature does not verify. */
  | "bad-signature"
  /** A command message carries no `e2e_header_sig`. */
  | "missing-signature"
  | "bad-issuer"
  | "bad-audience"
  /** Connection-level: no usable `authorization` header. */
  | "missing-credentials"
  /** Connection-level: credentials present but wrong. */
  | "bad-credentials";

/** A SlimError with code "AUTH" and a machine-readable {@link AuthFailureReason}. */
export class SlimAuthError extends SlimError {
  readonly reason: AuthFailureReason;

  constructor(reason: AuthFailureReason, message: string, options?: SlimErrorOptions) {
    super("AUTH", `${reason}: ${message}`, options);
    this.reason = reason;
  }
}

export function isSlimAuthError(value: unknown, reason?: AuthFailureReason): value is SlimAuthError {
  return value instanceof SlimAuthError && (reason === undefined || value.reason === reason);
}
