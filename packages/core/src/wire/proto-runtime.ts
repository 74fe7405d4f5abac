// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * Minimal protobuf (proto3) wire runtime for the generated code in `gen/`.
 *
 * Encoding matches prost, the official Rust encoder, byte for byte: minimal varints, negative int32
 * (enums) sign-extended to 10 bytes, nested lengths as minimal varints. The generated code decides
 * the field order and which fields are left out.
 *
 * Decoding is bounded and throws only {@link SlimError}: "MESSAGE_TOO_LARGE" above `maxBytes`,
 * "PROTOCOL" for anything malformed. `bytes` fields of a decoded message are views into the input.
 *
 * @internal
 */

import { SlimError } from "../errors.js";

/** Same limit as the official node (tonic's default decode limit). */
export const DEFAULT_MAX_DECODE_BYTES = 4 * 1024 * 1024;

/** Shared default for `bytes` fields; it has no elements, so sharing it is harmless. */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

// bigint <-> two 32-bit halves through one shared 8-byte buffer: a typed-array store/load converts
// without allocating the intermediate bigints that shifts and masks would (4-5x faster).
const U64 = new BigUint64Array(1);
const U32 = new Uint32Array(U64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = LITTLE_ENDIAN ? 1 : 0;

/** Strings up to this length are converted by a JS loop, which beats the TextEncoder/Decoder call. */
const SHORT_STRING = 8;
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

const SLAB_SIZE = 16 * 1024;
/**
 * Nested messages one decode may create. Legitimate messages hold a handful, a
 * large group update a few thousand participants (~3 objects each).
 */
export const MAX_NESTED_MESSAGES = 65_536;
const SLAB_MIN_FREE = 1024;

function malformed(what: string): SlimError {
  return new SlimError("PROTOCOL", `malformed protobuf: ${what}`);
}

/** Reads one message; `end` is the limit of the (nested) message being read. */
export class Reader {
  readonly buf: Uint8Array;
  pos = 0;
  end: number;
  /** High 32 bits of the last {@link varint} result. */
  private hi = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.end = buf.length;
  }

  /** A field key as an unsigned 32-bit number (field number << 3 | wire type). */
  tag(): number {
    const pos = this.pos;
    if (pos < this.end && this.buf[pos]! < 0x80) {
      this.pos = pos + 1;
      return this.buf[pos]!;
    }
    const lo = this.varint();
    if (this.hi !== 0) throw malformed("field key does not fit 32 bits");
    return lo >>> 0;
  }

  /** Low 32 bits of the varint, unsigned (prost truncates the same way). */
  uint32(): number {
    return this.varint() >>> 0;
  }

  /** Low 32 bits of the varint, two's complement (enums). */
  int32(): number {
    return this.varint() | 0;
  }

  uint64(): bigint {
    U32[LO] = this.varint();
    U32[HI] = this.hi;
    return U64[0]!;
  }

  bool(): boolean {
    return (this.varint() | this.hi) !== 0;
  }

  /** Length-delimited UTF-8; invalid UTF-8 is a PROTOCOL error. */
  string(): string {
    const len = this.length();
    const start = this.pos;
    this.pos = start + len;
    return decodeUtf8(this.buf, start, start + len);
  }

  /** Length-delimited bytes, as a view into the input. */
  bytes(): Uint8Array {
    const len = this.length();
    const start = this.pos;
    this.pos = start + len;
    return len === 0 ? EMPTY_BYTES : this.buf.subarray(start, start + len);
  }

  /** Nested messages this decode may still create (hostile input: 2 MiB of empty entries is 1M objects). */
  budget = MAX_NESTED_MESSAGES;

  /** Narrows `end` to the nested message that follows; returns the previous end to restore. */
  enter(): number {
    if (--this.budget < 0) throw malformed(`more than ${MAX_NESTED_MESSAGES} nested messages`);
    const len = this.length();
    const prev = this.end;
    this.end = this.pos + len;
    return prev;
  }

  /**
   * A key the generated switch did not match: a known field number with another wire type is an
   * error; an unknown field is skipped; groups and wire types 6/7 are errors.
   */
  unknown(tag: number, known: readonly number[]): void {
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 0) throw malformed("field number 0");
    if (known.includes(field)) throw malformed(`wire type ${wire} not valid for field ${field}`);
    if (wire === 0) this.varint();
    else if (wire === 1) this.skip(8);
    else if (wire === 2) this.skip(this.length());
    else if (wire === 5) this.skip(4);
    else if (wire === 3 || wire === 4) throw malformed(`group (field ${field}) not supported`);
    else throw malformed(`invalid wire type ${wire}`);
  }

  private skip(n: number): void {
    if (n > this.end - this.pos) throw malformed("field runs past the end of its message");
    this.pos += n;
  }

  /** A length prefix, checked against what is left of the current message. */
  private length(): number {
    const pos = this.pos;
    let len: number;
    if (pos < this.end && this.buf[pos]! < 0x80) {
      len = this.buf[pos]!;
      this.pos = pos + 1;
    } else {
      len = this.varint() >>> 0;
      if (this.hi !== 0) throw malformed("length prefix too large");
    }
    if (len > this.end - this.pos) throw malformed("length prefix runs past the end of its message");
    return len;
  }

  /** A varint of up to 10 bytes (the 10th at most 1, as in prost); low 32 bits returned, high in `hi`. */
  private varint(): number {
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
    let s = "";
    let i = start;
    for (; i < end && buf[i]! < 0x80; i++) s += String.fromCharCode(buf[i]!);
    if (i === end) return s;
  }
  try {
    return utf8Decoder.decode(buf.subarray(start, end));
  } catch (cause) {
    throw new SlimError("PROTOCOL", "malformed protobuf: invalid UTF-8 in a string field", { cause });
  }
}

