// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { createHmac, createPrivateKey } from "node:crypto";
import { describe, expect, it } from "vitest";
import { computeHeaderMac, deriveLinkKey, headerMacPreimage, verifyHeaderMac } from "../../src/link/header-mac.js";
import type { ProtoName, ProtoSLIMHeader } from "../../src/wire/gen/dataplane.js";
import { hex, sharedFile, toHex } from "../helpers/vectors.js";

interface JsonName {
  name: { component_0: string; component_1: string; component_2: string; name_id?: { id_0: string; id_1: string } };
  str_name: { str_component_0: string; str_component_1: string; str_component_2: string };
}
const v = JSON.parse(sharedFile("protocol/vectors/dataplane-vectors.json")) as {
  header_mac_from_official_server: {
    link_id: string;
    hmac_key_hex: string;
    header: { source: JsonName; destination: JsonName; identity: string; fanout: number; version: string; ttl: number; incoming_conn: string; header_mac: string };
    preimage_hex: string;
  };
  x25519_hkdf_vector: { a_private: string; b_public: string; b_private: string; a_public: string; link_id: string; hmac_key_hex: string };
};

const name = (j: JsonName): ProtoName => ({
  name: {
    component0: BigInt(j.name.component_0),
    component1: BigInt(j.name.component_1),
    component2: BigInt(j.name.component_2),
    ...(j.name.name_id ? { nameId: { id0: BigInt(j.name.name_id.id_0), id1: BigInt(j.name.name_id.id_1) } } : {}),
  },
  strName: { strComponent0: j.str_name.str_component_0, strComponent1: j.str_name.str_component_1, strComponent2: j.str_name.str_component_2 },
});

const x25519Private = (raw: string) =>
  createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b656e04220420", "hex"), Buffer.from(raw, "hex")]), format: "der", type: "pkcs8" });

describe("header MAC", () => {
  const m = v.header_mac_from_official_server;
  const header: ProtoSLIMHeader = {
    source: name(m.header.source),
    destination: name(m.header.destination),
    identity: m.header.identity,
    fanout: m.header.fanout,
    version: m.header.version,
    ttl: m.header.ttl,
    incomingConn: BigInt(m.header.incoming_conn),
    headerMac: hex(m.header.header_mac),
  };

  it("builds the exact preimage of an official signature", () => {
    expect(toHex(headerMacPreimage(header, m.link_id))).toBe(m.preimage_hex);
  });

  it("reproduces the MAC an official node put on the wire, and verifies it", () => {
    const key = hex(m.hmac_key_hex);
    expect(toHex(computeHeaderMac(key, header, m.link_id))).toBe(m.header.header_mac);
    expect(verifyHeaderMac(key, header, m.link_id)).toBe(true);
  });

  it("rejects a MAC after any signed field changes, and ignores unsigned ones", () => {
    const key = hex(m.hmac_key_hex);
    expect(verifyHeaderMac(key, { ...header, ttl: header.ttl + 1 }, m.link_id)).toBe(false);
    expect(verifyHeaderMac(key, { ...header, identity: `${header.identity}x` }, m.link_id)).toBe(false);
    expect(verifyHeaderMac(key, { ...header, fanout: 256 }, m.link_id)).toBe(false);
    expect(verifyHeaderMac(key, { ...header, recvFrom: 0n }, m.link_id)).toBe(false);
    expect(verifyHeaderMac(key, header, "another-link")).toBe(false);
    expect(verifyHeaderMac(key, { ...header, headerMac: new Uint8Array(31) }, m.link_id)).toBe(false);
    const { headerMac: _drop, ...unsigned } = header;
    expect(verifyHeaderMac(key, unsigned, m.link_id)).toBe(false);
    // version and incoming_conn are not covered
    expect(verifyHeaderMac(key, { ...header, version: "9.9.9", incomingConn: 77n }, m.link_id)).toBe(true);
  });

  it("writes names and strings as u32 length + UTF-8, for non-ASCII and long components too", () => {
    const long = "n".repeat(70);
    const odd = { ...header.source!, strName: { strComponent0: "orgé", strComponent1: long, strComponent2: "日本" } };
    const pre = Buffer.from(headerMacPreimage({ ...header, source: odd }, m.link_id));
    for (const text of ["orgé", long, "日本"]) {
      const bytes = Buffer.from(text, "utf8");
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32LE(bytes.length);
      expect(pre.includes(Buffer.concat([prefix, bytes])), text).toBe(true);
    }
    // and the MAC over it is the node:crypto HMAC of that preimage
    const key = hex(m.hmac_key_hex);
    expect(Buffer.from(computeHeaderMac(key, { ...header, source: odd }, m.link_id)).equals(createHmac("sha256", key).update(pre).digest())).toBe(true);
  });

  it("derives the link key from X25519 + HKDF-SHA256 (RFC 7748 keys), the same on both sides", () => {
    const x = v.x25519_hkdf_vector;
    const ab = deriveLinkKey(x25519Private(x.a_private), hex(x.b_public), x.link_id);
    const ba = deriveLinkKey(x25519Private(x.b_private), hex(x.a_public), x.link_id);
    expect(toHex(ab)).toBe(x.hmac_key_hex);
    expect(toHex(ba)).toBe(x.hmac_key_hex);
  });

  it("encodes non-ASCII name components as UTF-8 with their byte length", () => {
    const h: ProtoSLIMHeader = { ...header, identity: "", source: { strName: { strComponent0: "é", strComponent1: "ns", strComponent2: "日本" } } };
    const pre = headerMacPreimage(h, "l");
    const want = Buffer.concat([
      Buffer.from("SLIM-DP-HDR-v1\0"),
      Buffer.from([1, 0, 0, 0]), Buffer.from("l"),
      Buffer.from([1, 0, 1]),
      Buffer.from([2, 0, 0, 0]), Buffer.from("é"),
      Buffer.from([2, 0, 0, 0]), Buffer.from("ns"),
      Buffer.from([6, 0, 0, 0]), Buffer.from("日本"),
    ]);
    expect(toHex(pre.subarray(0, want.length))).toBe(want.toString("hex"));
  });

  it("refuses peer keys of the wrong length", () => {
    const x = v.x25519_hkdf_vector;
    expect(() => deriveLinkKey(x25519Private(x.a_private), new Uint8Array(31), x.link_id)).toThrow(/length is invalid/);
  });
});
