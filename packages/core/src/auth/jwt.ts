// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * JWT identity tokens (the official `Jwt` identity provider / verifier and the `Bearer` connection
 * auth), with static keys given as PEM or JWK text, a key file, or a node:crypto KeyObject.
 *
 * Provider tokens: header `{"typ":"JWT","alg":<alg>,"kid":<sub>}`, claims
 * `{iss?, sub, aud? (array), exp: now + duration (default 3600 s), iat: now, nbf: now, ...custom, pubkey}`
 * where `pubkey` is the standard base64 of the app's uncompressed P-256 public key.
 *
 * Verification follows the rules of the library the official verifier uses (jsonwebtoken 10):
 * required claims (default just `exp`), `exp` with 60 s leeway, issuer checked when the token has one
 * and an issuer is configured, a token `aud` must match a configured audience (and is refused when
 * none is configured). Differences, all stricter: only the configured algorithm is accepted (the
 * official verifier accepts any algorithm of the key's family), `nbf` is checked (with the leeway)
 * unless `validateNbf: false`, and claims of the wrong JSON type are refused rather than ignored.
 */

import {
  constants,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  type JsonWebKey,
  KeyObject,
  sign as cryptoSign,
  timingSafeEqual,
  verify as cryptoVerify,
} from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { SlimError } from "../errors.js";
import { appIdFromTokenId } from "../names/app-id.js";
import { decodeBase64UrlNoPad, encodeBase64Standard, encodeBase64UrlNoPad, isPlainObject, nowSeconds } from "./encoding.js";
import { SlimAuthError } from "./errors.js";
import { publicKeyFromClaims, requireIdentity } from "./identity.js";
import { P256SigningKey } from "./p256.js";
import type { IdentityProvider, IdentityVerifier, TokenOptions, VerifiedIdentity, VerifiedToken, VerifyOptions } from "./types.js";

export const JWT_ALGORITHMS = ["HS256", "HS384", "HS512", "ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** Default token lifetime of the official provider, seconds. */
export const JWT_DEFAULT_DURATION_SECONDS = 3600;
/** Default `exp`/`nbf` leeway of the official verifier, seconds. */
export const JWT_DEFAULT_LEEWAY_SECONDS = 60;

type Family = "hmac" | "rsa" | "ec" | "ed";
interface AlgSpec {
  family: Family;
  hash: "sha256" | "sha384" | "sha512" | null;
  pss?: true;
  curve?: "prime256v1" | "secp384r1";
}
const ALG: Record<JwtAlgorithm, AlgSpec> = {
  HS256: { family: "hmac", hash: "sha256" },
  HS384: { family: "hmac", hash: "sha384" },
  HS512: { family: "hmac", hash: "sha512" },
  ES256: { family: "ec", hash: "sha256", curve: "prime256v1" },
  ES384: { family: "ec", hash: "sha384", curve: "secp384r1" },
  RS256: { family: "rsa", hash: "sha256" },
  RS384: { family: "rsa", hash: "sha384" },
  RS512: { family: "rsa", hash: "sha512" },
  PS256: { family: "rsa", hash: "sha256", pss: true },
  PS384: { family: "rsa", hash: "sha384", pss: true },
  PS512: { family: "rsa", hash: "sha512", pss: true },
  EdDSA: { family: "ed", hash: null },
};
const MIN_RSA_BITS = 2048;

const isAlgorithm = (v: unknown): v is JwtAlgorithm => typeof v === "string" && (JWT_ALGORITHMS as readonly string[]).includes(v);

/**
 * A JWT key as the official config describes it: algorithm, format and the key itself.
 * - HS*: `pem` format means the raw shared secret text (UTF-8 bytes are the HMAC key), `jwk` a `{"kty":"oct","k":…}`.
 * - RS*, PS*, ES*, EdDSA: PEM (SPKI / PKCS#1 / PKCS#8 / SEC1) or a JWK; private for providers, public for verifiers
 *   (a private key also works for verifying).
 */
export interface JwtKey {
  algorithm: JwtAlgorithm;
  format?: "pem" | "jwk";
  key: { data: string | JsonWebKey } | { file: string } | { keyObject: KeyObject };
}

function keyMaterial(k: JwtKey): string | JsonWebKey | KeyObject {
  const src = k.key;
  if ("keyObject" in src) return src.keyObject;
  if ("file" in src) {
    try {
      return readFileSync(src.file, "utf8");
    } catch (err) {
      throw new SlimError("CONFIG", `cannot read JWT key file ${JSON.stringify(src.file)}`, { cause: err });
    }
  }
  return src.data;
}

function asJwk(material: string | JsonWebKey): JsonWebKey {
  if (typeof material !== "string") return material;
  try {
    const parsed: unknown = JSON.parse(material);
    if (isPlainObject(parsed)) return parsed as JsonWebKey;
  } catch {
    // fall through
  }
  throw new SlimError("CONFIG", "JWT key is not a JSON Web Key");
}

function checkAsymmetric(alg: JwtAlgorithm, key: KeyObject): KeyObject {
  const spec = ALG[alg];
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails;
  const ok =
    (spec.family === "rsa" && type === "rsa" && (details?.modulusLength ?? 0) >= MIN_RSA_BITS) ||
    (spec.family === "ec" && type === "ec" && details?.namedCurve === spec.curve) ||
    (spec.family === "ed" && type === "ed25519");
  if (!ok) {
    const what = spec.family === "rsa" ? `an RSA key of at least ${MIN_RSA_BITS} bits` : spec.family === "ec" ? `an EC ${spec.curve} key` : "an Ed25519 key";
    throw new SlimError("CONFIG", `JWT algorithm ${alg} needs ${what}`);
  }
  return key;
}

function hmacKey(alg: JwtAlgorithm, k: JwtKey): KeyObject {
  const m = keyMaterial(k);
  let key: KeyObject;
  if (m instanceof KeyObject) {
    key = m;
  } else if (k.format === "jwk" || typeof m !== "string") {
    const jwk = asJwk(m);
    const bytes = jwk.kty === "oct" && typeof jwk.k === "string" ? decodeBase64UrlNoPad(jwk.k) : undefined;
    if (bytes === undefined) throw new SlimError("CONFIG", "HMAC JWK must be {kty:'oct', k:<base64url>}");
    key = createSecretKey(bytes);
  } else {
    key = createSecretKey(Buffer.from(m, "utf8"));
  }
  if (key.type !== "secret" || (key.symmetricKeySize ?? 0) === 0) throw new SlimError("CONFIG", `JWT algorithm ${alg} needs a non-empty secret`);
  return key;
}

function loadKey(k: JwtKey, role: "sign" | "verify"): KeyObject {
  if (!isAlgorithm(k.algorithm)) throw new SlimError("CONFIG", `unsupported JWT algorithm ${JSON.stringify(k.algorithm)}`);
  if (ALG[k.algorithm].family === "hmac") return hmacKey(k.algorithm, k);
  const m = keyMaterial(k);
  let key: KeyObject;
  try {
    if (m instanceof KeyObject) {
      key = m;
    } else if (k.format === "jwk" || typeof m !== "string") {
      const jwk = asJwk(m);
      key = role === "sign" ? createPrivateKey({ key: jwk, format: "jwk" }) : createPublicKey({ key: jwk, format: "jwk" });
    } else {
      key = role === "sign" ? createPrivateKey(m) : createPublicKey(m);
    }
  } catch (err) {
    if (err instanceof SlimError) throw err;
    throw new SlimError("CONFIG", `invalid ${k.algorithm} ${role === "sign" ? "private" : "public"} key`, { cause: err });
  }
  if (role === "sign" && key.type !== "private") throw new SlimError("CONFIG", `JWT signing needs a private key`);
  if (role === "verify" && key.type === "private") key = createPublicKey(key);
  return checkAsymmetric(k.algorithm, key);
}

function jwsSign(alg: JwtAlgorithm, key: KeyObject, input: string): Buffer {
  const spec = ALG[alg];
  const data = Buffer.from(input, "utf8");
  switch (spec.family) {
    case "hmac":
      return createHmac(spec.hash as string, key).update(data).digest();
    case "rsa":
      return cryptoSign(spec.hash, data, spec.pss ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } : { key, padding: constants.RSA_PKCS1_PADDING });
    case "ec":
      return cryptoSign(spec.hash, data, { key, dsaEncoding: "ieee-p1363" });
    case "ed":
      return cryptoSign(null, data, key);
  }
}

function jwsVerify(alg: JwtAlgorithm, key: KeyObject, input: string, sig: Uint8Array): boolean {
  const spec = ALG[alg];
  const data = Buffer.from(input, "utf8");
  try {
    switch (spec.family) {
      case "hmac": {
        const mac = createHmac(spec.hash as string, key).update(data).digest();
        return mac.length === sig.length && timingSafeEqual(mac, sig);
      }
      case "rsa":
        return cryptoVerify(spec.hash, data, spec.pss ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } : { key, padding: constants.RSA_PKCS1_PADDING }, sig);
      case "ec":
        return cryptoVerify(spec.hash, data, { key, dsaEncoding: "ieee-p1363" }, sig);
      case "ed":
        return cryptoVerify(null, data, key, sig);
    }
  } catch {
    return false;
  }
}

