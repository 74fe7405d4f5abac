// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * Who we are in an MLS group, and who we let in.
 *
 * A SLIM member's MLS credential is a basic credential whose identity bytes are the UTF-8 identity
 * token of the app, and whose leaf signature key is the app's identity key (the one named by the
 * token's `pubkey` claim). The checks below are the official identity provider's: only basic
 * credentials; the token must verify with the configured verifier (signature/MAC and validity
 * window, at the time of the check); its `pubkey` claim must equal the leaf signature key. A member's
 * identity is the token's subject as the official code uses it (shared secret: the token id
 * `org/ns/app_XXXXXXXX`; JWT: `sub`), and an updated leaf must keep that identity.
 */

import { generateKeyPairSync } from "node:crypto";
import type { AuthenticationService, Credential } from "ts-mls";
import { decodeBase64UrlNoPad } from "../auth/encoding.js";
import type { P256SigningKey } from "../auth/p256.js";
import { isSlimAuthError } from "../auth/errors.js";
import type { IdentityProvider, IdentityVerifier, VerifiedIdentity } from "../auth/types.js";
import { SlimError } from "../errors.js";

/** The key that signs our leaves and messages. */
export interface MlsSigner {
  /** As it appears in the leaf: P-256 uncompressed point (65 bytes) or Ed25519 key (32 bytes). */
  readonly publicKey: Uint8Array;
  /** P-256: the 32-byte private scalar; Ed25519: the 32-byte seed. Secret. */
  exportPrivateKey(): Uint8Array;
}

/** What a member needs to enter a group: a token source and the key the tokens name. */
export interface MlsIdentity {
  /** A currently valid identity token whose `pubkey` claim is {@link signer}'s public key. */
  token(): string;
  readonly signer: MlsSigner;
}

/** The identity of a member, as the official `identity()` yields it. */
export interface MemberIdentity {
  /** Shared secret: the token id (`org/ns/app_XXXXXXXX`); JWT: `sub`. */
  identity: string;
  /** Shared secret: the token id without its random suffix; JWT: `sub`. */
  subject: string;
}

const identities = new WeakMap<object, MlsIdentity>();

/**
 * MLS identity of an app whose identity key is P-256 (SharedSecretProvider, JwtProvider): one object
 * per provider, shared by all of the app's sessions (caches hang off it: the signing key object, the
 * spare key package).
 */
export function mlsIdentityOf(provider: IdentityProvider & { readonly signingKey: P256SigningKey }): MlsIdentity {
  let identity = identities.get(provider);
  if (identity === undefined) {
    const key = provider.signingKey;
    // One array for every group of this identity: the crypto provider caches its signing key by the
    // array's identity, so a fresh copy per group would rebuild the key for each.
    let scalar: Uint8Array | undefined;
    identity = {
      token: () => provider.token(),
      signer: { publicKey: key.publicKey, exportPrivateKey: () => (scalar ??= key.exportPrivateScalar()) },
    };
    identities.set(provider, identity);
  }
  return identity;
}

/** An Ed25519 signer, for ciphersuite 1 (official builds with the `curve25519` feature). */
export class Ed25519MlsSigner implements MlsSigner {
  readonly publicKey: Uint8Array;
  readonly #seed: Uint8Array;

  private constructor(seed: Uint8Array, publicKey: Uint8Array) {
    this.#seed = seed;
    this.publicKey = publicKey;
  }

  static generate(): Ed25519MlsSigner {
    const jwk = generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" });
    const seed = decodeBase64UrlNoPad(jwk.d ?? "");
    const pub = decodeBase64UrlNoPad(jwk.x ?? "");
    if (seed?.length !== 32 || pub?.length !== 32) throw new SlimError("INTERNAL", "Ed25519 key generation failed");
    return new Ed25519MlsSigner(seed, pub);
  }

  exportPrivateKey(): Uint8Array {
    return this.#seed.slice();
  }

