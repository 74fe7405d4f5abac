// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { createECDH, createPrivateKey, createPublicKey, ECDH, generateKeyPairSync, type KeyObject, sign, verify } from "node:crypto";
import { SlimError } from "../errors.js";
import { decodeBase64UrlNoPad, encodeBase64UrlNoPad } from "./encoding.js";

const SCALAR_LEN = 32;
const UNCOMPRESSED_LEN = 65;

function jwkCoordinate(value: string | undefined, what: string): Uint8Array {
  const bytes = value === undefined ? undefined : decodeBase64UrlNoPad(value);
  if (bytes === undefined || bytes.length > SCALAR_LEN) throw new SlimError("INTERNAL", `unexpected P-256 JWK ${what}`);
  const out = new Uint8Array(SCALAR_LEN);
  out.set(bytes, SCALAR_LEN - bytes.length);
  return out;
}

/**
 * The app's identity signing key: ECDSA P-256, the MLS signature key of ciphersuite 2 that the
 * official implementation generates per app. Its public key goes, uncompressed (65 bytes), into the
 * `pubkey` claim of every identity token; it signs `e2e_header_sig` (DER, SHA-256) and MLS objects.
 */
export class P256SigningKey {
  readonly #privateKey: KeyObject;
  readonly #publicKey: Uint8Array;

  private constructor(privateKey: KeyObject) {
    const jwk = privateKey.export({ format: "jwk" });
    const pub = new Uint8Array(UNCOMPRESSED_LEN);
    pub[0] = 0x04;
    pub.set(jwkCoordinate(jwk.x, "x"), 1);
    pub.set(jwkCoordinate(jwk.y, "y"), 1 + SCALAR_LEN);
    this.#privateKey = privateKey;
    this.#publicKey = pub;
  }

  /** A fresh random key pair. */
  static generate(): P256SigningKey {
    return new P256SigningKey(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey);
  }

  /**
   * From a raw big-endian private scalar (up to 32 bytes; shorter values are left-padded with zeros,
   * as the official code does for scalars whose leading zero bytes were stripped).
   */
  static fromPrivateScalar(scalar: Uint8Array): P256SigningKey {
    if (!(scalar instanceof Uint8Array) || scalar.length === 0 || scalar.length > SCALAR_LEN) {
      throw new SlimError("INVALID_ARGUMENT", "P-256 private key must be 1 to 32 bytes");
    }
    const d = new Uint8Array(SCALAR_LEN);
    d.set(scalar, SCALAR_LEN - scalar.length);
    let pub: Buffer;
    try {
      const ecdh = createECDH("prime256v1");
      ecdh.setPrivateKey(d);
      pub = ecdh.getPublicKey();
    } catch (err) {
      throw new SlimError("INVALID_ARGUMENT", "invalid P-256 private key", { cause: err });
    }
    const key = createPrivateKey({
      key: { kty: "EC", crv: "P-256", d: encodeBase64UrlNoPad(d), x: encodeBase64UrlNoPad(pub.subarray(1, 33)), y: encodeBase64UrlNoPad(pub.subarray(33, 65)) },
      format: "jwk",
    });
    return new P256SigningKey(key);
  }

  /** Wrap an existing node:crypto P-256 private key. */
  static fromKeyObject(key: KeyObject): P256SigningKey {
    if (key.type !== "private" || key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
      throw new SlimError("INVALID_ARGUMENT", "expected a P-256 private key");
    }
    return new P256SigningKey(key);
  }

  /** Uncompressed SEC1 public key (0x04 ‖ X ‖ Y, 65 bytes); a copy. */
  get publicKey(): Uint8Array {
    return this.#publicKey.slice();
  }

  /** ECDSA-P256-SHA256 signature of `data`, DER encoded (70 to 72 bytes). */
  sign(data: Uint8Array): Uint8Array {
    return new Uint8Array(sign("sha256", data, { key: this.#privateKey, dsaEncoding: "der" }));
  }

  /** The 32-byte private scalar. Secret: for persisting the identity or handing it to the MLS layer. */
  exportPrivateScalar(): Uint8Array {
    return jwkCoordinate(this.#privateKey.export({ format: "jwk" }).d, "d");
  }

  /** For `util.inspect` / console output: never shows key material. */
  toJSON(): { type: string } {
    return { type: "P256SigningKey" };
  }
}

/** A node:crypto public key from a SEC1 P-256 point (65 bytes uncompressed or 33 compressed); undefined if invalid. */
export function p256PublicKeyFromSec1(bytes: Uint8Array): KeyObject | undefined {
  try {
    let point = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (point.length === 33 && (point[0] === 0x02 || point[0] === 0x03)) {
      point = ECDH.convertKey(point, "prime256v1", undefined, undefined, "uncompressed") as Buffer;
    }
    if (point.length !== UNCOMPRESSED_LEN || point[0] !== 0x04) return undefined;
    return createPublicKey({
      key: { kty: "EC", crv: "P-256", x: encodeBase64UrlNoPad(point.subarray(1, 33)), y: encodeBase64UrlNoPad(point.subarray(33, 65)) },
      format: "jwk",
    });
  } catch {
    return undefined;
  }
}

/** A node:crypto Ed25519 public key from its 32 raw bytes; undefined if invalid. */
export function ed25519PublicKeyFromRaw(bytes: Uint8Array): KeyObject | undefined {
  try {
    return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: encodeBase64UrlNoPad(bytes) }, format: "jwk" });
  } catch {
    return undefined;
  }
}

/** Public keys seen recently, by their bytes: a peer signs every control message with the same key. */
const keyCache = new Map<string, KeyObject>();
const KEY_CACHE_SIZE = 1_024;

function cachedKey(raw: Uint8Array, make: (raw: Uint8Array) => KeyObject | undefined): KeyObject | undefined {
  const id = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("base64");
  const hit = keyCache.get(id);
  if (hit !== undefined) return hit;
  const key = make(raw);
  if (key === undefined) return undefined;
  keyCache.set(id, key);
  if (keyCache.size > KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value!);
  return key;
}

/** {@link p256PublicKeyFromSec1} through the recent-keys cache (by content: public keys are not secret). */
export const cachedP256PublicKey = (raw: Uint8Array): KeyObject | undefined => cachedKey(raw, p256PublicKeyFromSec1);

/** {@link ed25519PublicKeyFromRaw} through the recent-keys cache. */
export const cachedEd25519PublicKey = (raw: Uint8Array): KeyObject | undefined => cachedKey(raw, ed25519PublicKeyFromRaw);

/**
 * Verify a header-integrity signature the way the official `verify_header_aad` does: the key length
 * selects the scheme (65 or 33 bytes: ECDSA P-256 SHA-256 with a DER signature; 32 bytes: Ed25519).
 * Never throws.
 */
export function verifyWithRawPublicKey(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (publicKey.length === 65 || publicKey.length === 33) {
      const key = cachedP256PublicKey(publicKey);
      return key !== undefined && verify("sha256", data, { key, dsaEncoding: "der" }, signature);
    }
    if (publicKey.length === 32) {
      const key = cachedEd25519PublicKey(publicKey);
      return key !== undefined && signature.length === 64 && verify(null, data, key, signature);
    }
    return false;
  } catch {
    return false;
  }
}
