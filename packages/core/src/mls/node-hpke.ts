// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * HPKE (RFC 9180, base mode, single-shot) on node:crypto, for the two MLS suites we run:
 * DHKEM(P-256, HKDF-SHA256) and DHKEM(X25519, HKDF-SHA256), each with HKDF-SHA256 and AES-GCM.
 *
 * ts-mls's stock HPKE (@hpke/core over WebCrypto) costs about 2.4 ms per seal or open and 1.4 ms per
 * DeriveKeyPair on this machine: every step awaits a WebCrypto job and re-imports keys through PKCS#8
 * or JWK. MLS uses HPKE for every Welcome, every KeyPackage and every node of an update path, so group
 * setup and commits were dominated by it. Here each operation is a handful of synchronous node:crypto
 * calls. Outputs are the RFC's, byte for byte (DeriveKeyPair included, which update paths depend on);
 * the unit tests check them against the stock implementation in both directions.
 *
 * Keys handed to ts-mls are opaque objects of ours; ts-mls only passes them back to this module or
 * exports them to bytes.
 */

import { createECDH, createPrivateKey, createPublicKey, diffieHellman, ECDH, generateKeyPairSync, type KeyObject } from "node:crypto";
import type { Ciphersuite, Hpke, PrivateKey, PublicKey } from "ts-mls";
import { CryptoError } from "ts-mls/mlsError.js";
import { gcmDecrypt, gcmEncrypt } from "./gcm.js";
import { hkdfExpand, hkdfExtract } from "./hkdf.js";

const HASH_LEN = 32;
const AEAD_NONCE_LEN = 12;
const MODE_BASE = 0x00;
const HPKE_V1 = new TextEncoder().encode("HPKE-v1");
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** P-256 group order n: a derived candidate scalar must lie in [1, n - 1]. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const X25519_PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20]);
const X25519_SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00]);

interface Kem {
  id: number;
  generate(): { sk: Uint8Array; pk: Uint8Array };
  publicOf(sk: Uint8Array): Uint8Array;
  /** Rejects a malformed or off-curve public key. */
  checkPublic(pk: Uint8Array): void;
  /**
   * Encap's DH: a fresh ephemeral key pair and its shared secret with `pkR` (one key pair, no extra
   * point multiplication). Encap and decap refuse a malformed or off-curve peer key.
   */
  encapDh(pkR: Uint8Array): { dh: Uint8Array; pkE: Uint8Array };
  /** Decap's DH, with our own public key as a by-product (the KEM context needs it). */
  decapDh(skR: Uint8Array, pkE: Uint8Array): { dh: Uint8Array; pkR: Uint8Array };
  derive(dkpPrk: Uint8Array, expand: (label: string, info: Uint8Array, len: number) => Uint8Array): Uint8Array;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const i2osp2 = (n: number): Uint8Array => Uint8Array.of((n >> 8) & 0xff, n & 0xff);

function bytesToBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

function leftPad(bytes: Uint8Array, length: number): Uint8Array {
  if (bytes.length === length) return bytes;
  if (bytes.length > length) throw new CryptoError("HPKE key is too long");
  const out = new Uint8Array(length);
  out.set(bytes, length - bytes.length);
  return out;
}

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/** Uncompressed SEC1 form only (what MLS sends); whether the point is on the curve is OpenSSL's to check. */
function checkP256Format(pk: Uint8Array): void {
  if (pk.length !== 65 || pk[0] !== 0x04) throw new CryptoError("HPKE P-256 public key is not an uncompressed point");
}

const p256: Kem = {
  id: 0x0010,
  generate() {
    const ecdh = createECDH("prime256v1");
    const pk = u8(ecdh.generateKeys());
    return { sk: leftPad(u8(ecdh.getPrivateKey()), 32), pk };
  },
  publicOf(sk) {
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(sk);
    return u8(ecdh.getPublicKey());
  },
  checkPublic(pk) {
    checkP256Format(pk);
    // OpenSSL refuses a point off the curve when it converts it
    ECDH.convertKey(pk, "prime256v1");
  },
  encapDh(pkR) {
    checkP256Format(pkR);
    const ecdh = createECDH("prime256v1");
    const pkE = u8(ecdh.generateKeys());
    // computeSecret refuses a point off the curve
    return { dh: leftPad(u8(ecdh.computeSecret(pkR)), 32), pkE };
  },
  decapDh(skR, pkE) {
    checkP256Format(pkE);
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(skR);
    return { dh: leftPad(u8(ecdh.computeSecret(pkE)), 32), pkR: u8(ecdh.getPublicKey()) };
  },
  derive(dkpPrk, expand) {
    for (let counter = 0; counter < 256; counter++) {
      const candidate = expand("candidate", Uint8Array.of(counter), 32);
      const scalar = bytesToBigInt(candidate);
      if (scalar !== 0n && scalar < P256_ORDER) return candidate;
    }
    throw new CryptoError("HPKE DeriveKeyPair found no valid P-256 scalar");
  },
};

function x25519Private(sk: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.from(concat(X25519_PKCS8_PREFIX, sk)), format: "der", type: "pkcs8" });
}

