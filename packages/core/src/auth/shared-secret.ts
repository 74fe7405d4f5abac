// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * Shared-secret identity tokens, interoperable with the official implementation.
 *
 * Token layout: `id:ts:nonce:claims:mac` where
 * - `id`     = `<base id>_<8 random [A-Za-z0-9]>` (fixed per provider),
 * - `ts`     = issue time, decimal unix seconds,
 * - `nonce`  = base64url (no padding) of 12 random bytes, new for every token,
 * - `claims` = base64url (no padding) of the compact JSON `{"pubkey":"<standard base64 of the public key>"}`
 *              (may be empty in the format),
 * - `mac`    = base64url (no padding) of HMAC-SHA256(UTF-8 secret, "id:ts:nonce:claims").
 *
 * Verification (same order and limits as the official verifier): exactly five `:`-separated fields;
 * `ts` an unsigned 64-bit decimal; not more than 5 s in the future; not older than 3600 s; MAC exactly
 * 43 canonical base64url characters; constant-time MAC comparison; optional (nonce, ts) replay cache.
 */

import { createSecretKey, type KeyObject, randomBytes, randomFillSync, randomInt } from "node:crypto";
import { SlimError } from "../errors.js";
import { appIdFromTokenId } from "../names/app-id.js";
import { Name } from "../names/name.js";
import { decodeBase64UrlNoPad, encodeBase64Standard, encodeBase64UrlNoPad, nowSeconds } from "./encoding.js";
import { SlimAuthError } from "./errors.js";
import { publicKeyFromClaims, requireIdentity } from "./identity.js";
import { HmacSha256, macEqual } from "../util/hmac-sha256.js";
import { P256SigningKey } from "./p256.js";
import type { IdentityProvider, IdentityVerifier, TokenOptions, VerifiedIdentity, VerifiedToken, VerifyOptions } from "./types.js";

/** Minimum shared-secret length in UTF-8 bytes (256 bits). */
export const SHARED_SECRET_MIN_BYTES = 32;
/** Default token validity window, seconds. */
export const SHARED_SECRET_VALIDITY_SECONDS = 3600;
/** Default tolerated forward clock skew, seconds. */
export const SHARED_SECRET_CLOCK_SKEW_SECONDS = 5;
/** Default capacity of the (opt-in) replay cache. */
export const SHARED_SECRET_REPLAY_CACHE_SIZE = 4096;

const NONCE_BYTES = 12;
const MAC_B64_CHARS = 43;
const ID_SUFFIX_CHARS = 8;
const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const U64_MAX = (1n << 64n) - 1n;

// Nonces come from a pooled random buffer: one CSPRNG call per 341 tokens instead of one each.
const NONCE_POOL = new Uint8Array(4_092);
let noncePos = NONCE_POOL.length;
function nonceBytes(n: number): Uint8Array {
  if (noncePos + n > NONCE_POOL.length) {
    randomFillSync(NONCE_POOL);
    noncePos = 0;
  }
  const out = NONCE_POOL.subarray(noncePos, noncePos + n);
  noncePos += n;
  return out;
}

/** The token MAC under the secret, with the key's pad states computed once (see util/hmac-sha256.ts). */
function macerFor(key: KeyObject): HmacSha256 {
  const raw = key.export();
  try {
    return new HmacSha256(raw);
  } finally {
    raw.fill(0);
  }
}

/** Scratch for the MAC input: 64 bytes of room for the HMAC's key block, then the token text. */
let macScratch = Buffer.alloc(1024);
const macOut = new Uint8Array(32);

/** HMAC-SHA256 of the UTF-8 of `message` into a shared 32-byte buffer (read it before the next call). */
function tokenMac(mac: HmacSha256, message: string): Uint8Array {
  if (64 + 3 * message.length > macScratch.length) macScratch = Buffer.alloc(64 + 3 * message.length);
  const written = macScratch.write(message, 64);
  mac.macAfterBlock(macScratch, written, macOut);
  return macOut;
}

