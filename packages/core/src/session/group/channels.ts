// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The data and control channel names of a group, derived as the official
// moderator does: XXH3-128 of "<tokenId>/<c0>/<c1>/<c2>/data" (and "/control"),
// seed = salt (0 unless the two ids collide), folded out of the reserved range.

import { xxh3128 } from "../../names/app-id.js";
import { SlimError } from "../../errors.js";
import { ANY_ID, RESERVED_ID_FLOOR, type Name } from "../../names/name.js";

const RESERVED_IDS = 50n;
const MAX_SALT = 10;

async function channelId(input: string, salt: number): Promise<bigint> {
  let id = BigInt(`0x${await xxh3128(input, salt, 0)}`);
  if (id >= RESERVED_ID_FLOOR) id = (id % (ANY_ID - RESERVED_IDS - 1n)) + 1n;
  return id;
}

export interface GroupChannels {
  data: Name;
  control: Name;
}

/** Channel names for a group called `channel` (components only) created by the app whose token id is `tokenId`. */
export async function deriveGroupChannels(tokenId: string, channel: Name): Promise<GroupChannels> {
  const [c0, c1, c2] = channel.components;
  const prefix = `${tokenId}/${c0}/${c1}/${c2}`;
  for (let salt = 0; salt <= MAX_SALT; salt++) {
    const data = await channelId(`${prefix}/data`, salt);
    const control = await channelId(`${prefix}/control`, salt);
    if (data !== control) return { data: channel.withId(data), control: channel.withId(control) };
  }
  throw new SlimError("SESSION", "group channel ids collide for every salt");
}
