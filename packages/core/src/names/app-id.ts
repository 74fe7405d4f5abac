// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/// <reference path="./hash-wasm-xxhash128.d.ts" />

import { ANY_ID, RESERVED_ID_FLOOR } from "./name.js";

type Xxhash128 = typeof import("hash-wasm").xxhash128;

/**
 * XXH3-128 (hash-wasm, a WebAssembly module), loaded on first use: an app needs it once, for its
 * id, and group moderators once per channel. hash-wasm's single-algorithm bundle: its main entry
 * loads every algorithm it has, about 6 MiB more resident memory for nothing.
 */
let hasher: Promise<Xxhash128> | undefined;
export const xxh3128 = (...args: Parameters<Xxhash128>): Promise<string> =>
  (hasher ??= import("hash-wasm/dist/xxhash128.umd.min.js").then((m) => {
    // a CommonJS module: Node exposes its exports by name or only as the default export
    const mod = m as { xxhash128?: Xxhash128; default?: { xxhash128?: Xxhash128 } };
    const f = mod.xxhash128 ?? mod.default?.xxhash128;
    if (f === undefined) throw new Error("hash-wasm: xxhash128 not found in its single-algorithm bundle");
    return f;
  })).then((f) => f(...args));

/**
 * An app's 128-bit instance id as the official implementation derives it from
 * the identity token id: XXH3-128 of the UTF-8 token id, folded out of the
 * reserved range at the top.
 */
export async function appIdFromTokenId(tokenId: string): Promise<bigint> {
  let id = BigInt(`0x${await xxh3128(tokenId)}`);
  if (id >= RESERVED_ID_FLOOR) id %= ANY_ID - 50n;
  return id;
}
