// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { describe, expect, it } from "vitest";
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from "../../src/link/h2/huffman-code.js";
import { HpackDecoder, HpackError, encodeHeaders } from "../../src/link/h2/hpack.js";

const hexBytes = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const decoder = () => new HpackDecoder({ maxTableSize: 4096, maxListSize: 64 * 1024 });

/** Test-only Huffman encoder, straight from the code table. */
function huffman(bytes: Uint8Array): Uint8Array {
  let bits = "";
  for (const b of bytes) bits += HUFFMAN_CODES[b]!.toString(2).padStart(HUFFMAN_LENGTHS[b]!, "0");
  while (bits.length % 8 !== 0) bits += "1";
  return Uint8Array.from(bits.match(/.{8}/g) ?? [], (x) => parseInt(x, 2));
}

describe("HPACK decoder", () => {
  it("decodes the RFC 7541 C.4 requests (Huffman, dynamic table across blocks)", () => {
    const d = decoder();
    expect(d.decode(hexBytes("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"))).toEqual([
      [":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "www.example.com"],
    ]);
    expect(d.decode(hexBytes("8286 84be 5886 a8eb 1064 9cbf"))).toEqual([
      [":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "www.example.com"], ["cache-control", "no-cache"],
    ]);
    expect(d.decode(hexBytes("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"))).toEqual([
      [":method", "GET"], [":scheme", "https"], [":path", "/index.html"], [":authority", "www.example.com"], ["custom-key", "custom-value"],
    ]);
  });

  it("decodes every byte value through the Huffman code", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const h = huffman(all);
    // literal without indexing, new name "x", Huffman value
    const len = h.length; // > 127: multi-byte length
    const block = [0x00, 0x01, 0x78, 0x80 | 0x7f, ...varint(len - 127), ...h];
    const [[name, value]] = decoder().decode(Uint8Array.from(block)) as [[string, string]];
    expect(name).toBe("x");
    expect(Buffer.from(value, "latin1").equals(Buffer.from(all))).toBe(true);
  });

  it("evicts from the dynamic table and honours size updates", () => {
    const d = new HpackDecoder({ maxTableSize: 100, maxListSize: 64 * 1024 });
    // two inserts of 32+1+30 = 63 bytes: the second evicts the first
    const lit = (n: string, v: string) => [0x40, n.length, ...Buffer.from(n), v.length, ...Buffer.from(v)];
    d.decode(Uint8Array.from(lit("a", "x".repeat(30))));
    d.decode(Uint8Array.from(lit("b", "y".repeat(30))));
    expect(d.decode(Uint8Array.from([0xbe]))).toEqual([["b", "y".repeat(30)]]); // index 62 = newest
    expect(() => d.decode(Uint8Array.from([0xbf]))).toThrow(HpackError); // 63: evicted
    // size update to 0 empties the table
    expect(d.decode(Uint8Array.from([0x20]))).toEqual([]);
    expect(() => d.decode(Uint8Array.from([0xbe]))).toThrow(HpackError);
  });

  it("rejects malformed blocks with HpackError", () => {
    const bad = [
      "80", // index 0
      "ff 80 80 80 80 80 01", // integer overflow
      "00 05 61", // truncated name
      "3f e2 1f", // table size update to 4097, above the limit
      "82 20", // size update after a field
      "00 81 ff 01 78", // Huffman string "ff" then junk: invalid padding
    ];
    for (const b of bad) expect(() => decoder().decode(hexBytes(b)), b).toThrow(HpackError);
    const big = new HpackDecoder({ maxTableSize: 4096, maxListSize: 100 });
    expect(() => big.decode(Uint8Array.from([0x00, 0x01, 0x78, 0x7f, ...varint(200 - 127), ...new Uint8Array(200).fill(0x61)]))).toThrow(/too/);
  });

  it("refuses integers padded with zero continuation bytes (they would otherwise decode as NaN)", () => {
    // a table size update of 0 written with 160 continuation bytes: 2 ** shift overflows to Infinity
    const padded = [0x3f, ...new Array<number>(160).fill(0x80), 0x00];
    const d = decoder();
    expect(() => d.decode(Uint8Array.from(padded))).toThrow(HpackError);
    // the table keeps its limit: inserts after the refused update still evict
    const lit = [0x40, 0x01, 0x61, 0x7f, ...varint(1000 - 127), ...new Uint8Array(1000).fill(0x62)];
    for (let i = 0; i < 20; i++) d.decode(Uint8Array.from(lit));
    expect(tableBytes(d)).toBeLessThanOrEqual(4096);
    // the same padding on a string length and an index
    expect(() => decoder().decode(Uint8Array.from([0x00, 0x7f, ...new Array<number>(160).fill(0x80), 0x00]))).toThrow(HpackError);
    expect(() => decoder().decode(Uint8Array.from([0xff, ...new Array<number>(160).fill(0x80), 0x00]))).toThrow(HpackError);
  });

  it("seeded: 3 000 random blocks and 3 000 mutated valid ones either decode within the limits or throw HpackError", () => {
    let seed = 0x5eed_4a7c;
    const rand = () => {
      // mulberry32
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };
    const LIMITS = { maxTableSize: 4096, maxListSize: 8 * 1024 };
    const valid = [
      hexBytes("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"),
      hexBytes("8286 84be 5886 a8eb 1064 9cbf"),
      hexBytes("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"),
      encodeHeaders([[":method", "POST"], [":path", "/x"], ["authorization", "Bearer abc"], ["grpc-timeout", "5S"]], 0),
      Uint8Array.from([0x00, 0x01, 0x78, 0x80 | 0x7f, ...varint(huffman(Uint8Array.from({ length: 256 }, (_, i) => i)).length - 127), ...huffman(Uint8Array.from({ length: 256 }, (_, i) => i))]),
      Uint8Array.from([0x40, 0x01, 0x61, 0x1e, ...new Uint8Array(30).fill(0x78), 0xbe, 0x3f, 0xe1, 0x1f]),
    ];
    const outcomes = { decoded: 0, refused: 0 };
    let d = new HpackDecoder(LIMITS);
    const run = (block: Uint8Array) => {
      let list;
      try {
        list = d.decode(block);
      } catch (err) {
        expect(err, `block ${Buffer.from(block).toString("hex")}`).toBeInstanceOf(HpackError);
        outcomes.refused++;
        d = new HpackDecoder(LIMITS); // a connection error: the connection and its decoder are gone
        return;
      }
      outcomes.decoded++;
      let size = 0;
      for (const [n, v] of list) {
        expect(typeof n === "string" && typeof v === "string").toBe(true);
        size += n.length + v.length + 32;
      }
      expect(size).toBeLessThanOrEqual(LIMITS.maxListSize);
      expect(tableBytes(d)).toBeLessThanOrEqual(LIMITS.maxTableSize);
    };
    for (let i = 0; i < 3_000; i++) {
      const block = new Uint8Array(Math.floor(rand() * 64));
      for (let j = 0; j < block.length; j++) block[j] = rand() < 0.3 ? [0x80, 0xff, 0x7f, 0x3f, 0x40, 0x00][Math.floor(rand() * 6)]! : Math.floor(rand() * 256);
      run(block);
    }
    for (let i = 0; i < 3_000; i++) {
      const base = valid[Math.floor(rand() * valid.length)]!;
      const block = Uint8Array.from(base);
      const edits = 1 + Math.floor(rand() * 4);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rand() * block.length);
        block[at] = block[at]! ^ (1 << Math.floor(rand() * 8));
      }
      run(rand() < 0.2 ? block.subarray(0, Math.floor(rand() * block.length)) : block);
    }
    // both branches were exercised, so the assertions above ran on real outcomes
    expect(outcomes.decoded).toBeGreaterThan(500);
    expect(outcomes.refused).toBeGreaterThan(500);
  });
});

