// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * Minimal protobuf (proto3) wire runtime used by the generated code in `gen/`.
 *
 * Encoding follows prost (the encoder of the official Rust implementation) byte for byte:
 * minimal varints, int32 enums sign-extended to 10 bytes when negative, nested lengths written
 * as minimal varints. The generated code decides field order and which fields are skipped.
 *
 * Decoding is bounded and only ever throws {@link SlimError}: "MESSAGE_TOO_LARGE" when the
 * input is longer than `maxBytes`, "PROTOCOL" for anything malformed. `bytes` fields of a decoded
 * message are views into the input (no copy): do not mutate the input while the message is in use.
 *
 * @internal
 */

import { SlimError } from "../errors.js";

/** Same limit as the official node (tonic's default decode limit). */
export const DEFAULT_MAX_DECODE_BYTES = 4 * 1024 * 1024;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_FIXED32 = 5;

const TWO_32 = 4294967296;
const MASK_32 = 0xffffffffn;
/** Strings up to this many UTF-16 units / bytes are encoded and decoded by hand. */
const SHORT_STRING = 8;

/** Shared empty default for `bytes` fields; it has no elements, so sharing it is harmless. */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

function malformed(what: string): SlimError {
  return new SlimError("PROTOCOL", `malformed protobuf: ${what}`);
}

/** Reads one message; `end` is the limit of the message currently being read. */
export class Reader {
  readonly buf: Uint8Array;
  pos = 0;
  end: number;
  /** High 32 bits of the last {@link varint64} result. */
  private hi = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.end = buf.length;
  }

  /** Reads a field key and returns it as an unsigned 32-bit number (field << 3 | wire type). */
  tag(): number {
    const pos = this.pos;
    if (pos < this.end) {
      const b = this.buf[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
    }
    const lo = this.varint64();
    if (this.hi !== 0) throw malformed("field key does not fit 32 bits");
    return lo >>> 0;
  }

  /** Unsigned 32-bit value: low 32 bits of the varint, as prost truncates. */
  uint32(): number {
    return this.varint32() >>> 0;
  }

  /** Signed 32-bit value (enums): low 32 bits of the varint, two's complement. */
  int32(): number {
    return this.varint32() | 0;
  }

  uint64(): bigint {
    const lo = this.varint64() >>> 0;
    const hi = this.hi >>> 0;
    if (hi < 0x200000) return BigInt(hi * TWO_32 + lo);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  bool(): boolean {
    const lo = this.varint64();
    return (lo | this.hi) !== 0;
  }

  /** Length-delimited UTF-8 string; invalid UTF-8 is a PROTOCOL error. */
  string(): string {
    const len = this.length();
    const start = this.pos;
    const end = start + len;
    this.pos = end;
    return decodeUtf8(this.buf, start, end);
  }

  /** Length-delimited bytes, returned as a view into the input. */
  bytes(): Uint8Array {
    const len = this.length();
    const start = this.pos;
    this.pos = start + len;
    return len === 0 ? EMPTY_BYTES : this.buf.subarray(start, start + len);
  }

  /** Reads the length of a nested message and narrows `end` to it; returns the previous end. */
  enter(): number {
    const len = this.length();
    const prev = this.end;
    this.end = this.pos + len;
    return prev;
  }

  /**
   * Handles a key the generated switch did not recognise: a known field number with the wrong
   * wire type is an error, an unknown field is skipped, groups and invalid wire types are errors.
   */
  unknown(tag: number, known: readonly number[]): void {
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 0) throw malformed("field number 0");
    if (known.includes(field)) throw malformed(`wire type ${wire} not valid for field ${field}`);
    switch (wire) {
      case WIRE_VARINT:
        this.varint64();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_LEN:
        this.advance(this.length());
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      case WIRE_START_GROUP:
      case WIRE_END_GROUP:
        throw malformed(`group wire type (field ${field}) not supported`);
      default:
        throw malformed(`invalid wire type ${wire}`);
    }
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) throw malformed("field runs past the end of its message");
    this.pos += n;
  }

  /** A length prefix, checked against the bytes left in the current message. */
  private length(): number {
    const pos = this.pos;
    let len: number;
    if (pos < this.end && this.buf[pos]! < 0x80) {
      len = this.buf[pos]!;
      this.pos = pos + 1;
    } else {
      len = this.varint64() >>> 0;
      if (this.hi !== 0) throw malformed("length prefix too large");
    }
    if (len > this.end - this.pos) throw malformed("length prefix runs past the end of its message");
    return len;
  }

  /** Low 32 bits of a varint (which may be up to 10 bytes long). */
  private varint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    if (this.end - pos < 10) return this.varint64();
    let b = buf[pos++]!;
    let v = b & 0x7f;
    if (b >= 0x80) {
      b = buf[pos++]!;
      v |= (b & 0x7f) << 7;
      if (b >= 0x80) {
        b = buf[pos++]!;
        v |= (b & 0x7f) << 14;
        if (b >= 0x80) {
          b = buf[pos++]!;
          v |= (b & 0x7f) << 21;
          if (b >= 0x80) {
            b = buf[pos++]!;
            v |= b << 28;
            // Bytes 6..10 carry only high bits: check the terminator and the 64-bit bound.
            for (let i = 5; b >= 0x80; i++) {
              b = buf[pos++]!;
              if (i === 9 && b > 1) throw malformed("varint longer than 64 bits");
            }
          }
        }
      }
    }
    this.pos = pos;
    return v;
  }

  /** Full varint with bounds checks; returns the low 32 bits and leaves the high 32 in `hi`. */
  private varint64(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; ; i++) {
      if (pos >= end) throw malformed("truncated varint");
      const b = buf[pos++]!;
      if (i < 4) {
        lo |= (b & 0x7f) << (7 * i);
      } else if (i === 4) {
        lo |= (b & 0x7f) << 28;
        hi = (b & 0x7f) >>> 4;
      } else if (i < 9) {
        hi |= (b & 0x7f) << (7 * i - 32);
      } else {
        if (b > 1) throw malformed("varint longer than 64 bits");
        hi |= b << 31;
      }
      if (b < 0x80) break;
    }
    this.pos = pos;
    this.hi = hi;
    return lo;
  }
}

