// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { xxhash128 } from "hash-wasm";
import { ANY_ID, RESERVED_ID_FLOOR } from "./name.js";

/**
 * An app's 128-bit instance id as the official implementation derives it from
 * the identity token id: XXH3-128 of the UTF-8 token id, folded out of the
 * reserved range at the top.
 */
export async function appIdFromTokenId(tokenId: string): Promise<bigint> {
  let id = BigInt(`0x${await xxhash128(tokenId)}`);
  if (id >= RESERVED_ID_FLOOR) id %= ANY_ID - 50n;
  return id;
}