const RESERVED_CLAIMS = new Set(["iss", "sub", "aud", "exp", "iat", "nbf", "jti"]);

export interface JwtProviderOptions {
  /** Signing key (HS*: the shared secret; others: a private key). */
  key: JwtKey;
  /** `sub`; also the app's token id (required, as the official provider's `get_id()` needs it). */
  subject: string;
  issuer?: string;
  audience?: readonly string[];
  /** Token lifetime: `exp = now + durationSeconds` (default 3600). */
  durationSeconds?: number;
  /** Extra claims merged into every token (standard claim names are not allowed; `pubkey` is always overwritten). */
  customClaims?: Readonly<Record<string, unknown>>;
  /** The identity signing key whose public key goes in `pubkey` (default: fresh random P-256). */
  signingKey?: P256SigningKey;
}

/** Signs JWT identity tokens carrying the app's `pubkey`, like the official `Jwt` identity provider. */
export class JwtProvider implements IdentityProvider {
  readonly kind = "jwt" as const;
  readonly algorithm: JwtAlgorithm;
  readonly tokenId: string;
  readonly #key: KeyObject;
  readonly #issuer: string | undefined;
  readonly #audience: readonly string[] | undefined;
  readonly #duration: number;
  readonly #custom: Readonly<Record<string, unknown>>;
  readonly #signingKey: P256SigningKey;
  readonly #options: JwtProviderOptions;

