// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/** Options shared by every verifier. */
export interface VerifyOptions {
  /** Clock to check time claims against, in milliseconds since the epoch (default: Date.now()). */
  nowMs?: number;
}

/** Options shared by every token provider. */
export interface TokenOptions {
  /** Issue time in milliseconds since the epoch (default: Date.now()); seconds are truncated. */
  nowMs?: number;
}

/**
 * A token that passed signature/MAC and time checks. `publicKey` is present when the token carries
 * a valid `pubkey` claim (see {@link VerifiedIdentity} for the variant that requires it).
 */
export interface VerifiedToken {
  kind: "shared-secret" | "jwt";
  /**
   * The identity the official implementation works with (its `sub`): for shared-secret tokens the
   * token id `<org>/<ns>/<svc>_XXXXXXXX`, for JWTs the `sub` claim (or `id`). The MLS credential
   * identity and the app's name id (XXH3-128 of this string) derive from it.
   */
  tokenId: string;
  /** Shared secret: the token id without its `_XXXXXXXX` suffix (e.g. `org/ns/svc`); JWT: `sub`. */
  subject: string;
  /** Issue time, unix seconds (JWT: `iat` when present). */
  issuedAt?: number;
  /** End of validity, unix seconds (shared secret: issue time + validity window; JWT: `exp` when present). */
  expiresAt?: number;
  /** Raw bytes of the `pubkey` claim (standard base64 in the token): the sender's signature public key. */
  publicKey?: Uint8Array;
  /**
   * The claims as the official verifier exposes them. Shared secret: `{sub, iat, exp, custom_claims}`;
   * JWT: the decoded payload.
   */
  claims: Readonly<Record<string, unknown>>;
}

/** A verified token that names its signature key, as header signatures and MLS credentials require. */
export interface VerifiedIdentity extends VerifiedToken {
  publicKey: Uint8Array;
}

/** What a session needs from an app's identity: fresh tokens and its signature key. */
export interface IdentityProvider {
  readonly kind: "shared-secret" | "jwt";
  /** The id the official code calls `get_id()`; app name id = XXH3-128 of it. */
  readonly tokenId: string;
  /** Uncompressed P-256 public key (65 bytes) carried in the `pubkey` claim; a copy. */
  readonly publicKey: Uint8Array;
  /** A freshly minted token (new nonce / timestamps) for the SLIM header `identity` field. */
  token(options?: TokenOptions): string;
  /** The app's 128-bit name id derived from {@link tokenId}. */
  appId(): Promise<bigint>;
  /** DER ECDSA-P256-SHA256 signature with the key behind {@link publicKey}. */
  sign(data: Uint8Array): Uint8Array;
}

/** Verifies identity tokens received in SLIM headers. Throws SlimAuthError (code "AUTH"). */
export interface IdentityVerifier {
  /** Token checks only; `publicKey` may be absent. */
  verifyToken(token: string, options?: VerifyOptions): VerifiedToken;
  /** Token checks plus a decodable `pubkey` claim and a subject. */
  verify(token: string, options?: VerifyOptions): VerifiedIdentity;
}
