// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { describe, expect, it } from "vitest";
import { Name } from "../../src/names/name.js";
import { memberKey } from "../../src/session/group/roster.js";
import { SenderNames } from "../../src/session/sender-names.js";
import { toProtoName } from "../../src/wire/names.js";

describe("SenderNames", () => {
  it("gives a sender's Name and key, the same ones again for the same sender, never another sender's", () => {
    const cache = new SenderNames((_wire, name) => memberKey(name));
    const alice = Name.parse("org/ns/alice").withId(5n);
    const first = cache.of(toProtoName(alice))!;
    expect(first.name.toString()).toBe(alice.toString());
    expect(first.key).toBe(memberKey(alice));
    // a later message from alice (a fresh wire name decoded from it) reuses the entry
    expect(cache.of(toProtoName(alice))).toBe(first);
    // same instance id, another service: not alice
    const mallory = Name.parse("org/ns/mallory").withId(5n);
    const other = cache.of(toProtoName(mallory))!;
    expect(other.key).toBe(memberKey(mallory));
    expect(other.name.toString()).toBe(mallory.toString());
    // same id in the low half only: not alice either
    const high = Name.parse("org/ns/alice").withId(5n | (1n << 64n));
    expect(cache.of(toProtoName(high))!.key).toBe(memberKey(high));
    // no instance id: resolved every time, still right
    const any = Name.parse("org/ns/alice");
    expect(cache.of(toProtoName(any))!.key).toBe(memberKey(any));
    expect(cache.of(undefined)).toBeUndefined();
  });

  it("stays bounded under a flood of strangers and still answers right after it", () => {
    const cache = new SenderNames((_wire, name) => memberKey(name));
    for (let i = 0; i < 5_000; i++) cache.of(toProtoName(Name.parse("org/ns/x").withId(BigInt(i + 1))));
    expect((cache as unknown as { byId: Map<bigint, unknown> }).byId.size).toBeLessThanOrEqual(1_024);
    const bob = Name.parse("org/ns/bob").withId(77n);
    expect(cache.of(toProtoName(bob))!.key).toBe(memberKey(bob));
  });
});