/**
 * Output buffer. Messages are written one after another into a 16 KiB slab and handed out as views
 * of it (allocating a small ArrayBuffer per message costs more than encoding the message). A nested
 * length is reserved as one byte and widened in place if the content exceeds 127 bytes.
 */
export class Writer {
  /** A Buffer so that strings are written at an offset without a view per string (`buf.write`). */
  buf: Buffer;
  /** Start of the message being written; marks from {@link begin} are relative to it. */
  start = 0;
  pos = 0;
  /** Free bytes kept before the message being written (see {@link reset}). */
  room = 0;

  constructor(size = SLAB_SIZE) {
    this.buf = Buffer.alloc(size);
  }

  /** A field key (the generator precomputes it). */
  tag(tag: number): void {
    if (tag < 0x80) {
      this.ensure(1);
      this.buf[this.pos++] = tag;
    } else {
      this.uint32(tag);
    }
  }

  uint32(v: number): void {
    this.varint(v >>> 0, 0);
  }

  /** Enums: a negative value is sign-extended to 64 bits (10 bytes), as prost does. */
  int32(v: number): void {
    v |= 0;
    this.varint(v >>> 0, v < 0 ? 0xffffffff : 0);
  }

  /** Taken modulo 2^64 (two's complement for a negative bigint). */
  uint64(v: bigint): void {
    U64[0] = v;
    this.varint(U32[LO]!, U32[HI]!);
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  /** Bytes as they are (no length). */
  raw(v: Uint8Array): void {
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** Length-prefixed bytes. */
  bytes(v: Uint8Array): void {
    const len = v.length;
    this.varint(len, 0);
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

  /** Length-prefixed UTF-8 (lone surrogates become U+FFFD, as with TextEncoder). */
  string(s: string): void {
    const n = s.length;
    // n UTF-16 units take n..3n bytes: reserve the prefix for n, with spare room to widen it in place.
    const reserved = varintSize(n);
    this.ensure(reserved + 3 * n + 5);
    const buf = this.buf;
    const at = this.pos + reserved;
    let pos = at;
    let i = 0;
    if (n <= SHORT_STRING) {
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[pos++] = c;
      }
    }
    if (i < n) pos = at + buf.write(s, at);
    this.pos = pos;
    this.prefix(at - this.start, reserved);
  }

  /** Reserves the length byte of a nested message; pass the returned mark to {@link end}. */
  begin(): number {
    this.ensure(1);
    return ++this.pos - this.start;
  }

  /** Writes the length of the nested message opened by {@link begin}. */
  end(mark: number): void {
    const at = this.start + mark;
    const len = this.pos - at;
    if (len < 0x80) this.buf[at - 1] = len;
    else this.prefix(mark, 1);
  }

  /** Hands out the message just written (a view of the slab); the next one starts after it. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.buf.buffer, this.buf.byteOffset + this.start, this.pos - this.start);
    this.start = this.pos;
    return out;
  }

  /**
   * Starts a message, on a fresh slab if this one is nearly full or was grown for a big message,
   * with `room` bytes left free before it (they belong to whoever takes the message: a
   * transport writes its framing there instead of copying the message behind a header).
   */
  reset(room = 0): void {
    if (this.buf.length !== SLAB_SIZE || this.buf.length - this.pos < SLAB_MIN_FREE + room) {
      this.buf = Buffer.alloc(SLAB_SIZE);
      this.pos = 0;
    }
    this.room = room;
    this.pos += room;
    this.start = this.pos;
  }

  /** Writes the length of [mark, pos) into the `reserved` bytes before mark, widening if needed. */
  private prefix(mark: number, reserved: number): void {
    let at = this.start + mark;
    let len = this.pos - at;
    const size = varintSize(len);
    if (size !== reserved) {
      const shift = size - reserved;
      this.ensure(shift);
      at = this.start + mark;
      this.buf.copyWithin(at + shift, at, this.pos);
      this.pos += shift;
      at += shift;
    }
    const buf = this.buf;
    let pos = at - size;
    while (len > 0x7f) {
      buf[pos++] = (len & 0x7f) | 0x80;
      len >>>= 7;
    }
    buf[pos] = len;
  }

  private varint(lo: number, hi: number): void {
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

  /** Makes room for n more bytes, moving the current message to the front of a new buffer. */
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const used = this.pos - this.start;
    const next = Buffer.alloc(Math.max(SLAB_SIZE, 2 * (used + n) + this.room));
    next.set(this.buf.subarray(this.start, this.pos), this.room);
    this.buf = next;
    this.start = this.room;
    this.pos = this.room + used;
  }
}

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** One map<string, string> entry; like prost, an empty key or value is left out of the entry. */
export function writeStringMapEntry(w: Writer, tag: number, key: string, value: string): void {
  w.tag(tag);
  const mark = w.begin();
  if (key !== "") {
    w.tag(10);
    w.string(key);
  }
  if (value !== "") {
    w.tag(18);
    w.string(value);
  }
  w.end(mark);
}

const MAP_ENTRY_FIELDS: readonly number[] = [1, 2];

/** Reads one map<string, string> entry into `map`; a repeated key keeps its last value. */
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

let shared: Writer | undefined;
let sharedBusy = false;

/**
 * Encodes one top-level message. Like a pooled Node Buffer, the result may be a view into a 16 KiB
 * ArrayBuffer shared with other encoded messages: respect byteOffset/byteLength, and `slice()` it
 * before keeping it for long (a retained view keeps the whole slab alive). Its bytes are never
 * written again by the encoder. With `room`, that many bytes before the result (at byteOffset - room)
 * are free for the caller, once: a link writes its gRPC and HTTP/2 framing there.
 */
export function encodeWith<T>(message: T, write: (w: Writer, m: T) => void, room = 0): Uint8Array {
  if (sharedBusy) {
    // Re-entered (an encode from inside an encode): use a private buffer.
    const w = new Writer(256 + room);
    w.pos = w.start = room;
    w.room = room;
    write(w, message);
    return w.finish();
  }
  sharedBusy = true;
  const w = (shared ??= new Writer());
  try {
    w.reset(room);
    write(w, message);
    return w.finish();
  } finally {
    sharedBusy = false;
  }
}

/**
 * A copy of already encoded bytes in the encoder's slab, with `room` free bytes before it (see
 * encodeWith): one message sent on many links is encoded once and copied per link.
 */
export function copyWithRoom(bytes: Uint8Array, room: number): Uint8Array {
  if (sharedBusy) {
    const out = new Uint8Array(room + bytes.length);
    out.set(bytes, room);
    return out.subarray(room);
  }
  const w = (shared ??= new Writer());
  w.reset(room);
  w.raw(bytes);
  return w.finish();
}

/** Bounded decode of a top-level message; anything thrown is a SlimError. */
export function decodeWith<T>(
  bytes: Uint8Array,
  maxBytes: number | undefined,
  read: (r: Reader, m: T) => T,
  init: () => T,
): T {
  if (!(bytes instanceof Uint8Array)) throw malformed("input is not a Uint8Array");
  const limit = maxBytes ?? DEFAULT_MAX_DECODE_BYTES;
  if (!(bytes.length <= limit)) {
    throw new SlimError("MESSAGE_TOO_LARGE", `message of ${bytes.length} bytes exceeds the limit of ${limit} bytes`);
  }
  // Read a Buffer (or any subclass) through a plain view, so bytes fields come out as Uint8Array.
  const view = bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  try {
    return read(new Reader(view), init());
  } catch (err) {
    if (err instanceof SlimError) throw err;
    throw new SlimError("PROTOCOL", "malformed protobuf", { cause: err });
  }
}