function decodeUtf8(buf: Uint8Array, start: number, end: number): string {
  if (end - start <= SHORT_STRING) {
    // Short ASCII strings: a JS loop beats the TextDecoder call overhead.
    let s = "";
    let i = start;
    for (; i < end; i++) {
      const b = buf[i]!;
      if (b >= 0x80) break;
      s += String.fromCharCode(b);
    }
    if (i === end) return s;
  }
  try {
    return utf8Decoder.decode(buf.subarray(start, end));
  } catch (cause) {
    throw new SlimError("PROTOCOL", "malformed protobuf: invalid UTF-8 in string field", { cause });
  }
}

/** Growable output buffer. Nested lengths are reserved as one byte and widened if needed. */
export class Writer {
  buf: Uint8Array;
  pos = 0;

  constructor(initialSize = 1024) {
    this.buf = new Uint8Array(initialSize);
  }

  /** A field key (precomputed by the generator). */
  tag(tag: number): void {
    if (tag < 0x80) {
      this.ensure(1);
      this.buf[this.pos++] = tag;
    } else {
      this.uint32(tag);
    }
  }

  uint32(v: number): void {
    this.ensure(5);
    const buf = this.buf;
    let pos = this.pos;
    v >>>= 0;
    while (v > 0x7f) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  /** Enum values: negative numbers are sign-extended to 64 bits (10 bytes), as prost does. */
  int32(v: number): void {
    v |= 0;
    if (v >= 0) this.uint32(v);
    else this.varint64(v >>> 0, 0xffffffff);
  }

  /** Values are taken modulo 2^64 (two's complement for negative bigints). */
  uint64(v: bigint): void {
    if (v >= 0n && v <= 0xffffffffn) this.uint32(Number(v));
    else this.varint64(Number(v & MASK_32), Number((v >> 32n) & MASK_32));
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  /** Length-prefixed bytes. */
  bytes(v: Uint8Array): void {
    const len = v.length;
    this.uint32(len);
    this.ensure(len);
    const buf = this.buf;
    let pos = this.pos;
    if (len <= 32) {
      for (let i = 0; i < len; i++) buf[pos++] = v[i]!;
    } else {
      buf.set(v, pos);
      pos += len;
    }
    this.pos = pos;
  }

  /** Length-prefixed UTF-8; lone surrogates become U+FFFD, as with TextEncoder. */
  string(s: string): void {
    const n = s.length;
    // UTF-8 is at least n and at most 3n bytes: reserve the prefix for n, widen afterwards.
    const reserved = varintSize(n);
    this.ensure(reserved + 3 * n + 5);
    const buf = this.buf;
    const start = this.pos + reserved;
    let pos = start;
    if (n > SHORT_STRING) {
      pos += utf8Encoder.encodeInto(s, buf.subarray(start)).written;
    } else {
      for (let i = 0; i < n; i++) {
        let c = s.charCodeAt(i);
        if (c < 0x80) {
          buf[pos++] = c;
        } else if (c < 0x800) {
          buf[pos++] = 0xc0 | (c >> 6);
          buf[pos++] = 0x80 | (c & 0x3f);
        } else if (c < 0xd800 || c > 0xdfff) {
          buf[pos++] = 0xe0 | (c >> 12);
          buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
          buf[pos++] = 0x80 | (c & 0x3f);
        } else {
          const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
          if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
            i++;
            c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
            buf[pos++] = 0xf0 | (c >> 18);
            buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
            buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
            buf[pos++] = 0x80 | (c & 0x3f);
          } else {
            buf[pos++] = 0xef;
            buf[pos++] = 0xbf;
            buf[pos++] = 0xbd;
          }
        }
      }
    }
    this.pos = pos;
    this.prefix(start, reserved);
  }

  /** Reserves one byte for the length of a nested message; pass the result to {@link end}. */
  begin(): number {
    this.ensure(1);
    return ++this.pos;
  }

  /** Writes the length of the nested message started at `start`. */
  end(start: number): void {
    const len = this.pos - start;
    if (len < 0x80) this.buf[start - 1] = len;
    else this.prefix(start, 1);
  }

  /** Copies the written bytes out. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** Writes the length of [start, pos) into the `reserved` bytes before start, widening if needed. */
  private prefix(start: number, reserved: number): void {
    const len = this.pos - start;
    const size = varintSize(len);
    if (size !== reserved) {
      const shift = size - reserved;
      this.ensure(shift);
      this.buf.copyWithin(start + shift, start, this.pos);
      this.pos += shift;
    }
    const buf = this.buf;
    let pos = start - reserved;
    let v = len;
    while (v > 0x7f) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos] = v;
  }