function hmacKeyFromSecret(secret: string): KeyObject {
  if (typeof secret !== "string") throw new SlimError("CONFIG", "shared secret must be a string");
  const bytes = Buffer.from(secret, "utf8");
  if (bytes.length < SHARED_SECRET_MIN_BYTES) {
    throw new SlimError("CONFIG", `shared secret is too short: at least ${SHARED_SECRET_MIN_BYTES} bytes are required`);
  }
  const key = createSecretKey(bytes);
  bytes.fill(0);
  return key;
}

function checkBaseId(id: string): void {
  if (typeof id !== "string" || id.length === 0) throw new SlimError("CONFIG", "shared-secret identity id is empty");
  if (id.includes(":")) throw new SlimError("CONFIG", "shared-secret identity id must not contain ':'");
  if (/\p{White_Space}/u.test(id)) throw new SlimError("CONFIG", "shared-secret identity id must not contain whitespace");
}

function randomAlphanumeric(n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return s;
}

/** The claims field as the official provider writes it: base64url(no pad) of `{"pubkey":"<std base64>"}`. */
export function sharedSecretClaimsField(publicKey: Uint8Array): string {
  return encodeBase64UrlNoPad(JSON.stringify({ pubkey: encodeBase64Standard(publicKey) }));
}

/** `<org>/<ns>/<svc>` of a Name, the base id official apps use (no instance id). */
function baseIdOf(name: Name | string): string {
  return name instanceof Name ? name.components.join("/") : name;
}

export interface SharedSecretProviderOptions {
  /**
   * The identity signing key. Default: a fresh random P-256 key, as the official provider generates
   * one per app. Pass one to keep an identity across restarts (with {@link tokenId}).
   */
  signingKey?: P256SigningKey;
  /** Reuse a previously issued token id instead of drawing a new random suffix. */
  tokenId?: string;
}

/** Lets restoredAs() hand the secret's key object to the new provider without the secret's text. */
const HMAC_KEY = Symbol("hmacKey");
interface InternalOptions extends SharedSecretProviderOptions {
  [HMAC_KEY]?: KeyObject;
}

/**
 * Mints shared-secret identity tokens for one app (see the module comment for the format) and holds
 * the app's P-256 signing key whose public key is embedded in every token.
 */
export class SharedSecretProvider implements IdentityProvider {
  readonly kind = "shared-secret" as const;
  /** The configured id without the random suffix (e.g. `org/ns/svc`). */
  readonly baseId: string;
  /** `<baseId>_<8 random alphanumerics>`, fixed for this provider. */
  readonly tokenId: string;
  readonly #hmacKey: KeyObject;
  readonly #mac: HmacSha256;
  readonly #signingKey: P256SigningKey;
  readonly #claims: string;

  /**
   * @param name the app name (`org/ns/svc`; its instance id is not part of the token id) or any id
   *   string without ':' or whitespace, as the official SharedSecret provider config allows.
   * @param secret the shared secret, at least 32 UTF-8 bytes, else SlimError("CONFIG").
   */
  constructor(name: Name | string, secret: string, options: SharedSecretProviderOptions = {}) {
    const baseId = baseIdOf(name);
    checkBaseId(baseId);
    this.#hmacKey = (options as InternalOptions)[HMAC_KEY] ?? hmacKeyFromSecret(secret);
    this.#mac = macerFor(this.#hmacKey);
    this.baseId = baseId;
    if (options.tokenId !== undefined) {
      checkBaseId(options.tokenId);
      this.tokenId = options.tokenId;
    } else {
      this.tokenId = `${baseId}_${randomAlphanumeric(ID_SUFFIX_CHARS)}`;
    }
    this.#signingKey = options.signingKey ?? P256SigningKey.generate();
    this.#claims = sharedSecretClaimsField(this.#signingKey.publicKey);
  }

  get publicKey(): Uint8Array {
    return this.#signingKey.publicKey;
  }

  /** The signing key (for the MLS layer, which must sign with the key named in the token). */
  get signingKey(): P256SigningKey {
    return this.#signingKey;
  }