  constructor(options: JwtProviderOptions) {
    if (typeof options.subject !== "string" || options.subject.length === 0) throw new SlimError("CONFIG", "JWT provider needs a subject (sub)");
    const duration = options.durationSeconds ?? JWT_DEFAULT_DURATION_SECONDS;
    if (!Number.isSafeInteger(duration) || duration < 0) throw new SlimError("CONFIG", "durationSeconds must be a non-negative integer");
    for (const name of Object.keys(options.customClaims ?? {})) {
      if (RESERVED_CLAIMS.has(name)) throw new SlimError("CONFIG", `custom claim ${JSON.stringify(name)} collides with a standard claim`);
    }
    this.#key = loadKey(options.key, "sign");
    this.algorithm = options.key.algorithm;
    this.tokenId = options.subject;
    this.#issuer = options.issuer;
    this.#audience = options.audience === undefined ? undefined : [...options.audience];
    this.#duration = duration;
    this.#custom = { ...(options.customClaims ?? {}) };
    this.#signingKey = options.signingKey ?? P256SigningKey.generate();
    this.#options = { ...options };
  }

  /**
   * This provider with an identity saved before a restart (app persistence): the same settings and
   * the saved signing key. The token id is the subject, so it must be the saved one.
   */
  restoredAs(saved: { tokenId: string; signingKey: P256SigningKey }): JwtProvider {
    if (saved.tokenId !== this.tokenId) throw new SlimError("CONFIG", `the saved identity is ${JSON.stringify(saved.tokenId)}, this provider's subject ${JSON.stringify(this.tokenId)}`);
    return new JwtProvider({ ...this.#options, signingKey: saved.signingKey });
  }

  get publicKey(): Uint8Array {
    return this.#signingKey.publicKey;
  }

  get signingKey(): P256SigningKey {
    return this.#signingKey;
  }

  /** A freshly signed token: `iat = nbf = now`, `exp = now + duration`. */
  token(options: TokenOptions = {}): string {
    const now = nowSeconds(options.nowMs);
    const claims: Record<string, unknown> = {};
    if (this.#issuer !== undefined) claims["iss"] = this.#issuer;
    claims["sub"] = this.tokenId;
    if (this.#audience !== undefined) claims["aud"] = this.#audience;
    claims["exp"] = now + this.#duration;
    claims["iat"] = now;
    claims["nbf"] = now;
    Object.assign(claims, this.#custom);
    claims["pubkey"] = encodeBase64Standard(this.#signingKey.publicKey);
    return this.signClaims(claims);
  }

  /** Sign arbitrary claims with this provider's key and header (`typ`, `alg`, `kid = sub`). */
  signClaims(claims: Readonly<Record<string, unknown>>): string {
    const header = { typ: "JWT", alg: this.algorithm, kid: this.tokenId };
    const input = `${encodeBase64UrlNoPad(JSON.stringify(header))}.${encodeBase64UrlNoPad(JSON.stringify(claims))}`;
    return `${input}.${jwsSign(this.algorithm, this.#key, input).toString("base64url")}`;
  }

  appId(): Promise<bigint> {
    return appIdFromTokenId(this.tokenId);
  }

  sign(data: Uint8Array): Uint8Array {
    return this.#signingKey.sign(data);
  }
}

export type JwtRequiredClaim = "exp" | "nbf" | "aud" | "iss" | "sub";

export interface JwtVerifierOptions {
  /** Verification key (HS*: the shared secret; others: a public key). */
  key: JwtKey;
  /** Accepted `iss` values (checked when the token has an `iss`). */
  issuer?: string | readonly string[];
  /** Accepted audiences; a token `aud` must intersect them. Without it, tokens that carry `aud` are refused. */
  audience?: readonly string[];
  /** Claims that must be present (default `["exp"]`; the list replaces the default, as in the official verifier). */
  requiredClaims?: readonly JwtRequiredClaim[];
  /** Leeway for `exp` / `nbf`, seconds (default 60). */
  leewaySeconds?: number;
  /** Check `nbf` (default true; the official verifier does not). */
  validateNbf?: boolean;
  /** Accepted header algorithms, all of the key's family (default: only `key.algorithm`). */
  algorithms?: readonly JwtAlgorithm[];
}

const numericDate = z
  .number()
  .refine((v) => Number.isFinite(v) && v >= 0 && v < 2 ** 64, "must be a non-negative NumericDate")
  .transform((v) => Math.round(v));
const stringOrList = z.union([z.string(), z.array(z.string())]);

/** Registered claims the verifier inspects; anything else passes through unchanged. */
export const jwtClaimsSchema = z.looseObject({
  iss: stringOrList.optional(),
  sub: z.string().optional(),
  aud: stringOrList.optional(),
  exp: numericDate.optional(),
  nbf: numericDate.optional(),
  iat: numericDate.optional(),
  jti: z.string().optional(),
});

const jwtHeaderSchema = z.looseObject({
  alg: z.string(),
  typ: z.string().optional(),
  kid: z.string().optional(),
  crit: z.array(z.string()).optional(),
});

function decodeJsonPart(part: string, what: string): unknown {
  const bytes = decodeBase64UrlNoPad(part);
  if (bytes === undefined) throw new SlimAuthError("malformed", `JWT ${what} is not base64url`);
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw new SlimAuthError("malformed", `JWT ${what} is not UTF-8 JSON`, { cause: err });
  }
}

/** Verifies JWTs with a static key; identity claims as the official verifier reads them. */
export class JwtVerifier implements IdentityVerifier {
  readonly #key: KeyObject;
  readonly #algorithms: readonly JwtAlgorithm[];
  readonly #issuer: ReadonlySet<string> | undefined;
  readonly #audience: ReadonlySet<string> | undefined;
  readonly #required: readonly JwtRequiredClaim[];
  readonly #leeway: number;
  readonly #validateNbf: boolean;

  constructor(options: JwtVerifierOptions) {
    this.#key = loadKey(options.key, "verify");
    const algorithms = options.algorithms ?? [options.key.algorithm];
    if (algorithms.length === 0) throw new SlimError("CONFIG", "at least one JWT algorithm must be accepted");
    for (const a of algorithms) {
      if (!isAlgorithm(a) || ALG[a].family !== ALG[options.key.algorithm].family) {
        throw new SlimError("CONFIG", `JWT algorithm ${JSON.stringify(a)} does not fit a ${options.key.algorithm} key`);
      }
      if (ALG[a].curve !== undefined && ALG[a].curve !== ALG[options.key.algorithm].curve) {
        throw new SlimError("CONFIG", `JWT algorithm ${a} does not fit a ${options.key.algorithm} key`);
      }
    }
    this.#algorithms = [...algorithms];
    this.#issuer = options.issuer === undefined ? undefined : new Set(typeof options.issuer === "string" ? [options.issuer] : options.issuer);
    this.#audience = options.audience === undefined ? undefined : new Set(options.audience);
    this.#required = [...(options.requiredClaims ?? ["exp"])];
    const leeway = options.leewaySeconds ?? JWT_DEFAULT_LEEWAY_SECONDS;
    if (!Number.isSafeInteger(leeway) || leeway < 0) throw new SlimError("CONFIG", "leewaySeconds must be a non-negative integer");
    this.#leeway = leeway;
    this.#validateNbf = options.validateNbf ?? true;
  }

  verifyToken(token: string, options: VerifyOptions = {}): VerifiedToken {
    if (typeof token !== "string") throw new SlimAuthError("malformed", "token is not a string");
    const parts = token.split(".");
    if (parts.length !== 3) throw new SlimAuthError("malformed", `expected 3 '.'-separated parts, got ${parts.length}`);
    const [headerPart, payloadPart, sigPart] = parts as [string, string, string];

    const header = jwtHeaderSchema.safeParse(decodeJsonPart(headerPart, "header"));
    if (!header.success) throw new SlimAuthError("malformed", "JWT header is not an object with a string alg");
    const alg = header.data.alg;
    if (!isAlgorithm(alg)) throw new SlimAuthError("unsupported-algorithm", `JWT algorithm ${JSON.stringify(alg.slice(0, 20))} is not supported`);
    if (!this.#algorithms.includes(alg)) throw new SlimAuthError("algorithm-not-allowed", `JWT algorithm ${alg} is not accepted (expected ${this.#algorithms.join(", ")})`);
    if (header.data.crit !== undefined) throw new SlimAuthError("malformed", "JWT header has critical extensions");

    const sig = decodeBase64UrlNoPad(sigPart);
    if (sig === undefined) throw new SlimAuthError("malformed", "JWT signature is not base64url");
    if (!jwsVerify(alg, this.#key, `${headerPart}.${payloadPart}`, sig)) throw new SlimAuthError("bad-signature", "JWT signature does not verify");

    const payload = decodeJsonPart(payloadPart, "payload");
    if (!isPlainObject(payload)) throw new SlimAuthError("bad-claims", "JWT payload is not a JSON object");
    const parsed = jwtClaimsSchema.safeParse(payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new SlimAuthError("bad-claims", `claim ${issue?.path.join(".") ?? "?"}: ${issue?.message ?? "invalid"}`);
    }
    const c = parsed.data;

    for (const name of this.#required) {
      if (c[name] === undefined) throw new SlimAuthError("missing-claim", `required claim ${name} is missing`);
    }
    const now = nowSeconds(options.nowMs);
    if (c.exp !== undefined && c.exp < now - this.#leeway) throw new SlimAuthError("expired", `token expired ${now - c.exp} s ago`);
    if (this.#validateNbf && c.nbf !== undefined && c.nbf > now + this.#leeway) throw new SlimAuthError("not-yet-valid", `token not valid for another ${c.nbf - now} s`);
    if (c.iss !== undefined && this.#issuer !== undefined) {
      const iss = typeof c.iss === "string" ? [c.iss] : c.iss;
      if (!iss.some((i) => this.#issuer?.has(i))) throw new SlimAuthError("bad-issuer", "token issuer is not accepted");
    }
    if (c.aud !== undefined) {
      const aud = typeof c.aud === "string" ? [c.aud] : c.aud;
      if (this.#audience === undefined) throw new SlimAuthError("bad-audience", "token has an audience but none is configured");
      if (!aud.some((a) => this.#audience?.has(a))) throw new SlimAuthError("bad-audience", "token audience is not accepted");
    }

    const id = typeof c.sub === "string" ? c.sub : typeof payload["id"] === "string" ? payload["id"] : "";
    const result: VerifiedToken = { kind: "jwt", tokenId: id, subject: id, claims: payload };
    if (c.iat !== undefined) result.issuedAt = c.iat;
    if (c.exp !== undefined) result.expiresAt = c.exp;
    const publicKey = publicKeyFromClaims(payload);
    if (publicKey !== undefined) result.publicKey = publicKey;
    return result;
  }

  verify(token: string, options: VerifyOptions = {}): VerifiedIdentity {
    return requireIdentity(this.verifyToken(token, options));
  }
}
