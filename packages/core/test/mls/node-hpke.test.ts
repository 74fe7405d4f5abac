// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { randomBytes } from "node:crypto";
import { defaultCryptoProvider, getCiphersuiteFromName, type Hpke } from "ts-mls";
import { CryptoError } from "ts-mls/mlsError.js";
import { describe, expect, it } from "vitest";
import { nodeHpke } from "../../src/mls/node-hpke.js";
import { MLS_CIPHERSUITES } from "../../src/mls/profile.js";

async function pair(id: 1 | 2): Promise<{ fast: Hpke; stock: Hpke }> {
  const cs = getCiphersuiteFromName(MLS_CIPHERSUITES[id]);
  const fast = nodeHpke(cs);
  if (fast === undefined) throw new Error(`no node HPKE for suite ${id}`);
  return { fast, stock: (await defaultCryptoProvider.getCiphersuiteImpl(cs)).hpke };
}

describe.each([2, 1] as const)("node:crypto HPKE, ciphersuite %i", (id) => {
  it("DeriveKeyPair gives the stock implementation's keys (update paths depend on it)", async () => {
    const { fast, stock } = await pair(id);
    for (let i = 0; i < 20; i++) {
      const ikm = randomBytes(i === 0 ? 0 : 32);
      const a = await fast.deriveKeyPair(ikm);
      const b = await stock.deriveKeyPair(ikm);
      expect(await fast.exportPrivateKey(a.privateKey)).toEqual(await stock.exportPrivateKey(b.privateKey));
      expect(await fast.exportPublicKey(a.publicKey)).toEqual(await stock.exportPublicKey(b.publicKey));
    }
  });

  it("seals to and opens from the stock implementation in both directions", async () => {
    const { fast, stock } = await pair(id);
    for (const [sender, receiver] of [[fast, stock], [stock, fast], [fast, fast]] as const) {
      const recipient = await receiver.generateKeyPair();
      const pk = await sender.importPublicKey(await receiver.exportPublicKey(recipient.publicKey));
      for (const n of [0, 1, 100, 3000]) {
        const plaintext = randomBytes(n);
        const info = randomBytes(n % 40);
        const aad = n % 2 === 0 ? undefined : randomBytes(17);
        const { ct, enc } = await sender.seal(pk, plaintext, info, aad);
        expect(await receiver.open(recipient.privateKey, enc, ct, info, aad)).toEqual(new Uint8Array(plaintext));
      }
    }
  });

  it("exports the same secret on both sides with the stock implementation", async () => {
    const { fast, stock } = await pair(id);
    for (const [sender, receiver] of [[fast, stock], [stock, fast]] as const) {
      const recipient = await receiver.generateKeyPair();
      const pk = await sender.importPublicKey(await receiver.exportPublicKey(recipient.publicKey));
      const context = randomBytes(9);
      const info = randomBytes(5);
      const { enc, secret } = await sender.exportSecret(pk, context, 32, info);
      expect(await receiver.importSecret(recipient.privateKey, context, enc, 32, info)).toEqual(secret);
    }
  });

  it("keys travel as bytes between the implementations", async () => {
    const { fast, stock } = await pair(id);
    const mine = await fast.generateKeyPair();
    const sk = await stock.importPrivateKey(await fast.exportPrivateKey(mine.privateKey));
    const pk = await fast.importPublicKey(await fast.exportPublicKey(mine.publicKey));
    const { ct, enc } = await fast.seal(pk, Uint8Array.of(1, 2, 3), new Uint8Array(0));
    expect(await stock.open(sk, enc, ct, new Uint8Array(0))).toEqual(Uint8Array.of(1, 2, 3));
  });

  it("refuses tampering, the wrong key and malformed encapsulations with a CryptoError", async () => {
    const { fast } = await pair(id);
    const recipient = await fast.generateKeyPair();
    const other = await fast.generateKeyPair();
    const info = Uint8Array.of(7);
    const { ct, enc } = await fast.seal(recipient.publicKey, randomBytes(64), info);
    const flipped = Uint8Array.from(ct);
    flipped[5] = (flipped[5] ?? 0) ^ 1;
    await expect(fast.open(recipient.privateKey, enc, flipped, info)).rejects.toBeInstanceOf(CryptoError);
    await expect(fast.open(recipient.privateKey, enc, ct, Uint8Array.of(8))).rejects.toBeInstanceOf(CryptoError);
    await expect(fast.open(other.privateKey, enc, ct, info)).rejects.toBeInstanceOf(CryptoError);
    await expect(fast.open(recipient.privateKey, enc.subarray(1), ct, info)).rejects.toBeInstanceOf(CryptoError);
    const offCurve = Uint8Array.from(enc);
    offCurve[offCurve.length - 1] = (offCurve[offCurve.length - 1] ?? 0) ^ 1;
    if (id === 2) {
      // P-256: a point off the curve is refused before any DH
      await expect(fast.open(recipient.privateKey, offCurve, ct, info)).rejects.toBeInstanceOf(CryptoError);
      await expect(fast.importPublicKey(offCurve)).rejects.toBeInstanceOf(CryptoError);
      await expect(fast.importPrivateKey(new Uint8Array(32))).rejects.toBeInstanceOf(CryptoError);
      await expect(fast.importPrivateKey(new Uint8Array(32).fill(0xff))).rejects.toBeInstanceOf(CryptoError);
    } else {
      // X25519: a small-order point gives an all-zero shared secret, which must be refused
      await expect(fast.open(recipient.privateKey, new Uint8Array(32), ct, info)).rejects.toBeInstanceOf(CryptoError);
      await expect(fast.open(recipient.privateKey, offCurve, ct, info)).rejects.toBeInstanceOf(CryptoError);
    }
    await expect(fast.importPrivateKey(new Uint8Array(31).fill(1))).rejects.toBeInstanceOf(CryptoError);
  });
});
