// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { xxhash64 } from "hash-wasm";
import { describe, expect, it } from "vitest";
import { ANY_ID, Name, SlimError, appIdFromTokenId, componentHash, formatId } from "../../src/index.js";
import { xxh64 } from "../../src/names/xxh64.js";
import { sameProtoName, toProtoName } from "../../src/wire/names.js";
import { sharedFile } from "../helpers/vectors.js";

const vectors = JSON.parse(sharedFile("protocol/vectors/dataplane-vectors.json")) as {
  component_hash: Record<string, { dec: string }>;
  app_id: Record<string, { uuid: string; id_0: string; id_1: string }>;
};

describe("component hash", () => {
  for (const [s, v] of Object.entries(vectors.component_hash)) {
    it(`XXH64(${JSON.stringify(s)} ‖ 0xFF) matches the official value`, () => {
      expect(componentHash(s)).toBe(BigInt(v.dec));
    });
  }

  it("our XXH64 agrees with the reference on every length 0..300 (seeded random bytes)", async () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let len = 0; len <= 300; len++) {
      const buf = Uint8Array.from({ length: len }, rnd);
      expect(xxh64(buf).toString(16).padStart(16, "0")).toBe(await xxhash64(buf));
    }
  });
});

describe("app id", () => {
  for (const [tokenId, v] of Object.entries(vectors.app_id)) {
    it(`XXH3-128(${tokenId}) is the id seen on the wire`, async () => {
      const id = await appIdFromTokenId(tokenId);
      expect(formatId(id)).toBe(v.uuid);
      expect(id >> 64n).toBe(BigInt(v.id_0));
      expect(id & ((1n << 64n) - 1n)).toBe(BigInt(v.id_1));
    });
  }
});

describe("Name", () => {
  it("parses org/ns/svc as any instance and formats it back", () => {
    const n = Name.parse("org/ns/alice");
    expect(n.components).toEqual(["org", "ns", "alice"]);
    expect(n.id).toBe(ANY_ID);
    expect(n.hasId).toBe(false);
    expect(n.toString()).toBe("org/ns/alice");
    expect(n.hashes[2]).toBe(BigInt(vectors.component_hash.alice!.dec));
  });

  it("parses and formats the form with an id", () => {
    const text = "org/ns/bob/8389b52d-05fa-0b38-b5e1-0d651cb63c5f";
    const n = Name.parse(text);
    expect(n.idParts).toEqual([9478306095756348216n, 13105771118549417055n]);
    expect(n.toString()).toBe(text);
    expect(Name.parse("org/ns/bob/8389b52d05fa0b38b5e10d651cb63c5f").equals(n)).toBe(true);
    expect(n.sameService(Name.parse("org/ns/bob"))).toBe(true);
    expect(n.withoutId().equals(Name.parse("org/ns/bob"))).toBe(true);
  });

  it.each([
    ["", "expected org/namespace/service"],
    ["org/ns", "expected org/namespace/service"],
    ["a/b/c/d/e", "expected org/namespace/service"],
    ["org//svc", "namespace component is empty"],
    ["org/ns/svc/not-hex!", "invalid name id"],
    ["org/ns/svc/" + "f".repeat(33), "invalid name id"],
  ])("rejects %j with a SlimError", (text, why) => {
    let err: unknown;
    try {
      Name.parse(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SlimError);
    expect((err as SlimError).code).toBe("INVALID_ARGUMENT");
    expect((err as SlimError).message).toContain(why);
  });

  it("rejects oversized components and out-of-range ids", () => {
    expect(() => new Name("org", "ns", "x".repeat(2_000))).toThrow(SlimError);
    expect(() => new Name("org", "ns", "svc", -1n)).toThrow(SlimError);
    expect(() => new Name("org", "ns", "svc", ANY_ID + 1n)).toThrow(SlimError);
  });
});

describe("wire names", () => {
  it("sameProtoName compares hashes and instance id, not the display strings", () => {
    const a = toProtoName(Name.parse("org/ns/svc").withId(7n));
    expect(sameProtoName(toProtoName(Name.parse("org/ns/svc").withId(7n)), a)).toBe(true);
    expect(sameProtoName(toProtoName(Name.parse("org/ns/svc").withId(8n)), a)).toBe(false);
    expect(sameProtoName(toProtoName(Name.parse("org/ns/svc")), a)).toBe(false);
    expect(sameProtoName(toProtoName(Name.parse("org/ns/other").withId(7n)), a)).toBe(false);
    expect(sameProtoName({ ...a, strName: { strComponent0: "x", strComponent1: "y", strComponent2: "z" } }, a)).toBe(true);
    expect(sameProtoName(undefined, a)).toBe(false);
    expect(sameProtoName({ strName: a.strName! }, a)).toBe(false);
  });
});
