// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { createHmac, randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { HmacSha256, macEqual } from "../../src/util/hmac-sha256.js";

describe("HmacSha256", () => {
  it("matches node:crypto for keys of 0..100 bytes and messages across block boundaries", () => {
    for (const keyLen of [0, 1, 32, 63, 64, 65, 100]) {
      const key = randomBytes(keyLen);
      const mac = new HmacSha256(key);
      for (let n = 0; n <= 200; n++) {
        const data = randomBytes(n);
        expect(Buffer.from(mac.mac(data)).toString("hex"), `key ${keyLen} B, data ${n} B`).toBe(createHmac("sha256", key).update(data).digest("hex"));
      }
    }
  });

  it("MACs only the first len bytes of a larger buffer, and is reusable", () => {
    const key = randomBytes(32);
    const mac = new HmacSha256(key);
    const buf = randomBytes(1000);
    for (const len of [700, 3, 999, 0]) {
      const out = new Uint8Array(32);
      mac.macInto(buf, len, out);
      expect(Buffer.from(out).equals(createHmac("sha256", key).update(buf.subarray(0, len)).digest())).toBe(true);
    }
  });

  it("macAfterBlock MACs what follows a 64-byte scratch block (the native inner-hash path)", () => {
    for (const keyLen of [16, 32, 80]) {
      const key = randomBytes(keyLen);
      const mac = new HmacSha256(key);
      for (const n of [0, 1, 55, 56, 64, 200, 470]) {
        const buf = Buffer.concat([randomBytes(64), randomBytes(n), randomBytes(9)]);
        const data = Buffer.from(buf.subarray(64, 64 + n));
        const out = new Uint8Array(32);
        mac.macAfterBlock(buf, n, out);
        expect(Buffer.from(out).equals(createHmac("sha256", key).update(data).digest()), `key ${keyLen} B, data ${n} B`).toBe(true);
      }
    }
  });

  it("RFC 4231 test case 2", () => {
    const mac = new HmacSha256(new TextEncoder().encode("Jefe"));
    const out = mac.mac(new TextEncoder().encode("what do ya want for nothing?"));
    expect(Buffer.from(out).toString("hex")).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });

  it("keeps the key's pad block out of inspect and JSON output", () => {
    const mac = new HmacSha256(Buffer.alloc(32, 0x41));
    const shown = `${inspect(mac, { depth: 5, showHidden: true })} ${JSON.stringify(mac)}`;
    expect(shown).not.toMatch(/ipad|inner|outer/);
    // key 0x41 XOR ipad 0x36 = 0x77: no run of it appears
    expect(shown).not.toMatch(/119, 119, 119/);
  });

  it("macEqual compares every byte and the length", () => {
    const a = randomBytes(32);
    const b = Buffer.from(a);
    expect(macEqual(a, b)).toBe(true);
    b[31]! ^= 1;
    expect(macEqual(a, b)).toBe(false);
    expect(macEqual(a, a.subarray(0, 31))).toBe(false);
  });
});
