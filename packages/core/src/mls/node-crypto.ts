// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * A ts-mls CryptoProvider backed by node:crypto for everything on the per-message path.
 *
 * The stock provider verifies P-256 signatures in pure JavaScript (about 2.7 ms each), re-imports the
 * Ed25519 key into WebCrypto on every signature and imports a fresh WebCrypto key for every HMAC and
 * AES-GCM call. Here those become node:crypto calls on cached KeyObjects:
 * - signatures: ECDSA P-256 (SHA-256, DER, high-S accepted) and Ed25519, on the calling thread
 *   ({@link nodeCryptoProvider}) or on libuv's thread pool ({@link nodeCryptoProviderThreaded});
 * - hash, HMAC and HKDF (extract and expand) for SHA-256/384/512;
 * - HPKE and the AEAD used for MLS framing (sender data, message content, Welcome GroupInfo) for
 *   the suites with DHKEM P-256 or X25519, HKDF-SHA256 and AES-GCM ({@link nodeHpke}).
 * Hashes, MACs, HKDF, HPKE and AEAD outputs are byte-for-byte the stock provider's; signatures use
 * the same encodings (ECDSA is randomised), so members on either provider share groups.
 */

import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject, randomFillSync, sign, timingSafeEqual, verify } from "node:crypto";
import { type Ciphersuite, type CiphersuiteImpl, type CryptoProvider, defaultCryptoProvider, type Hash, type Kdf, type Signature } from "ts-mls";
import { decodeBase64UrlNoPad, encodeBase64UrlNoPad } from "../auth/encoding.js";
import { cachedEd25519PublicKey, cachedP256PublicKey, P256SigningKey } from "../auth/p256.js";
import { DIGEST_LEN, type HkdfDigest, hkdfExpand, hkdfExtract, hmac } from "./hkdf.js";
import { nodeHpke } from "./node-hpke.js";

const NODE_DIGEST = { "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" } as const;
const HKDF_DIGEST = { "HKDF-SHA256": "sha256", "HKDF-SHA384": "sha384", "HKDF-SHA512": "sha512" } as const;

/** PKCS#8 wrapping of a 32-byte Ed25519 seed (RFC 8410). */
const ED25519_PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/**
 * Private key objects keyed by the identity of the byte array ts-mls hands us. ts-mls states share
 * their arrays across versions (every state is a shallow copy), so lookups hit after the first use
 * and no secret ever becomes a map key. Public keys go through auth/p256's cache, by content.
 */
function keyCache<K>(build: (bytes: Uint8Array) => K | undefined): (bytes: Uint8Array) => K | undefined {
  const cache = new WeakMap<Uint8Array, K>();
  return (bytes) => {
    let value = cache.get(bytes);
    if (value === undefined) {
      value = build(bytes);
      if (value !== undefined) cache.set(bytes, value);
    }
    return value;
  };
}

const p256Signer = keyCache((scalar) => P256SigningKey.fromPrivateScalar(scalar));
const p256Verifier = cachedP256PublicKey;
const ed25519Signer = keyCache((key): KeyObject => {
  const der = key.length === 32 ? Buffer.concat([ED25519_PKCS8_PREFIX, key]) : Buffer.from(key);
  return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
});
const ed25519Verifier = cachedEd25519PublicKey;

const p256PrivateKey = keyCache((scalar): KeyObject => {
  const pub = P256SigningKey.fromPrivateScalar(scalar).publicKey;
  const d = new Uint8Array(32);
  d.set(scalar, 32 - scalar.length);
  const jwk = { kty: "EC", crv: "P-256", d: encodeBase64UrlNoPad(d), x: encodeBase64UrlNoPad(pub.subarray(1, 33)), y: encodeBase64UrlNoPad(pub.subarray(33)) };
  return createPrivateKey({ key: jwk, format: "jwk" });
});

/** Sign or verify on libuv's thread pool (node:crypto's callback forms). */
function signOffloaded(algorithm: string | null, data: Uint8Array, key: KeyObject, der: boolean): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const options = der ? { key, dsaEncoding: "der" as const } : key;
    sign(algorithm, data, options, (err, sig) => (err === null ? resolve(u8(sig)) : reject(err)));
  });
}

function verifyOffloaded(algorithm: string | null, data: Uint8Array, key: KeyObject, signature: Uint8Array, der: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      const options = der ? { key, dsaEncoding: "der" as const } : key;
      verify(algorithm, data, options, signature, (err, ok) => resolve(err === null && ok));
    } catch {
      resolve(false);
    }
  });
}

const p256SignatureOffloaded: Signature = {
  async sign(signKey, message) {
    const key = p256PrivateKey(signKey);
    if (key === undefined) throw new Error("invalid P-256 signature key");
    return signOffloaded("sha256", message, key, true);
  },
  async verify(publicKey, message, signature) {
    const key = p256Verifier(publicKey);
    return key === undefined ? false : verifyOffloaded("sha256", message, key, signature, true);
  },
  keygen: () => p256Signature.keygen(),
};

