// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// HPACK (RFC 7541) for the one gRPC method a link uses. The decoder is complete
// (static and dynamic tables, Huffman, size updates) because peers index and
// compress as they like; the encoder only writes literals that are never added
// to a table, so the peer's decoder state never depends on ours.

import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from "./huffman-code.js";

export class HpackError extends Error {}

const STATIC: ReadonlyArray<readonly [string, string]> = [
  [":authority", ""], [":method", "GET"], [":method", "POST"], [":path", "/"], [":path", "/index.html"],
  [":scheme", "http"], [":scheme", "https"], [":status", "200"], [":status", "204"], [":status", "206"],
  [":status", "304"], [":status", "400"], [":status", "404"], [":status", "500"], ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"], ["accept-language", ""], ["accept-ranges", ""], ["accept", ""],
  ["access-control-allow-origin", ""], ["age", ""], ["allow", ""], ["authorization", ""], ["cache-control", ""],
  ["content-disposition", ""], ["content-encoding", ""], ["content-language", ""], ["content-length", ""],
  ["content-location", ""], ["content-range", ""], ["content-type", ""], ["cookie", ""], ["date", ""], ["etag", ""],
  ["expect", ""], ["expires", ""], ["from", ""], ["host", ""], ["if-match", ""], ["if-modified-since", ""],
  ["if-none-match", ""], ["if-range", ""], ["if-unmodified-since", ""], ["last-modified", ""], ["link", ""],
  ["location", ""], ["max-forwards", ""], ["proxy-authenticate", ""], ["proxy-authorization", ""], ["range", ""],
  ["referer", ""], ["refresh", ""], ["retry-after", ""], ["server", ""], ["set-cookie", ""],
  ["strict-transport-security", ""], ["transfer-encoding", ""], ["user-agent", ""], ["vary", ""], ["via", ""],
  ["www-authenticate", ""],
];

/** Static-table index of a header name (first entry with that name), for the encoder. */
const STATIC_NAME_INDEX = new Map<string, number>();
STATIC.forEach(([n], i) => {
  if (!STATIC_NAME_INDEX.has(n)) STATIC_NAME_INDEX.set(n, i + 1);
});

// ---- Huffman -------------------------------------------------------------------

/** Decoding tree as a flat array: node i has children at tree[2i] / tree[2i+1]; a leaf is -(symbol+1). */
const TREE = buildTree();

function buildTree(): Int32Array {
  const tree = new Int32Array(2 * 512).fill(0);
  let nodes = 1;
  for (let sym = 0; sym < 257; sym++) {
    const code = HUFFMAN_CODES[sym]!;
    const len = HUFFMAN_LENGTHS[sym]!;
    let node = 0;
    for (let i = len - 1; i >= 0; i--) {
      const slot = 2 * node + (Math.floor(code / 2 ** i) & 1);
      if (i === 0) tree[slot] = -(sym + 1);
      else {
        if (tree[slot] === 0) tree[slot] = nodes++;
        node = tree[slot]!;
      }
    }
  }
  return tree;
}

function huffmanDecode(src: Uint8Array, start: number, end: number, maxOut: number): string {
  const out: number[] = [];
  let node = 0;
  let depth = 0; // bits consumed since the last symbol
  let allOnes = true;
  for (let i = start; i < end; i++) {
    const byte = src[i]!;
    for (let b = 7; b >= 0; b--) {
      const bit = (byte >> b) & 1;
      const next = TREE[2 * node + bit]!;
      depth++;
      allOnes &&= bit === 1;
      if (next < 0) {
        const sym = -next - 1;
        if (sym === 256) throw new HpackError("EOS symbol in a Huffman string");
        if (out.length >= maxOut) throw new HpackError("header string too long");
        out.push(sym);
        node = 0;
        depth = 0;
        allOnes = true;
      } else if (next === 0) {
        throw new HpackError("invalid Huffman code");
      } else node = next;
    }
  }
  // padding: at most 7 bits, all ones (a prefix of EOS)
  if (depth > 7 || !allOnes) throw new HpackError("invalid Huffman padding");
  return Buffer.from(out).toString("latin1");
}

// ---- decoder -------------------------------------------------------------------

export type HeaderList = Array<[string, string]>;

export interface DecoderLimits {
  /** Our SETTINGS_HEADER_TABLE_SIZE: the largest dynamic table the peer may ask for. */
  maxTableSize: number;
  /** Largest decoded header list (RFC 9113 size: name + value + 32 per field). */
  maxListSize: number;
}

export class HpackDecoder {
  private table: Array<[string, string]> = []; // newest first
  private tableSize = 0;
  private capacity: number;

  constructor(private readonly limits: DecoderLimits) {
    this.capacity = limits.maxTableSize;
  }