  /** This provider with an identity saved before a restart (app persistence): same secret, the saved token id and signing key. */
  restoredAs(saved: { tokenId: string; signingKey: P256SigningKey }): SharedSecretProvider {
    if (!saved.tokenId.startsWith(`${this.baseId}_`)) throw new SlimError("CONFIG", `the saved identity ${JSON.stringify(saved.tokenId)} is not one of ${JSON.stringify(this.baseId)}`);
    const options: InternalOptions = { tokenId: saved.tokenId, signingKey: saved.signingKey, [HMAC_KEY]: this.#hmacKey };
    return new SharedSecretProvider(this.baseId, "", options);
  }

  /** A fresh token: current time, new random nonce. */
  token(options: TokenOptions = {}): string {
    const ts = nowSeconds(options.nowMs);
    const nonce = encodeBase64UrlNoPad(nonceBytes(NONCE_BYTES));
    const message = `${this.tokenId}:${ts}:${nonce}:${this.#claims}`;
    return `${message}:${encodeBase64UrlNoPad(tokenMac(this.#mac, message))}`;
  }

  appId(): Promise<bigint> {
    return appIdFromTokenId(this.tokenId);
  }

  sign(data: Uint8Array): Uint8Array {
    return this.#signingKey.sign(data);
  }
}

export interface SharedSecretVerifierOptions {
  /** Maximum token age in seconds (default 3600). */
  validitySeconds?: number;
  /** Tolerated forward clock skew in seconds (default 5). */
  clockSkewSeconds?: number;
  /**
   * Enable the replay cache with this capacity (the official verifier has it disabled by default).
   * When enabled, a (nonce, timestamp) pair is accepted once while it is within the validity window.
   */
  replayCacheSize?: number;
}

interface ParsedToken {
  id: string;
  ts: bigint;
  nonce: string;
  claims: string;
  message: string;
  mac: string;
}

function parseToken(token: string): ParsedToken {
  if (typeof token !== "string") throw new SlimAuthError("malformed", "token is not a string");
  const parts = token.split(":");
  if (parts.length !== 5) throw new SlimAuthError("malformed", `expected 5 ':'-separated fields, got ${parts.length}`);
  const [id, tsText, nonce, claims, mac] = parts as [string, string, string, string, string];
  // Same as Rust `u64::from_str`: optional '+', ASCII digits, no overflow.
  if (!/^\+?[0-9]+$/.test(tsText)) throw new SlimAuthError("malformed", "timestamp is not an unsigned integer");
  const ts = BigInt(tsText);
  if (ts > U64_MAX) throw new SlimAuthError("malformed", "timestamp out of range");
  return { id, ts, nonce, claims, message: token.slice(0, token.length - mac.length - 1), mac };
}

interface ParsedClaims {
  custom: unknown;
  publicKey: Uint8Array | undefined;
}

const CLAIMS_CACHE_SIZE = 256;

function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

/** Verifies shared-secret identity tokens. Throws {@link SlimAuthError} with a precise reason. */
export class SharedSecretVerifier implements IdentityVerifier {
  readonly #mac: HmacSha256;
  readonly #validity: bigint;
  readonly #skew: bigint;
  readonly #replayCapacity: number;
  /** Claims fields seen recently, decoded (see #claimsOf). */
  readonly #claimsCache = new Map<string, ParsedClaims>();
  /** `${ts}:${nonce}` -> ts, in insertion order (only when the replay cache is enabled). */
  readonly #replay = new Map<string, bigint>();

