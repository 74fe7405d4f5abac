// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// HMAC-SHA256 (RFC 2104, FIPS 180-4) for one fixed key, in plain JS.
//
// A node MACs every header it receives and every header it sends. node:crypto's
// createHmac costs a few microseconds per call in setup alone (a new OpenSSL
// context each time), and much more when the process wakes with cold caches for
// one message at a time, which is how official apps send. Here the key's inner
// and outer states are hashed once per link, and each MAC runs the compression
// function over the preimage with no allocation. Tests check it against
// node:crypto for every length up to several blocks.

import * as crypto from "node:crypto";

const K = roundConstants();
const IV = initialState();

function primes(n: number): number[] {
  const out: number[] = [];
  for (let c = 2; out.length < n; c++) if (out.every((p) => c % p !== 0)) out.push(c);
  return out;
}

/** First 32 bits of the fractional parts of the cube roots of the first 64 primes. */
function roundConstants(): Int32Array {
  return Int32Array.from(primes(64), (p) => fracBits(Math.cbrt(p)));
}

/** First 32 bits of the fractional parts of the square roots of the first 8 primes. */
function initialState(): Int32Array {
  return Int32Array.from(primes(8), (p) => fracBits(Math.sqrt(p)));
}

function fracBits(x: number): number {
  return ((x - Math.floor(x)) * 0x1_0000_0000) | 0;
}

/** One SHA-256 compression of `block[off..off+64)` into `h` (8 words). */
function compress(h: Int32Array, w: Int32Array, block: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++, off += 4) {
    w[i] = (block[off]! << 24) | (block[off + 1]! << 16) | (block[off + 2]! << 8) | block[off + 3]!;
  }
  for (let i = 16; i < 64; i++) {
    const a = w[i - 15]!;
    const b = w[i - 2]!;
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let a = h[0]!;
  let b = h[1]!;
  let c = h[2]!;
  let d = h[3]!;
  let e = h[4]!;
  let f = h[5]!;
  let g = h[6]!;
  let hh = h[7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (hh + S1 + ch + K[i]! + w[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) | 0;
    hh = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + b) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
  h[4] = (h[4]! + e) | 0;
  h[5] = (h[5]! + f) | 0;
  h[6] = (h[6]! + g) | 0;
  h[7] = (h[7]! + hh) | 0;
}

/** Hash `data[0..len)` into `h` as the continuation of `prefix` bytes already hashed, padding included. */
function finish(h: Int32Array, w: Int32Array, t: Uint8Array, data: Uint8Array, len: number, prefix: number): void {
  let off = 0;
  for (; off + 64 <= len; off += 64) compress(h, w, data, off);
  const rest = len - off;
  t.set(data.subarray(off, len), 0);
  t.fill(0, rest);
  t[rest] = 0x80;
  const end = rest + 9 <= 64 ? 64 : 128;
  const bits = (prefix + len) * 8;
  t[end - 5] = Math.floor(bits / 0x1_0000_0000);
  t[end - 4] = bits >>> 24;
  t[end - 3] = bits >>> 16;
  t[end - 2] = bits >>> 8;
  t[end - 1] = bits;
  compress(h, w, t, 0);
  if (end === 128) compress(h, w, t, 64);
}

function writeWords(h: Int32Array, out: Uint8Array): void {
  for (let i = 0, off = 0; i < 8; i++, off += 4) {
    const v = h[i]!;
    out[off] = v >>> 24;
    out[off + 1] = v >>> 16;
    out[off + 2] = v >>> 8;
    out[off + 3] = v;
  }
}

/** node:crypto's one-shot hash (Node >= 20.12): native SHA-256 (SHA-NI where the CPU has it), no object per call. */
const oneShot = (crypto as { hash?: (alg: string, data: Uint8Array, enc: "buffer") => Buffer }).hash;

/**
 * HMAC-SHA256 under one key. Every call is synchronous, so one instance's scratch space is safe to share.
 * The key's pad block and states are ES private fields: they never show in inspect/JSON output.
 */
export class HmacSha256 {
  /** The key XOR ipad: the first block of every inner hash. */
  readonly #ipad = new Uint8Array(64);
  readonly #inner = Int32Array.from(IV);
  readonly #outer = Int32Array.from(IV);
  private readonly h = new Int32Array(8);
  private readonly w = new Int32Array(64);
  private readonly tail = new Uint8Array(128);
  private readonly mid = new Uint8Array(32);

  constructor(key: Uint8Array) {
    let k = key;
    if (k.length > 64) {
      // RFC 2104: a key longer than a block is hashed first
      const d = new Uint8Array(32);
      this.h.set(IV);
      finish(this.h, this.w, this.tail, k, k.length, 0);
      writeWords(this.h, d);
      k = d;
    }
    const pad = new Uint8Array(64);
    for (const [state, byte] of [[this.#inner, 0x36], [this.#outer, 0x5c]] as const) {
      pad.fill(byte);
      for (let i = 0; i < k.length; i++) pad[i]! ^= k[i]!;
      compress(state, this.w, pad, 0);
      if (byte === 0x36) this.#ipad.set(pad);
    }
    pad.fill(0);
  }

  /**
   * MAC of `buf[64..64+len)`; `buf[0..64)` is scratch (overwritten). Leaving that room lets
   * the inner hash run natively in one call over the key block and the message together,
   * and only the outer block runs here, from the precomputed outer state.
   */
  macAfterBlock(buf: Uint8Array, len: number, out: Uint8Array): void {
    if (oneShot === undefined) return this.macInto(buf.subarray(64), len, out);
    buf.set(this.#ipad, 0);
    const inner = oneShot("sha256", buf.subarray(0, 64 + len), "buffer");
    const h = this.h;
    h.set(this.#outer);
    finish(h, this.w, this.tail, inner, 32, 64);
    writeWords(h, out);
  }

  /** MAC of `data[0..len)` written to `out[0..32)`. */
  macInto(data: Uint8Array, len: number, out: Uint8Array): void {
    const h = this.h;
    h.set(this.#inner);
    finish(h, this.w, this.tail, data, len, 64);
    writeWords(h, this.mid);
    h.set(this.#outer);
    finish(h, this.w, this.tail, this.mid, 32, 64);
    writeWords(h, out);
  }

  mac(data: Uint8Array, len = data.length): Uint8Array {
    const out = new Uint8Array(32);
    this.macInto(data, len, out);
    return out;
  }
}

/** Constant-time equality of two 32-byte MACs. */
export function macEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
