// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * The TLS presentation language as MLS uses it (RFC 9420 §2.1): big-endian integers and vectors
 * with a variable-length size prefix (1, 2 or 4 bytes, as QUIC varints). Just enough to frame
 * application messages without going through ts-mls' generic codec on every message.
 */

import { SlimError } from "../errors.js";

const MAX_VECTOR = 0x3fff_ffff;

/** Bytes a vector of `length` bytes takes with its size prefix. */
export function vectorSize(length: number): number {
  if (length < 0x40) return 1 + length;
  if (length < 0x4000) return 2 + length;
  if (length <= MAX_VECTOR) return 4 + length;
  throw new SlimError("MLS", `vector of ${length} bytes is too long`);
}

/** Writes into a buffer sized in advance (see {@link vectorSize}). */
export class TlsWriter {
  readonly bytes: Uint8Array;
  private at = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }

  u8(v: number): this {
    this.bytes[this.at++] = v;
    return this;
  }

  u16(v: number): this {
    this.bytes[this.at++] = v >>> 8;
    this.bytes[this.at++] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    this.bytes[this.at++] = v >>> 24;
    this.bytes[this.at++] = (v >>> 16) & 0xff;
    this.bytes[this.at++] = (v >>> 8) & 0xff;
    this.bytes[this.at++] = v & 0xff;
    return this;
  }

  u64(v: bigint): this {
    this.u32(Number((v >> 32n) & 0xffff_ffffn));
    return this.u32(Number(v & 0xffff_ffffn));
  }

  raw(b: Uint8Array): this {
    this.bytes.set(b, this.at);
    this.at += b.length;
    return this;
  }

  /** The size prefix of a vector of `n` bytes, whose content the caller writes next. */
  length(n: number): this {
    if (n < 0x40) return this.u8(n);
    if (n < 0x4000) return this.u16(0x4000 | n);
    return this.u32((0x8000_0000 | n) >>> 0);
  }

  vector(b: Uint8Array): this {
    return this.length(b.length).raw(b);
  }

  /** The buffer; bytes not written (padding) are zero. */
  done(): Uint8Array {
    return this.bytes;
  }
}

/** Reads from `bytes`; every read is bounded, a short or malformed input is SlimError("MLS"). */
export class TlsReader {
  private at = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {}

  get offset(): number {
    return this.at;
  }

  get remaining(): number {
    return this.bytes.length - this.at;
  }

  private need(n: number): void {
    if (this.at + n > this.bytes.length) throw new SlimError("MLS", `malformed ${this.what}: truncated`);
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.at++]!;
  }

  u16(): number {
    this.need(2);
    const v = (this.bytes[this.at]! << 8) | this.bytes[this.at + 1]!;
    this.at += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const b = this.bytes;
    const v = ((b[this.at]! << 24) | (b[this.at + 1]! << 16) | (b[this.at + 2]! << 8) | b[this.at + 3]!) >>> 0;
    this.at += 4;
    return v;
  }

  u64(): bigint {
    const hi = this.u32();
    return (BigInt(hi) << 32n) | BigInt(this.u32());
  }

  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  vector(): Uint8Array {
    const first = this.u8();
    let n: number;
    switch (first >> 6) {
      case 0:
        n = first;
        break;
      case 1:
        n = ((first & 0x3f) << 8) | this.u8();
        break;
      case 2:
        this.need(3);
        n = (((first & 0x3f) << 24) | (this.bytes[this.at]! << 16) | (this.bytes[this.at + 1]! << 8) | this.bytes[this.at + 2]!) >>> 0;
        this.at += 3;
        break;
      default:
        throw new SlimError("MLS", `malformed ${this.what}: 8-byte vector length`);
    }
    return this.raw(n);
  }

  /** The rest must be zeros (MLS padding). */
  zeros(): void {
    for (let i = this.at; i < this.bytes.length; i++) {
      if (this.bytes[i] !== 0) throw new SlimError("MLS", `malformed ${this.what}: non-zero padding`);
    }
    this.at = this.bytes.length;
  }

  end(): void {
    if (this.at !== this.bytes.length) throw new SlimError("MLS", `malformed ${this.what}: ${this.bytes.length - this.at} trailing bytes`);
  }
}