  private varint64(lo: number, hi: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    while (hi !== 0 || lo > 0x7f) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[pos++] = lo;
    this.pos = pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
}

function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

/** Writes one map<string, string> entry (prost leaves out an empty key or value). */
export function writeStringMapEntry(w: Writer, tag: number, key: string, value: string): void {
  w.tag(tag);
  const start = w.begin();
  if (key !== "") {
    w.tag(10);
    w.string(key);
  }
  if (value !== "") {
    w.tag(18);
    w.string(value);
  }
  w.end(start);
}

/** Reads one map<string, string> entry into `map` (a later duplicate key wins). */
export function readStringMapEntry(r: Reader, map: Map<string, string>): void {
  const prev = r.enter();
  let key = "";
  let value = "";
  while (r.pos < r.end) {
    const t = r.tag();
    if (t === 10) key = r.string();
    else if (t === 18) value = r.string();
    else r.unknown(t, MAP_ENTRY_FIELDS);
  }
  r.end = prev;
  map.set(key, value);
}

const MAP_ENTRY_FIELDS: readonly number[] = [1, 2];

const SCRATCH_LIMIT = 1024 * 1024;
let scratch: Writer | undefined;
let scratchBusy = false;

/** Encodes with a reused scratch buffer and returns a right-sized copy. */
export function encodeWith<T>(message: T, write: (w: Writer, m: T) => void): Uint8Array {
  if (scratchBusy) {
    const w = new Writer(256);
    write(w, message);
    return w.finish();
  }
  scratchBusy = true;
  const w = (scratch ??= new Writer(4096));
  w.pos = 0;
  try {
    write(w, message);
    return w.finish();
  } finally {
    scratchBusy = false;
    if (w.buf.length > SCRATCH_LIMIT) scratch = undefined;
  }
}

/** Bounded decode of a top-level message; anything thrown is a SlimError. */
export function decodeWith<T>(
  bytes: Uint8Array,
  maxBytes: number | undefined,
  read: (r: Reader, m: T) => T,
  init: () => T,
): T {
  if (!(bytes instanceof Uint8Array)) throw new SlimError("PROTOCOL", "malformed protobuf: input is not a Uint8Array");
  const limit = maxBytes ?? DEFAULT_MAX_DECODE_BYTES;
  if (bytes.length > limit) {
    throw new SlimError("MESSAGE_TOO_LARGE", `message of ${bytes.length} bytes exceeds the limit of ${limit} bytes`);
  }
  // A Buffer (or other subclass) would make every bytes field a Buffer: read through a plain view.
  const view = bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  try {
    return read(new Reader(view), init());
  } catch (err) {
    if (err instanceof SlimError) throw err;
    throw new SlimError("PROTOCOL", "malformed protobuf", { cause: err });
  }
}
