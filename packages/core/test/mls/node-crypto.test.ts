// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { randomBytes } from "node:crypto";
import { type CiphersuiteImpl, defaultCryptoProvider, getCiphersuiteFromName } from "ts-mls";
import { describe, expect, it } from "vitest";
import { MlsGroup } from "../../src/mls/group.js";
import { nodeCryptoProvider, nodeCryptoProviderThreaded } from "../../src/mls/node-crypto.js";
import { MLS_CIPHERSUITES } from "../../src/mls/profile.js";
import { groupOptions, str, testMember, text } from "./helpers.js";

const impls = async (id: 1 | 2): Promise<[CiphersuiteImpl, CiphersuiteImpl, CiphersuiteImpl]> => {
  const cs = getCiphersuiteFromName(MLS_CIPHERSUITES[id]);
  return [await nodeCryptoProvider.getCiphersuiteImpl(cs), await defaultCryptoProvider.getCiphersuiteImpl(cs), await nodeCryptoProviderThreaded.getCiphersuiteImpl(cs)];
};

describe.each([2, 1] as const)("node:crypto provider, ciphersuite %i", (id) => {
  it("hash, HMAC, HKDF and AEAD give the stock provider's bytes", async () => {
    const [fast, stock] = await impls(id);
    for (const n of [0, 1, 31, 32, 33, 100]) {
      const data = randomBytes(n);
      const key = randomBytes(32);
      expect(await fast.hash.digest(data)).toEqual(await stock.hash.digest(data));
      const mac = await fast.hash.mac(key, data);
      expect(mac).toEqual(await stock.hash.mac(key, data));
      expect(await fast.hash.verifyMac(key, mac, data)).toBe(true);
      expect(await fast.hash.verifyMac(key, mac.subarray(1), data)).toBe(false);
      const prk = await fast.kdf.extract(n === 0 ? new Uint8Array(0) : key, data);
      expect(prk).toEqual(await stock.kdf.extract(n === 0 ? new Uint8Array(0) : key, data));
      for (const len of [12, 16, 32, 48, 70]) expect(await fast.kdf.expand(prk, data, len)).toEqual(await stock.kdf.expand(prk, data, len));
      const aeadKey = randomBytes(fast.hpke.keyLength);
      const nonce = randomBytes(fast.hpke.nonceLength);
      const aad = n % 2 === 0 ? undefined : randomBytes(n);
      const sealed = await fast.hpke.encryptAead(aeadKey, nonce, aad, data);
      expect(sealed).toEqual(await stock.hpke.encryptAead(aeadKey, nonce, aad, data));
      expect(await stock.hpke.decryptAead(aeadKey, nonce, aad, sealed)).toEqual(new Uint8Array(data));
      sealed[0] = (sealed[0] ?? 0) ^ 1;
      await expect(fast.hpke.decryptAead(aeadKey, nonce, aad, sealed)).rejects.toThrow();
    }
  });

  it("signatures verify across providers; forgeries do not", async () => {
    const [fast, stock, threaded] = await impls(id);
    const message = randomBytes(77);
    for (const [signer, verifier] of [[fast, stock], [stock, fast], [fast, fast], [threaded, stock], [stock, threaded], [threaded, fast]] as const) {
      const keys = await signer.signature.keygen();
      const sig = await signer.signature.sign(keys.signKey, message);
      expect(await verifier.signature.verify(keys.publicKey, message, sig)).toBe(true);
      const other = Uint8Array.from(message);
      other[3] = (other[3] ?? 0) ^ 1;
      expect(await verifier.signature.verify(keys.publicKey, other, sig)).toBe(false);
      expect(await verifier.signature.verify(keys.publicKey, message, sig.subarray(2))).toBe(false);
    }
    // ours answers false for a malformed key (the stock Ed25519 verifier throws)
    expect(await fast.signature.verify(new Uint8Array(5), message, new Uint8Array(64))).toBe(false);
    expect(await threaded.signature.verify(new Uint8Array(5), message, new Uint8Array(64))).toBe(false);
  });

  it("a node-provider member and a stock-provider member share a group", async () => {
    const [a, b] = [testMember("alice", id), testMember("bob", id)];
    const alice = await MlsGroup.create(undefined, a.identity, groupOptions(id, { crypto: "node" }));
    const kp = await MlsGroup.createKeyPackage(b.identity, { ciphersuite: id, crypto: "default" });
    const add = await alice.add(kp.bytes);
    const bob = await MlsGroup.join(add.welcome, kp, groupOptions(id, { crypto: "default" }));
    expect(str((await bob.decrypt(await alice.encrypt(text("node -> stock"), text("a")))).plaintext)).toBe("node -> stock");
    expect(str((await alice.decrypt(await bob.encrypt(text("stock -> node"), text("b")))).plaintext)).toBe("stock -> node");
    const rotation = await bob.rotate();
    await alice.processCommit(rotation.commit);
    expect(alice.epoch).toBe(bob.epoch);
    expect(str((await bob.decrypt(await alice.encrypt(text("after"), text("c")))).plaintext)).toBe("after");
  });

  it("with signatures on the thread pool, many messages in flight arrive intact", async () => {
    const [a, b] = [testMember("alice", id), testMember("bob", id)];
    const alice = await MlsGroup.create(undefined, a.identity, groupOptions(id, { crypto: "node-threaded" }));
    const kp = await MlsGroup.createKeyPackage(b.identity, { ciphersuite: id, crypto: "node-threaded" });
    const bob = await MlsGroup.join((await alice.add(kp.bytes)).welcome, kp, groupOptions(id, { crypto: "node-threaded" }));
    const wires = await Promise.all(Array.from({ length: 40 }, (_, i) => alice.encrypt(text(`m${i}`), text(`aad${i}`))));
    const got = await Promise.all(wires.map((w) => bob.decrypt(w)));
    expect(got.map((g) => str(g.plaintext))).toEqual(wires.map((_, i) => `m${i}`));
    expect(got.map((g) => str(g.aad))).toEqual(wires.map((_, i) => `aad${i}`));
  });
});