function x25519Public(pk: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(concat(X25519_SPKI_PREFIX, pk)), format: "der", type: "spki" });
}

/** The 32 raw bytes of an X25519 public key (or of the public half of a private one). */
function x25519Raw(key: KeyObject): Uint8Array {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  return u8(pub.export({ format: "der", type: "spki" })).slice(X25519_SPKI_PREFIX.length);
}

/** RFC 9180 §7.1.4: an all-zero X25519 shared secret (a small-order peer key) must be refused. */
function nonZero(shared: Uint8Array): Uint8Array {
  if (shared.every((b) => b === 0)) throw new CryptoError("HPKE X25519 shared secret is zero");
  return shared;
}

const x25519: Kem = {
  id: 0x0020,
  generate() {
    const { privateKey, publicKey } = generateKeyPairSync("x25519");
    const sk = u8(privateKey.export({ format: "der", type: "pkcs8" })).slice(X25519_PKCS8_PREFIX.length);
    return { sk, pk: x25519Raw(publicKey) };
  },
  publicOf(sk) {
    return x25519Raw(x25519Private(sk));
  },
  checkPublic(pk) {
    if (pk.length !== 32) throw new CryptoError("HPKE X25519 public key must be 32 bytes");
  },
  encapDh(pkR) {
    x25519.checkPublic(pkR);
    const { privateKey, publicKey } = generateKeyPairSync("x25519");
    return { dh: nonZero(u8(diffieHellman({ privateKey, publicKey: x25519Public(pkR) }))), pkE: x25519Raw(publicKey) };
  },
  decapDh(skR, pkE) {
    x25519.checkPublic(pkE);
    const privateKey = x25519Private(skR);
    return { dh: nonZero(u8(diffieHellman({ privateKey, publicKey: x25519Public(pkE) }))), pkR: x25519Raw(privateKey) };
  },
  derive(dkpPrk, expand) {
    return expand("sk", new Uint8Array(0), 32);
  },
};

/** The labelled HKDF steps of RFC 9180 §4, bound to one suite id. */
class Labeled {
  constructor(private readonly suiteId: Uint8Array) {}
  extract(salt: Uint8Array, label: string, ikm: Uint8Array): Uint8Array {
    return hkdfExtract("sha256", salt, HPKE_V1, this.suiteId, utf8(label), ikm);
  }
  expand(prk: Uint8Array, label: string, info: Uint8Array, length: number): Uint8Array {
    return hkdfExpand("sha256", prk, concat(i2osp2(length), HPKE_V1, this.suiteId, utf8(label), info), length);
  }
}

/** Our key handles, passed through ts-mls as its opaque PublicKey / PrivateKey. */
interface HpkePrivate {
  readonly type: "private";
  readonly sk: Uint8Array;
}
interface HpkePublic {
  readonly type: "public";
  readonly pk: Uint8Array;
}

const asPrivate = (k: HpkePrivate): PrivateKey => k as unknown as PrivateKey;
const asPublic = (k: HpkePublic): PublicKey => k as unknown as PublicKey;

function ownPrivate(k: PrivateKey): HpkePrivate {
  const key = k as unknown as Partial<HpkePrivate>;
  if (key.type !== "private" || !(key.sk instanceof Uint8Array)) throw new CryptoError("HPKE private key is not from this provider");
  return key as HpkePrivate;
}

function ownPublic(k: PublicKey): HpkePublic {
  const key = k as unknown as Partial<HpkePublic>;
  if (key.type !== "public" || !(key.pk instanceof Uint8Array)) throw new CryptoError("HPKE public key is not from this provider");
  return key as HpkePublic;
}

const KEMS = { "DHKEM-P256-HKDF-SHA256": p256, "DHKEM-X25519-HKDF-SHA256": x25519 } as const;
const AEADS = { AES128GCM: { id: 0x0001, keyLength: 16 }, AES256GCM: { id: 0x0002, keyLength: 32 } } as const;

/**
 * A node:crypto HPKE for the suite, or undefined when the suite is outside what this module does
 * (then the stock implementation stays).
 */
