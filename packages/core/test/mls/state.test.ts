// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { describe, expect, it } from "vitest";
import { MlsGroup } from "../../src/mls/group.js";
import { openState, sealState } from "../../src/mls/state-file.js";
import { expectSlimError, groupOptions, str, testMember, text } from "./helpers.js";

const PASS = "correct horse battery staple";

async function pair() {
  const [a, b] = [testMember("alice"), testMember("bob")];
  const alice = await MlsGroup.create(undefined, a.identity, groupOptions());
  const kp = await MlsGroup.createKeyPackage(b.identity);
  const bob = await MlsGroup.join((await alice.add(kp.bytes)).welcome, kp, groupOptions());
  return { a, b, alice, bob };
}

const contains = (hay: Uint8Array, needle: Uint8Array): boolean => Buffer.from(hay).includes(Buffer.from(needle));

describe("group state at rest", () => {
  it("round-trips: the restored group keeps epoch, roster and ratchets, and talks to the others", async () => {
    const { a, b, alice, bob } = await pair();
    expect(str((await bob.decrypt(await alice.encrypt(text("before"), text("h")))).plaintext)).toBe("before");
    const sealed = await alice.exportState(PASS);
    const restored = await MlsGroup.importState(sealed, PASS, groupOptions());
    expect(restored.epoch).toBe(alice.epoch);
    expect(restored.groupId).toEqual(alice.groupId);
    expect(restored.ownLeafIndex).toBe(0);
    expect(restored.members().map((m) => m.identity)).toEqual([a.id, b.id]);
    const next = await restored.encrypt(text("after restart"), text("h2"));
    const got = await bob.decrypt(next);
    expect(str(got.plaintext)).toBe("after restart");
    expect(got.sender.identity).toBe(a.id);
    expect(str((await restored.decrypt(await bob.encrypt(text("hello again"), text("h")))).plaintext)).toBe("hello again");
    const rotated = await restored.rotate();
    await bob.processCommit(rotated.commit);
    expect(bob.epoch).toBe(2n);
  });

  it("never writes the state in the clear", async () => {
    const { a, alice } = await pair();
    const sealed = await alice.exportState(PASS);
    expect(contains(sealed, alice.groupId)).toBe(false);
    expect(contains(sealed, a.identity.signer.exportPrivateKey())).toBe(false);
    expect(contains(sealed, text(a.id))).toBe(false);
    expect(str(sealed.subarray(0, 7))).toBe("SLIMMLS");
  });

  it("refuses a wrong passphrase, any flipped byte and truncation", async () => {
    const { alice } = await pair();
    const sealed = await alice.exportState(PASS);
    await expectSlimError(MlsGroup.importState(sealed, "wrong passphrase", groupOptions()), /wrong passphrase or damaged/);
    for (const at of [10, 20, 40, sealed.length - 1, Math.floor(sealed.length / 2)]) {
      const bad = sealed.slice();
      bad[at] = (bad[at] ?? 0) ^ 0x40;
      await expectSlimError(MlsGroup.importState(bad, PASS, groupOptions()));
    }
    await expectSlimError(MlsGroup.importState(sealed.subarray(0, 30), PASS, groupOptions()), /too short/);
    await expectSlimError(MlsGroup.importState(text("not a state at all, ".repeat(5)), PASS, groupOptions()), /magic/);
  });

  it("bounds the key-derivation cost read from the file", async () => {
    const sealed = await sealState(text("x"), PASS, { log2N: 10, r: 8, p: 1 });
    expect(str(await openState(sealed, PASS))).toBe("x");
    const costly = sealed.slice();
    costly[8] = 30; // log2(N)
    await expectSlimError(openState(costly, PASS), /out-of-range/);
    await expectSlimError(sealState(text("x"), ""), /empty/, "INVALID_ARGUMENT");
  });
});
