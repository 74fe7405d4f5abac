// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * Passphrase encryption for MLS group state at rest. A group state holds the member's signature
 * private key and the current epoch secrets, so it is only ever written sealed:
 *
 *   "SLIMMLS" ‖ u8 format(1) ‖ u8 log2(N) ‖ u8 r ‖ u8 p ‖ salt(16) ‖ nonce(12) ‖ AES-256-GCM(ciphertext ‖ tag(16))
 *
 * The key is scrypt(passphrase, salt, N, r, p) (32 bytes, fresh salt per export); the whole header
 * is the GCM additional data, so any change to it, to the ciphertext or the tag, or a wrong passphrase
 * fails the same way. scrypt parameters are read back from the header but bounded, so a crafted file
 * cannot make an import allocate or compute without limit.
 */

import { createCipheriv, createDecipheriv, randomBytes, scrypt } from "node:crypto";
import { SlimError } from "../errors.js";

const MAGIC = new TextEncoder().encode("SLIMMLS");
const FORMAT = 1;
const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = MAGIC.length + 4 + SALT_BYTES + NONCE_BYTES;

/** scrypt cost written by {@link sealState}: N = 2^15, r = 8, p = 1 (32 MiB, tens of ms). */
export const STATE_SCRYPT = { log2N: 15, r: 8, p: 1 } as const;
const MAX_LOG2N = 20;
const MAX_R = 16;
const MAX_P = 4;

export interface ScryptCost {
  log2N: number;
  r: number;
  p: number;
}

function passphraseBytes(passphrase: string | Uint8Array): Uint8Array {
  const bytes = typeof passphrase === "string" ? new TextEncoder().encode(passphrase) : passphrase;
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new SlimError("INVALID_ARGUMENT", "state passphrase must not be empty");
  return bytes;
}

function deriveKey(passphrase: Uint8Array, salt: Uint8Array, cost: ScryptCost): Promise<Buffer> {
  const N = 2 ** cost.log2N;
  const maxmem = 128 * N * cost.r * cost.p + 16 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(passphrase, salt, 32, { N, r: cost.r, p: cost.p, maxmem }, (err, key) => (err === null ? resolve(key) : reject(err)));
  });
}

/** Encrypt `plaintext` under `passphrase`. */
export async function sealState(plaintext: Uint8Array, passphrase: string | Uint8Array, cost: ScryptCost = STATE_SCRYPT): Promise<Uint8Array> {
  const secret = passphraseBytes(passphrase);
  const header = new Uint8Array(HEADER_BYTES);
  header.set(MAGIC, 0);
  let at = MAGIC.length;
  header.set([FORMAT, cost.log2N, cost.r, cost.p], at);
  at += 4;
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  header.set(salt, at);
  header.set(nonce, at + SALT_BYTES);
  const key = await deriveKey(secret, salt, cost);
  try {
    const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(header);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    const out = new Uint8Array(header.length + body.length);
    out.set(header, 0);
    out.set(body, header.length);
    return out;
  } finally {
    key.fill(0);
  }
}

/** Decrypt a sealed state; SlimError("MLS") for a wrong passphrase, a damaged file or an unknown format. */
export async function openState(sealed: Uint8Array, passphrase: string | Uint8Array): Promise<Uint8Array> {
  const secret = passphraseBytes(passphrase);
  if (!(sealed instanceof Uint8Array) || sealed.length < HEADER_BYTES + TAG_BYTES) throw new SlimError("MLS", "not a sealed MLS state (too short)");
  for (let i = 0; i < MAGIC.length; i++) if (sealed[i] !== MAGIC[i]) throw new SlimError("MLS", "not a sealed MLS state (bad magic)");
  const at = MAGIC.length;
  const [format, log2N, r, p] = [sealed[at], sealed[at + 1], sealed[at + 2], sealed[at + 3]] as [number, number, number, number];
  if (format !== FORMAT) throw new SlimError("MLS", `sealed MLS state has unknown format ${format}`);
  if (log2N < 10 || log2N > MAX_LOG2N || r < 1 || r > MAX_R || p < 1 || p > MAX_P) {
    throw new SlimError("MLS", "sealed MLS state has out-of-range key derivation parameters");
  }
  const salt = sealed.subarray(at + 4, at + 4 + SALT_BYTES);
  const nonce = sealed.subarray(at + 4 + SALT_BYTES, HEADER_BYTES);
  const body = sealed.subarray(HEADER_BYTES, sealed.length - TAG_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const key = await deriveKey(secret, salt, { log2N, r, p });
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(sealed.subarray(0, HEADER_BYTES));
    decipher.setAuthTag(tag);
    return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]));
  } catch (err) {
    throw new SlimError("MLS", "cannot open sealed MLS state: wrong passphrase or damaged data", { cause: err });
  } finally {
    key.fill(0);
  }
}