export function nodeHpke(cs: Ciphersuite): Hpke | undefined {
  const kemOrNone = (KEMS as Record<string, Kem | undefined>)[cs.hpke.kem];
  const aeadOrNone = (AEADS as Record<string, { id: number; keyLength: number } | undefined>)[cs.hpke.aead];
  if (kemOrNone === undefined || aeadOrNone === undefined || cs.hpke.kdf !== "HKDF-SHA256") return undefined;
  const kem: Kem = kemOrNone;
  const aead = aeadOrNone;

  const kemLabels = new Labeled(concat(utf8("KEM"), i2osp2(kem.id)));
  const hpkeLabels = new Labeled(concat(utf8("HPKE"), i2osp2(kem.id), i2osp2(0x0001), i2osp2(aead.id)));
  const empty = new Uint8Array(0);
  const pskIdHash = hpkeLabels.extract(empty, "psk_id_hash", empty);

  function sharedSecret(dh: Uint8Array, enc: Uint8Array, pkR: Uint8Array): Uint8Array {
    const prk = kemLabels.extract(empty, "eae_prk", dh);
    return kemLabels.expand(prk, "shared_secret", concat(enc, pkR), HASH_LEN);
  }

  function encap(pkR: Uint8Array): { shared: Uint8Array; enc: Uint8Array } {
    const { dh, pkE } = kem.encapDh(pkR);
    return { shared: sharedSecret(dh, pkE, pkR), enc: pkE };
  }

  function decap(enc: Uint8Array, skR: HpkePrivate): Uint8Array {
    const { dh, pkR } = kem.decapDh(skR.sk, enc);
    return sharedSecret(dh, enc, pkR);
  }

  function schedule(shared: Uint8Array, info: Uint8Array): { key: Uint8Array; nonce: Uint8Array; exporter: Uint8Array } {
    const context = concat(Uint8Array.of(MODE_BASE), pskIdHash, hpkeLabels.extract(empty, "info_hash", info));
    const secret = hpkeLabels.extract(shared, "secret", empty);
    return {
      key: hpkeLabels.expand(secret, "key", context, aead.keyLength),
      nonce: hpkeLabels.expand(secret, "base_nonce", context, AEAD_NONCE_LEN),
      exporter: hpkeLabels.expand(secret, "exp", context, HASH_LEN),
    };
  }

  const fail = (what: string, e: unknown): CryptoError => (e instanceof CryptoError ? e : new CryptoError(`HPKE ${what} failed: ${e instanceof Error ? e.message : String(e)}`));

  return {
    async seal(publicKey, plaintext, info, aad) {
      try {
        const { shared, enc } = encap(ownPublic(publicKey).pk);
        const { key, nonce } = schedule(shared, info);
        return { ct: gcmEncrypt(key, nonce, aad, plaintext), enc };
      } catch (e) {
        throw fail("seal", e);
      }
    },
    async open(privateKey, kemOutput, ciphertext, info, aad) {
      try {
        const { key, nonce } = schedule(decap(kemOutput, ownPrivate(privateKey)), info);
        return gcmDecrypt(key, nonce, aad, ciphertext);
      } catch (e) {
        throw fail("open", e);
      }
    },
    async exportSecret(publicKey, exporterContext, length, info) {
      try {
        const { shared, enc } = encap(ownPublic(publicKey).pk);
        const { exporter } = schedule(shared, info);
        return { enc, secret: hpkeLabels.expand(exporter, "sec", exporterContext, length) };
      } catch (e) {
        throw fail("export of a secret", e);
      }
    },
    async importSecret(privateKey, exporterContext, kemOutput, length, info) {
      try {
        const { exporter } = schedule(decap(kemOutput, ownPrivate(privateKey)), info);
        return hpkeLabels.expand(exporter, "sec", exporterContext, length);
      } catch (e) {
        throw fail("import of an exported secret", e);
      }
    },
    async importPrivateKey(k) {
      if (k.length !== 32) throw new CryptoError("HPKE private key must be 32 bytes");
      if (kem === p256) {
        const scalar = bytesToBigInt(k);
        if (scalar === 0n || scalar >= P256_ORDER) throw new CryptoError("HPKE P-256 private key is out of range");
      }
      return asPrivate({ type: "private", sk: k.slice() });
    },
    async importPublicKey(k) {
      try {
        kem.checkPublic(k);
      } catch (e) {
        throw fail("public key import", e);
      }
      return asPublic({ type: "public", pk: k.slice() });
    },
    async exportPublicKey(k) {
      return ownPublic(k).pk.slice();
    },
    async exportPrivateKey(k) {
      return ownPrivate(k).sk.slice();
    },
    async encryptAead(key, nonce, aad, plaintext) {
      return gcmEncrypt(key, nonce, aad, plaintext);
    },
    async decryptAead(key, nonce, aad, ciphertext) {
      try {
        return gcmDecrypt(key, nonce, aad, ciphertext);
      } catch (e) {
        throw fail("AEAD decryption", e);
      }
    },
    async deriveKeyPair(ikm) {
      const dkpPrk = kemLabels.extract(empty, "dkp_prk", ikm);
      const sk = kem.derive(dkpPrk, (label, info, len) => kemLabels.expand(dkpPrk, label, info, len));
      const pk = kem.publicOf(sk);
      return { privateKey: asPrivate({ type: "private", sk }), publicKey: asPublic({ type: "public", pk }) };
    },
    async generateKeyPair() {
      const { sk, pk } = kem.generate();
      return { privateKey: asPrivate({ type: "private", sk }), publicKey: asPublic({ type: "public", pk }) };
    },
    keyLength: aead.keyLength,
    nonceLength: AEAD_NONCE_LEN,
  };
}
