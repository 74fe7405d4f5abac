// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/** HKDF (RFC 5869) in its two steps, synchronous on node:crypto: MLS and HPKE use them separately. */

import * as crypto from "node:crypto";

export type HkdfDigest = "sha256" | "sha384" | "sha512";

export const DIGEST_LEN: Record<HkdfDigest, number> = { sha256: 32, sha384: 48, sha512: 64 };

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

const BLOCK: Record<HkdfDigest, number> = { sha256: 64, sha384: 128, sha512: 128 };

/** node:crypto's one-shot hash (Node >= 20.12): no Hmac object and key setup per call. */
const oneShot = (crypto as { hash?: (alg: string, data: Uint8Array, enc: "buffer") => Buffer }).hash;

/**
 * HMAC over the concatenation of `data`. MLS derives a fresh key for almost every HMAC it
 * computes (each ratchet step), so there is no key state to keep: with the one-shot hash,
 * RFC 2104 is two native hash calls over (key XOR ipad || data) and (key XOR opad || inner),
 * about half the cost of a node:crypto Hmac for these short inputs.
 */
export function hmac(digest: HkdfDigest, key: Uint8Array, ...data: Uint8Array[]): Uint8Array {
  if (oneShot === undefined) {
    const h = crypto.createHmac(digest, key);
    for (const d of data) h.update(d);
    return u8(h.digest());
  }
  const block = BLOCK[digest];
  const k = key.length > block ? oneShot(digest, key, "buffer") : key;
  let len = block;
  for (const d of data) len += d.length;
  const inner = Buffer.allocUnsafe(len);
  inner.fill(0x36, 0, block);
  for (let i = 0; i < k.length; i++) inner[i]! ^= k[i]!;
  let off = block;
  for (const d of data) {
    inner.set(d, off);
    off += d.length;
  }
  const innerDigest = oneShot(digest, inner, "buffer");
  const outer = Buffer.allocUnsafe(block + innerDigest.length);
  outer.fill(0x5c, 0, block);
  for (let i = 0; i < k.length; i++) outer[i]! ^= k[i]!;
  outer.set(innerDigest, block);
  return u8(oneShot(digest, outer, "buffer"));
}

/** HKDF-Extract; an empty salt stands for a string of zeros as long as the digest. `ikm` may come in parts. */
export function hkdfExtract(digest: HkdfDigest, salt: Uint8Array, ...ikm: Uint8Array[]): Uint8Array {
  return hmac(digest, salt.length === 0 ? new Uint8Array(DIGEST_LEN[digest]) : salt, ...ikm);
}

export function hkdfExpand(digest: HkdfDigest, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const size = DIGEST_LEN[digest];
  const blocks = Math.ceil(length / size);
  if (blocks > 255) throw new Error("HKDF expand length too large");
  const out = new Uint8Array(blocks * size);
  let previous: Uint8Array = new Uint8Array(0);
  for (let i = 1; i <= blocks; i++) {
    previous = hmac(digest, prk, previous, info, Uint8Array.of(i));
    out.set(previous, (i - 1) * size);
  }
  return length === out.length ? out : out.slice(0, length);
}
