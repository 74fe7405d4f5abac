// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { createHmac, hkdfSync, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hkdfExpand, hkdfExtract, hmac, type HkdfDigest } from "../../src/mls/hkdf.js";

const DIGESTS: HkdfDigest[] = ["sha256", "sha384", "sha512"];

describe("MLS HKDF primitives", () => {
  it("hmac equals node:crypto's for every digest, keys shorter and longer than a block, data in parts", () => {
    for (const d of DIGESTS) {
      for (const keyLen of [0, 16, 32, 64, 65, 128, 129, 200]) {
        const key = randomBytes(keyLen);
        const parts = [randomBytes(3), randomBytes(0), randomBytes(70)];
        const want = createHmac(d, key).update(Buffer.concat(parts)).digest();
        expect(Buffer.from(hmac(d, key, ...parts)).equals(want), `${d} key ${keyLen}`).toBe(true);
      }
    }
  });

  it("extract + expand equal RFC 5869 HKDF (node:crypto hkdfSync), including multi-block output", () => {
    for (const d of DIGESTS) {
      const ikm = randomBytes(40);
      const salt = randomBytes(20);
      const info = randomBytes(30);
      for (const len of [16, 32, 64, 100, 255]) {
        const ours = hkdfExpand(d, hkdfExtract(d, salt, ikm), info, len);
        expect(Buffer.from(ours).equals(Buffer.from(hkdfSync(d, ikm, salt, info, len))), `${d} ${len}`).toBe(true);
      }
    }
  });
});
