// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { ANY_ID, RESERVED_ID_FLOOR } from "./name.js";

/**
 * XXH3-128 (hash-wasm, a WebAssembly module of several MiB once instantiated), loaded on first use:
 * an app needs it once, for its id, and group moderators once per channel.
 */
let hasher: Promise<typeof import("hash-wasm").xxhash128> | undefined;
export const xxh3128 = (...args: Parameters<typeof import("hash-wasm").xxhash128>): Promise<string> =>
  (hasher ??= import("hash-wasm").then((m) => m.xxhash128)).then((f) => f(...args));

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
