// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/** HKDF (RFC 5869) in its two steps, synchronous on node:crypto: MLS and HPKE use them separately. */

import { createHmac } from "node:crypto";

export type HkdfDigest = "sha256" | "sha384" | "sha512";

export const DIGEST_LEN: Record<HkdfDigest, number> = { sha256: 32, sha384: 48, sha512: 64 };

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/** HMAC over the concatenation of `data`. */
export function hmac(digest: HkdfDigest, key: Uint8Array, ...data: Uint8Array[]): Uint8Array {
  const h = createHmac(digest, key);
  for (const d of data) h.update(d);
  return u8(h.digest());
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