  toJSON(): { type: string } {
    return { type: "Ed25519MlsSigner" };
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const CACHE_LIMIT = 4096;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The identity token inside a credential; SlimError("MLS") for anything but a UTF-8 basic credential. */
export function credentialToken(credential: Credential): string {
  if (credential.credentialType !== "basic") {
    throw new SlimError("MLS", `credential rejected: ${credential.credentialType} credentials are not supported (basic only)`);
  }
  try {
    return utf8.decode(credential.identity);
  } catch (err) {
    throw new SlimError("MLS", "credential rejected: identity is not UTF-8", { cause: err });
  }
}

export interface SlimAuthServiceOptions {
  verifier: IdentityVerifier;
  /** Clock for token validity checks, milliseconds (default Date.now). */
  clock?: () => number;
}

/**
 * The authentication service ts-mls consults for every leaf it admits (added key packages, commit
 * leaves, each leaf of a tree received in a Welcome, the GroupInfo signer). It throws
 * SlimError("MLS") with the reason instead of answering false, so callers see why. Identities of
 * accepted credentials are remembered for member lookups, which therefore keep working once tokens
 * have aged past their validity window.
 */
export class SlimAuthService implements AuthenticationService {
  readonly #verifier: IdentityVerifier;
  readonly #clock: () => number;
  readonly #known = new Map<string, MemberIdentity>();
  /** The leaf key each remembered token was accepted with. */
  readonly #keys = new Map<string, Uint8Array>();
  /**
   * While joining: the leaves of the tree we enter belong to members the group admitted when their
   * tokens were fresh, so a token that has since expired is checked as of its own issue time (MAC
   * or signature, claims and key binding still must hold). The official joiner refuses such a tree,
   * which is why its late joiners fail in groups older than the token lifetime; ours do not.
   */
  agedLeavesOk = false;

  constructor(options: SlimAuthServiceOptions) {
    this.#verifier = options.verifier;
    this.#clock = options.clock ?? Date.now;
  }

  now(): number {
    return this.#clock();
  }

  async validateCredential(credential: Credential, signaturePublicKey: Uint8Array): Promise<boolean> {
    this.check(credential, signaturePublicKey);
    return true;
  }

  /** Run the checks; returns the member identity or throws SlimError("MLS"). */
  check(credential: Credential, signaturePublicKey: Uint8Array): MemberIdentity {
    const token = credentialToken(credential);
    // a leaf we accepted before (e.g. the committer's leaf again in a path commit): ageing does not revoke it
    const known = this.#known.get(token);
    const knownKey = this.#keys.get(token);
    if (known !== undefined && knownKey !== undefined && sameBytes(knownKey, signaturePublicKey)) return known;
    let verified: VerifiedIdentity;
    try {
      verified = this.#verifier.verify(token, { nowMs: this.#clock() });
    } catch (err) {
      const issued = this.agedLeavesOk && isSlimAuthError(err, "expired") ? issuedAtMs(token) : undefined;
      if (issued === undefined) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new SlimError("MLS", `credential rejected: identity token does not verify (${reason})`, { cause: err });
      }
      try {
        verified = this.#verifier.verify(token, { nowMs: issued });
      } catch (again) {
        const reason = again instanceof Error ? again.message : String(again);
        throw new SlimError("MLS", `credential rejected: identity token does not verify (${reason})`, { cause: again });
      }
    }
    if (!sameBytes(verified.publicKey, signaturePublicKey)) {
      throw new SlimError("MLS", `credential rejected: public key mismatch for ${verified.tokenId} (the token's pubkey claim is not the leaf signature key)`);
    }
    const identity = { identity: verified.tokenId, subject: verified.subject };
    this.remember(token, identity);
    this.#keys.set(token, signaturePublicKey.slice());
    if (this.#keys.size > CACHE_LIMIT) {
      const oldest = this.#keys.keys().next();
      if (oldest.done !== true) this.#keys.delete(oldest.value);
    }
    return identity;
  }

  /** Identity of a credential already in a tree: remembered, else verified now. */
  identityOf(credential: Credential, signaturePublicKey: Uint8Array): MemberIdentity {
    const known = credential.credentialType === "basic" ? this.#known.get(this.#tokenOrEmpty(credential)) : undefined;
    return known ?? this.check(credential, signaturePublicKey);
  }

  /** Known identities, for persisting with the group state. */
  entries(): [string, MemberIdentity][] {
    return [...this.#known];
  }

  remember(token: string, identity: MemberIdentity): void {
    this.#known.delete(token);
    this.#known.set(token, identity);
    if (this.#known.size > CACHE_LIMIT) {
      const oldest = this.#known.keys().next();
      if (oldest.done !== true) this.#known.delete(oldest.value);
    }
  }

  #tokenOrEmpty(credential: Credential): string {
    try {
      return credentialToken(credential);
    } catch {
      return "";
    }
  }
}

/** When a token was issued (shared secret: its timestamp; JWT: `iat`, else just before `exp`), in ms. */
function issuedAtMs(token: string): number | undefined {
  const parts = token.split(":");
  if (parts.length === 5 && /^[0-9]{1,12}$/.test(parts[1]!)) return Number(parts[1]) * 1000;
  const jwt = token.split(".");
  if (jwt.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(jwt[1]!, "base64url").toString("utf8")) as { iat?: unknown; exp?: unknown };
    if (typeof claims.iat === "number" && Number.isFinite(claims.iat)) return claims.iat * 1000;
    if (typeof claims.exp === "number" && Number.isFinite(claims.exp)) return claims.exp * 1000 - 1000;
  } catch {
    return undefined;
  }
  return undefined;
}