describe("HPACK encoder", () => {
  it("writes literals any decoder reads back, indexing nothing", () => {
    const headers: Array<[string, string]> = [
      [":method", "POST"], [":scheme", "http"], [":path", "/dataplane.proto.v1.DataPlaneService/OpenChannel"],
      [":authority", "127.0.0.1:46357"], ["content-type", "application/grpc"], ["te", "trailers"],
      ["authorization", `Bearer ${"t".repeat(300)}`], [":status", "200"], ["grpc-status", "0"],
    ];
    const d = decoder();
    const block = encodeHeaders(headers);
    expect(d.decode(block)).toEqual(headers);
    // nothing was added to the decoder's table: the same block decodes the same again
    expect(d.decode(block)).toEqual(headers);
    // a table size update, when owed, comes first, and a decoder accepts it
    const withUpdate = encodeHeaders(headers, 0);
    expect(withUpdate[0]).toBe(0x20);
    expect(decoder().decode(withUpdate)).toEqual(headers);
    // authorization (static name 23) is sent never-indexed: 0001 1111, then 23 - 15
    expect(Buffer.from(block).includes(Buffer.from([0x1f, 0x08]))).toBe(true);
  });
});

function varint(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

/** Bytes the decoder's dynamic table holds (RFC 7541 size: name + value + 32 per entry). */
function tableBytes(d: HpackDecoder): number {
  const table = (d as unknown as { table: Array<[string, string]> }).table;
  return table.reduce((n, [k, v]) => n + k.length + v.length + 32, 0);
}
