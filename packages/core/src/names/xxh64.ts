// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// XXH64 (seed 0) on 64-bit BigInt arithmetic. Names are hashed once when built,
// never on the routing hot path, so clarity wins over speed here.

const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n;
const P5 = 0x27d4eb2f165667c5n;
const MASK = 0xffffffffffffffffn;

const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & MASK;
const mul = (a: bigint, b: bigint): bigint => (a * b) & MASK;

function round(acc: bigint, lane: bigint): bigint {
  return mul(rotl((acc + mul(lane, P2)) & MASK, 31n), P1);
}

function mergeRound(acc: bigint, val: bigint): bigint {
  return ((((acc ^ round(0n, val)) * P1) & MASK) + P4) & MASK;
}

function u64le(view: DataView, off: number): bigint {
  return view.getBigUint64(off, true);
}

export function xxh64(input: Uint8Array, seed = 0n): bigint {
  const len = input.length;
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  let p = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = (seed + P1 + P2) & MASK;
    let v2 = (seed + P2) & MASK;
    let v3 = seed;
    let v4 = (seed - P1) & MASK;
    for (; p + 32 <= len; p += 32) {
      v1 = round(v1, u64le(view, p));
      v2 = round(v2, u64le(view, p + 8));
      v3 = round(v3, u64le(view, p + 16));
      v4 = round(v4, u64le(view, p + 24));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & MASK;
    h = mergeRound(h, v1);
    h = mergeRound(h, v2);
    h = mergeRound(h, v3);
    h = mergeRound(h, v4);
  } else {
    h = (seed + P5) & MASK;
  }
  h = (h + BigInt(len)) & MASK;
  for (; p + 8 <= len; p += 8) {
    h = (mul(rotl(h ^ round(0n, u64le(view, p)), 27n), P1) + P4) & MASK;
  }
  if (p + 4 <= len) {
    h = (mul(rotl(h ^ mul(BigInt(view.getUint32(p, true)), P1), 23n), P2) + P3) & MASK;
    p += 4;
  }
  for (; p < len; p++) {
    h = mul(rotl(h ^ mul(BigInt(input[p]!), P5), 11n), P1);
  }
  h = mul(h ^ (h >> 33n), P2);
  h = mul(h ^ (h >> 29n), P3);
  return h ^ (h >> 32n);
}
