// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/** AES-GCM (128 or 256 by key length, 16-byte tag appended) on node:crypto, shared by MLS framing and HPKE. */

import { createCipheriv, createDecipheriv } from "node:crypto";

const GCM_TAG_BYTES = 16;

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

function gcmAlgorithm(key: Uint8Array): "aes-128-gcm" | "aes-256-gcm" {
  if (key.length === 16) return "aes-128-gcm";
  if (key.length === 32) return "aes-256-gcm";
  throw new Error(`invalid AES-GCM key length ${key.length}`);
}

export function gcmEncrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array | undefined, plaintext: Uint8Array): Uint8Array {
  const cipher = createCipheriv(gcmAlgorithm(key), key, nonce, { authTagLength: GCM_TAG_BYTES });
  if (aad !== undefined && aad.length > 0) cipher.setAAD(aad);
  const head = cipher.update(plaintext);
  const tail = cipher.final();
  const out = new Uint8Array(head.length + tail.length + GCM_TAG_BYTES);
  out.set(head, 0);
  out.set(tail, head.length);
  out.set(cipher.getAuthTag(), head.length + tail.length);
  return out;
}

export function gcmDecrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array | undefined, ciphertext: Uint8Array): Uint8Array {
  if (ciphertext.length < GCM_TAG_BYTES) throw new Error("AES-GCM ciphertext shorter than its tag");
  const body = ciphertext.subarray(0, ciphertext.length - GCM_TAG_BYTES);
  const decipher = createDecipheriv(gcmAlgorithm(key), key, nonce, { authTagLength: GCM_TAG_BYTES });
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - GCM_TAG_BYTES));
  if (aad !== undefined && aad.length > 0) decipher.setAAD(aad);
  const head = decipher.update(body);
  const tail = decipher.final();
  if (tail.length === 0) return u8(head);
  return u8(Buffer.concat([head, tail]));
}
