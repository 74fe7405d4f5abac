// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { describe, expect, it } from "vitest";
import { SlimError } from "../../src/errors.js";
import { ChunkBatcher, MAX_UNPACKED_CHUNKS, packChunks, unpackChunks } from "../../src/patterns/stream-batch.js";

const enc = new TextEncoder();

describe("stream batches", () => {
  it("pack and unpack round-trip, empty chunks and lengths across the varint boundaries included", () => {
    const chunks = [0, 1, 127, 128, 300, 16_383, 16_384, 70_000].map((n, i) => new Uint8Array(n).fill(i + 1));
    chunks.splice(2, 0, new Uint8Array(0));
    const back = unpackChunks(packChunks(chunks));
    expect(back.map((c) => c.length)).toEqual(chunks.map((c) => c.length));
    expect(back.every((c, i) => c.every((b) => b === chunks[i]![0]))).toBe(true);
    expect(unpackChunks(new Uint8Array(0))).toEqual([]);
  });

  it("a batch of more than MAX_UNPACKED_CHUNKS chunks (4 MiB of empty ones) is refused before it becomes millions of objects", () => {
    const flood = new Uint8Array(4 * 1024 * 1024); // every byte a zero length
    expect(() => unpackChunks(flood)).toThrow(/more than 16384 chunks/);
    expect(unpackChunks(flood.subarray(0, MAX_UNPACKED_CHUNKS)).length).toBe(MAX_UNPACKED_CHUNKS);
    // the largest batch a sender makes by default (256 chunks) is far inside the bound
    expect(unpackChunks(packChunks(Array.from({ length: 256 }, () => enc.encode("t")))).length).toBe(256);
  });

  it("a malformed batch is a RECEIVE error, never a crash or an over-read", () => {
    const good = packChunks([enc.encode("hello"), enc.encode("world")]);
    for (const bad of [good.subarray(0, good.length - 1), Uint8Array.of(0x85), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0x01), Uint8Array.of(0x80)]) {
      const err = (() => {
        try {
          unpackChunks(bad);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(SlimError);
      expect((err as SlimError).code).toBe("RECEIVE");
    }
  });

  it("sends the first chunk alone at once, then what piled up within one turn as one frame", async () => {
    const sent: Array<{ kind: string; chunks: string[] }> = [];
    const b = new ChunkBatcher({}, (payload, kind) => sent.push({ kind, chunks: kind === "chunk" ? [new TextDecoder().decode(payload)] : unpackChunks(payload).map((c) => new TextDecoder().decode(c)) }));
    b.add(enc.encode("a"), true);
    for (const t of ["b", "c", "d"]) b.add(enc.encode(t));
    expect(sent).toEqual([{ kind: "chunk", chunks: ["a"] }]);
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([
      { kind: "chunk", chunks: ["a"] },
      { kind: "chunks", chunks: ["b", "c", "d"] },
    ]);
    // a lone chunk in a turn goes out as a plain "chunk" frame; a full frame goes out at once
    b.add(enc.encode("e"));
    await new Promise((r) => setImmediate(r));
    const small = new ChunkBatcher({ maxChunks: 2 }, (payload, kind) => sent.push({ kind, chunks: [String(payload.length)] }));
    small.add(enc.encode("x"));
    small.add(enc.encode("y"));
    expect(sent.slice(2)).toEqual([
      { kind: "chunk", chunks: ["e"] },
      { kind: "chunks", chunks: [String(packChunks([enc.encode("x"), enc.encode("y")]).length)] },
    ]);
  });

  it("refuses limits that are not positive integers with INVALID_ARGUMENT", () => {
    for (const bad of [{ maxChunks: 0 }, { maxChunks: Number.NaN }, { maxBytes: -5 }, { maxChunks: 1.5 }]) {
      let err: unknown;
      try {
        new ChunkBatcher(bad, () => undefined);
      } catch (e) {
        err = e;
      }
      expect((err as SlimError).code).toBe("INVALID_ARGUMENT");
    }
  });
});