  /** Decode one complete header block. Throws HpackError (a connection error) when malformed. */
  decode(block: Uint8Array): HeaderList {
    const out: HeaderList = [];
    let listSize = 0;
    let pos = 0;
    let fieldsSeen = false;
    const int = (prefixBits: number): number => {
      const mask = (1 << prefixBits) - 1;
      let v = block[pos++]! & mask;
      if (v < mask) return v;
      let shift = 0;
      for (;;) {
        if (pos >= block.length) throw new HpackError("truncated integer");
        // 2^31 fits in five continuation bytes; more (even zero ones) would let 2 ** shift
        // overflow to Infinity and the value become NaN
        if (shift > 28) throw new HpackError("integer too large");
        const b = block[pos++]!;
        v += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if (v > 0x7fff_ffff) throw new HpackError("integer too large");
        if ((b & 0x80) === 0) return v;
      }
    };
    const str = (): string => {
      if (pos >= block.length) throw new HpackError("truncated string");
      const huffman = (block[pos]! & 0x80) !== 0;
      const len = int(7);
      if (pos + len > block.length) throw new HpackError("truncated string");
      const start = pos;
      pos += len;
      if (len > this.limits.maxListSize) throw new HpackError("header string too long");
      return huffman ? huffmanDecode(block, start, pos, this.limits.maxListSize) : Buffer.from(block.buffer, block.byteOffset + start, len).toString("latin1");
    };
    const entry = (index: number): readonly [string, string] => {
      if (index === 0) throw new HpackError("index 0");
      if (index <= STATIC.length) return STATIC[index - 1]!;
      const e = this.table[index - STATIC.length - 1];
      if (e === undefined) throw new HpackError(`index ${index} out of range`);
      return e;
    };
    const emit = (name: string, value: string): void => {
      listSize += name.length + value.length + 32;
      if (listSize > this.limits.maxListSize) throw new HpackError("header list too large");
      out.push([name, value]);
    };
    while (pos < block.length) {
      const b = block[pos]!;
      if (b & 0x80) {
        const [n, v] = entry(int(7));
        emit(n, v);
        fieldsSeen = true;
      } else if (b & 0x40) {
        const idx = int(6);
        const name = idx === 0 ? str() : entry(idx)[0];
        const value = str();
        this.insert(name, value);
        emit(name, value);
        fieldsSeen = true;
      } else if (b & 0x20) {
        // dynamic table size update: only at the start of a block
        if (fieldsSeen) throw new HpackError("table size update after a field");
        const size = int(5);
        if (size > this.limits.maxTableSize) throw new HpackError("table size update above our limit");
        this.capacity = size;
        this.evict(0);
      } else {
        // literal without indexing (0000) or never indexed (0001)
        const idx = int(4);
        const name = idx === 0 ? str() : entry(idx)[0];
        emit(name, str());
        fieldsSeen = true;
      }
    }
    return out;
  }

  private insert(name: string, value: string): void {
    const size = name.length + value.length + 32;
    this.evict(size);
    if (size > this.capacity) return; // larger than the table: the table is just emptied
    this.table.unshift([name, value]);
    this.tableSize += size;
  }

  private evict(room: number): void {
    while (this.table.length > 0 && this.tableSize + room > this.capacity) {
      const [n, v] = this.table.pop()!;
      this.tableSize -= n.length + v.length + 32;
    }
  }
}

// ---- encoder -------------------------------------------------------------------

function writeInt(out: number[], first: number, prefixBits: number, v: number): void {
  const mask = (1 << prefixBits) - 1;
  if (v < mask) {
    out.push(first | v);
    return;
  }
  out.push(first | mask);
  v -= mask;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

function writeStr(out: number[], s: string): void {
  const bytes = Buffer.from(s, "latin1");
  writeInt(out, 0, 7, bytes.length);
  for (const b of bytes) out.push(b);
}

/** Names whose values must never be put in a compression table by intermediaries. */
const SENSITIVE = new Set(["authorization", "proxy-authorization", "cookie"]);

/**
 * Encode a header list as literals that are never indexed: no shared table state,
 * so the same bytes mean the same thing to any decoder. Names must be lower case.
 */
export function encodeHeaders(headers: ReadonlyArray<readonly [string, string]>, tableSizeUpdate?: number): Uint8Array {
  const out: number[] = [];
  // the peer lowered SETTINGS_HEADER_TABLE_SIZE: the first block after it says so (RFC 7541 §4.2)
  if (tableSizeUpdate !== undefined) writeInt(out, 0x20, 5, tableSizeUpdate);
  for (const [name, value] of headers) {
    // fully indexed static entries where one matches exactly (":method: POST", ":status: 200", ...)
    const exact = STATIC.findIndex(([n, v]) => n === name && v === value && v !== "");
    if (exact >= 0) {
      writeInt(out, 0x80, 7, exact + 1);
      continue;
    }
    const first = SENSITIVE.has(name) ? 0x10 : 0x00;
    const idx = STATIC_NAME_INDEX.get(name);
    if (idx !== undefined) writeInt(out, first, 4, idx);
    else {
      out.push(first);
      writeStr(out, name);
    }
    writeStr(out, value);
  }
  return Uint8Array.from(out);
}