const ed25519SignatureOffloaded: Signature = {
  async sign(signKey, message) {
    const key = ed25519Signer(signKey);
    if (key === undefined) throw new Error("invalid Ed25519 signature key");
    return signOffloaded(null, message, key, false);
  },
  async verify(publicKey, message, signature) {
    const key = ed25519Verifier(publicKey);
    return key === undefined || signature.length !== 64 ? false : verifyOffloaded(null, message, key, signature, false);
  },
  keygen: () => ed25519Signature.keygen(),
};

const p256Signature: Signature = {
  async sign(signKey, message) {
    const key = p256Signer(signKey);
    if (key === undefined) throw new Error("invalid P-256 signature key");
    return key.sign(message);
  },
  async verify(publicKey, message, signature) {
    const key = p256Verifier(publicKey);
    if (key === undefined) return false;
    try {
      return verify("sha256", message, { key, dsaEncoding: "der" }, signature);
    } catch {
      return false;
    }
  },
  async keygen() {
    const key = P256SigningKey.generate();
    return { signKey: key.exportPrivateScalar(), publicKey: key.publicKey };
  },
};

const ed25519Signature: Signature = {
  async sign(signKey, message) {
    const key = ed25519Signer(signKey);
    if (key === undefined) throw new Error("invalid Ed25519 signature key");
    return u8(sign(null, message, key));
  },
  async verify(publicKey, message, signature) {
    const key = ed25519Verifier(publicKey);
    if (key === undefined || signature.length !== 64) return false;
    try {
      return verify(null, message, key, signature);
    } catch {
      return false;
    }
  },
  async keygen() {
    const jwk = generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" });
    const signKey = decodeBase64UrlNoPad(jwk.d ?? "");
    const publicKey = decodeBase64UrlNoPad(jwk.x ?? "");
    if (signKey === undefined || publicKey === undefined) throw new Error("Ed25519 key generation failed");
    return { signKey, publicKey };
  },
};

function hashImpl(digest: HkdfDigest): Hash {
  return {
    async digest(data) {
      return u8(createHash(digest).update(data).digest());
    },
    async mac(key, data) {
      return hmac(digest, key, data);
    },
    async verifyMac(key, mac, data) {
      const expected = hmac(digest, key, data);
      return mac.length === expected.length && timingSafeEqual(expected, mac);
    },
  };
}

/** HKDF (RFC 5869) split into its two steps, as MLS uses them separately. */
function kdfImpl(digest: HkdfDigest): Kdf {
  return {
    size: DIGEST_LEN[digest],
    async extract(salt, ikm) {
      return hkdfExtract(digest, salt, ikm);
    },
    async expand(prk, info, len) {
      return hkdfExpand(digest, prk, info, len);
    },
  };
}

// Every application message draws a 4-byte reuse guard; one CSPRNG call per pool refill instead of
// one per message. Bytes handed out are wiped from the pool.
const RNG_POOL = new Uint8Array(4096);
let rngPos = RNG_POOL.length;
const nodeRng = {
  randomBytes(n: number): Uint8Array {
    if (n > 256) return randomFillSync(new Uint8Array(n));
    if (rngPos + n > RNG_POOL.length) {
      randomFillSync(RNG_POOL);
      rngPos = 0;
    }
    const out = RNG_POOL.slice(rngPos, rngPos + n);
    RNG_POOL.fill(0, rngPos, rngPos + n);
    rngPos += n;
    return out;
  },
};

async function buildSuite(cs: Ciphersuite, offload: boolean): Promise<CiphersuiteImpl> {
  const base = await defaultCryptoProvider.getCiphersuiteImpl(cs);
  const digest = NODE_DIGEST[cs.hash];
  const p256 = offload ? p256SignatureOffloaded : p256Signature;
  const ed25519 = offload ? ed25519SignatureOffloaded : ed25519Signature;
  const signature = cs.signature === "P256" ? p256 : cs.signature === "Ed25519" ? ed25519 : base.signature;
  const hpke = nodeHpke(cs) ?? base.hpke;
  return { ...base, hash: hashImpl(digest), kdf: kdfImpl(HKDF_DIGEST[cs.hpke.kdf]), signature, hpke, rng: nodeRng };
}

function provider(offload: boolean): CryptoProvider {
  const suites = new Map<string, Promise<CiphersuiteImpl>>();
  return {
    getCiphersuiteImpl(cs) {
      let impl = suites.get(cs.name);
      if (impl === undefined) {
        impl = buildSuite(cs, offload);
        suites.set(cs.name, impl);
        impl.catch(() => suites.delete(cs.name));
      }
      return impl;
    },
  };
}

/**
 * The node:crypto provider, signing and verifying on the calling thread: lowest latency per
 * operation. Suite implementations are built once and shared (they hold no state).
 */
export const nodeCryptoProvider: CryptoProvider = provider(false);

/**
 * The same with signatures on libuv's thread pool: each signature costs a thread hop (about 0.05 ms),
 * but messages encrypted or decrypted concurrently have their signatures computed in parallel while
 * the main thread frames the next ones.
 */
export const nodeCryptoProviderThreaded: CryptoProvider = provider(true);