  /** @param secret the shared secret, at least 32 UTF-8 bytes, else SlimError("CONFIG"). */
  constructor(secret: string, options: SharedSecretVerifierOptions = {}) {
    this.#mac = macerFor(hmacKeyFromSecret(secret));
    const validity = options.validitySeconds ?? SHARED_SECRET_VALIDITY_SECONDS;
    const skew = options.clockSkewSeconds ?? SHARED_SECRET_CLOCK_SKEW_SECONDS;
    for (const [what, v] of [["validitySeconds", validity], ["clockSkewSeconds", skew]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw new SlimError("CONFIG", `${what} must be a non-negative integer`);
    }
    const cap = options.replayCacheSize ?? 0;
    if (!Number.isSafeInteger(cap) || cap < 0) throw new SlimError("CONFIG", "replayCacheSize must be a non-negative integer");
    this.#validity = BigInt(validity);
    this.#skew = BigInt(skew);
    this.#replayCapacity = cap;
  }

  get validitySeconds(): number {
    return Number(this.#validity);
  }

  verifyToken(token: string, options: VerifyOptions = {}): VerifiedToken {
    const now = BigInt(nowSeconds(options.nowMs));
    const p = parseToken(token);

    if (p.ts > now) {
      if (p.ts - now > this.#skew) throw new SlimAuthError("not-yet-valid", `token issued ${p.ts - now} s in the future (skew ${this.#skew} s)`);
    } else if (now - p.ts > this.#validity) {
      throw new SlimAuthError("expired", `token is ${now - p.ts} s old (validity ${this.#validity} s)`);
    }

    if (p.mac.length !== MAC_B64_CHARS) throw new SlimAuthError("malformed", `MAC must be ${MAC_B64_CHARS} base64url characters`);
    const mac = decodeBase64UrlNoPad(p.mac);
    if (mac === undefined) throw new SlimAuthError("malformed", "MAC is not canonical base64url");
    if (!macEqual(tokenMac(this.#mac, p.message), mac)) throw new SlimAuthError("bad-mac", "token MAC does not match the shared secret");

    this.#recordReplay(p, now);

    const { custom, publicKey } = this.#claimsOf(p.claims);

    const issuedAt = Number(p.ts);
    const expiresAt = Number(p.ts + this.#validity);
    const claims = { sub: p.id, iat: issuedAt, exp: expiresAt, custom_claims: custom };
    const sep = p.id.lastIndexOf("_");
    const result: VerifiedToken = {
      kind: "shared-secret",
      tokenId: p.id,
      subject: sep < 0 ? p.id : p.id.slice(0, sep),
      issuedAt,
      expiresAt,
      claims,
    };
    if (publicKey !== undefined) result.publicKey = publicKey.slice();
    return result;
  }

  /**
   * The decoded claims field. A sender's claims are the same in every token (its public key), so
   * the decoded form is kept for the most recent senders; the JSON is frozen, since results share it.
   */
  #claimsOf(field: string): ParsedClaims {
    const hit = this.#claimsCache.get(field);
    if (hit !== undefined) return hit;
    let custom: unknown = {};
    if (field !== "") {
      const raw = decodeBase64UrlNoPad(field);
      if (raw === undefined) throw new SlimAuthError("bad-claims", "claims field is not canonical base64url");
      try {
        custom = deepFreeze(JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw)));
      } catch (err) {
        throw new SlimAuthError("bad-claims", "claims field is not UTF-8 JSON", { cause: err });
      }
    }
    const parsed: ParsedClaims = { custom, publicKey: publicKeyFromClaims({ custom_claims: custom }) };
    this.#claimsCache.set(field, parsed);
    if (this.#claimsCache.size > CLAIMS_CACHE_SIZE) this.#claimsCache.delete(this.#claimsCache.keys().next().value!);
    return parsed;
  }

  verify(token: string, options: VerifyOptions = {}): VerifiedIdentity {
    return requireIdentity(this.verifyToken(token, options));
  }

  #recordReplay(p: ParsedToken, now: bigint): void {
    if (this.#replayCapacity === 0) return;
    // Drop expired entries from the oldest end, stopping at the first live one (as the official cache does).
    for (const [key, ts] of this.#replay) {
      if (now > ts && now - ts > this.#validity) this.#replay.delete(key);
      else break;
    }
    const key = `${p.ts}:${p.nonce}`;
    if (this.#replay.has(key)) throw new SlimAuthError("replay", "token was already used");
    if (this.#replay.size >= this.#replayCapacity) {
      const oldest = this.#replay.keys().next();
      if (oldest.done !== true) this.#replay.delete(oldest.value);
    }
    this.#replay.set(key, p.ts);
  }
}
