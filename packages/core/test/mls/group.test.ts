// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { describe, expect, it } from "vitest";
import { MlsGroup } from "../../src/mls/group.js";
import type { MlsCiphersuiteId } from "../../src/mls/profile.js";
import { expectSlimError, groupOptions, str, testMember, text } from "./helpers.js";

/** alice creates, adds bob, then carol (bob processes carol's add commit). */
async function threeMembers(cs: MlsCiphersuiteId) {
  const opts = groupOptions(cs);
  const [a, b, c] = [testMember("alice", cs), testMember("bob", cs), testMember("carol", cs)];
  const alice = await MlsGroup.create(undefined, a.identity, opts);
  const bobKp = await MlsGroup.createKeyPackage(b.identity, { ciphersuite: cs });
  const addBob = await alice.add(bobKp.bytes);
  const bob = await MlsGroup.join(addBob.welcome, bobKp, opts);
  const carolKp = await MlsGroup.createKeyPackage(c.identity, { ciphersuite: cs });
  const addCarol = await alice.add(carolKp.bytes);
  await bob.processCommit(addCarol.commit, { expectedSender: a.id });
  const carol = await MlsGroup.join(addCarol.welcome, carolKp, opts);
  return { opts, ids: { alice: a, bob: b, carol: c }, alice, bob, carol, addBob, addCarol };
}

describe.each([2, 1] as const)("ciphersuite %i: three-member lifecycle", (cs) => {
  it("create, add, add: same epoch and roster everywhere, every member reads every other", async () => {
    const { ids, alice, bob, carol, addBob, addCarol } = await threeMembers(cs);
    expect(addBob.member.identity).toBe(ids.bob.id);
    expect(addCarol.member.identity).toBe(ids.carol.id);
    expect(addBob.epoch).toBe(1n);
    for (const g of [alice, bob, carol]) {
      expect(g.epoch).toBe(2n);
      expect(g.ciphersuite).toBe(cs);
      expect(g.groupId).toEqual(alice.groupId);
      expect(g.members().map((m) => m.identity)).toEqual([ids.alice.id, ids.bob.id, ids.carol.id]);
    }
    expect(alice.groupId.length).toBe(32);
    const groups = { alice, bob, carol };
    for (const [from, sender] of Object.entries(groups)) {
      const aad = text(`header of ${from}`);
      const wire = await sender.encrypt(text(`hi from ${from}`), aad);
      for (const [to, receiver] of Object.entries(groups)) {
        if (to === from) continue;
        const got = await receiver.decrypt(wire);
        expect(str(got.plaintext)).toBe(`hi from ${from}`);
        expect(got.aad).toEqual(aad);
        expect(got.sender.identity).toBe(ids[from as keyof typeof ids].id);
        expect(got.epoch).toBe(2n);
      }
    }
  });

  it("remove: the removed member learns it and reads nothing that follows; a re-add and a rejoin bring members back", async () => {
    const { ids, alice, bob, carol, opts } = await threeMembers(cs);
    const removal = await alice.remove(ids.carol.id);
    expect(removal.member.identity).toBe(ids.carol.id);
    expect((await bob.processCommit(removal.commit, { expectedSender: ids.alice.id })).removed.map((m) => m.identity)).toEqual([ids.carol.id]);
    const seen = await carol.processCommit(removal.commit);
    expect(seen.removedSelf).toBe(true);
    expect(carol.active).toBe(false);
    await expectSlimError(carol.encrypt(text("still here?")), /removed/);

    const after = await alice.encrypt(text("carol is gone"), text("aad"));
    expect(str((await bob.decrypt(after)).plaintext)).toBe("carol is gone");
    await expectSlimError(carol.decrypt(after));
    expect(alice.members().map((m) => m.identity)).toEqual([ids.alice.id, ids.bob.id]);

    // carol comes back as a new member
    const carolKp = await MlsGroup.createKeyPackage(ids.carol.identity, { ciphersuite: cs });
    const readd = await alice.add(carolKp.bytes);
    await bob.processCommit(readd.commit, { expectedSender: ids.alice.id });
    const carol2 = await MlsGroup.join(readd.welcome, carolKp, opts);
    expect(str((await carol2.decrypt(await bob.encrypt(text("welcome back"), text("x")))).plaintext)).toBe("welcome back");

    // bob misses a commit, then rejoins: remove + add of his new key package (same identity key) in one commit
    const missed = await alice.rotate();
    await carol2.processCommit(missed.commit);
    expect(bob.epoch).toBe(alice.epoch - 1n);
    const bobKp = await MlsGroup.createKeyPackage(ids.bob.identity, { ciphersuite: cs });
    const rejoin = await alice.rejoin(ids.bob.id, bobKp.bytes);
    const processed = await carol2.processCommit(rejoin.commit, { expectedSender: ids.alice.id });
    expect(processed.removed.map((m) => m.identity)).toEqual([ids.bob.id]);
    expect(processed.added.map((m) => m.identity)).toEqual([ids.bob.id]);
    const bob2 = await MlsGroup.join(rejoin.welcome, bobKp, opts);
    for (const g of [alice, bob2, carol2]) expect(g.epoch).toBe(rejoin.epoch);
    const fromBob = await bob2.encrypt(text("bob is back"), text("h"));
    expect(str((await alice.decrypt(fromBob)).plaintext)).toBe("bob is back");
    expect(str((await carol2.decrypt(fromBob)).plaintext)).toBe("bob is back");
    expect(str((await bob2.decrypt(await carol2.encrypt(text("hello bob"), text("h")))).plaintext)).toBe("hello bob");
  });
});

describe("group rules", () => {
  it("rotate: an empty commit with a fresh path; the pre-rotation state opens nothing sent afterwards", async () => {
    const { alice, bob, carol } = await threeMembers(2);
    const bobBefore = await bob.exportState("pw");
    const aliceLeafKey = alice.members()[0]?.signaturePublicKey;
    const rotation = await alice.rotate();
    expect(rotation.epoch).toBe(3n);
    await bob.processCommit(rotation.commit);
    await carol.processCommit(rotation.commit);
    expect(alice.members()[0]?.signaturePublicKey).toEqual(aliceLeafKey); // same identity key, new HPKE path
    const fresh = await alice.encrypt(text("after rotation"), text("h"));
    expect(str((await bob.decrypt(fresh)).plaintext)).toBe("after rotation");
    const stale = await MlsGroup.importState(bobBefore, "pw", groupOptions());
    expect(stale.epoch).toBe(2n);
    await expectSlimError(stale.decrypt(fresh), /future epoch/);
    // forging the epoch field does not help: the old epoch's keys do not open the new message
    const forged = fresh.slice();
    const epochLowByte = 2 + 2 + 1 + 32 + 7; // version, wire format, group id (length + 32 bytes), u64 epoch
    expect(forged[epochLowByte]).toBe(3);
    forged[epochLowByte] = 2;
    await expectSlimError(stale.decrypt(forged));
  });

  it("tampered ciphertext and authenticated data are rejected, and do not disturb the state", async () => {
    const { alice, bob } = await threeMembers(2);
    const wire = await alice.encrypt(text("payload"), text("header bytes"));
    for (const at of [wire.length - 1, wire.length - 20, 60]) {
      const bad = wire.slice();
      bad[at] = (bad[at] ?? 0) ^ 0x01;
      await expectSlimError(bob.decrypt(bad));
    }
    expect(str((await bob.decrypt(wire)).plaintext)).toBe("payload");
  });

  it("a replayed message is rejected", async () => {
    const { alice, bob } = await threeMembers(2);
    const wire = await alice.encrypt(text("once"), text("h"));
    expect(str((await bob.decrypt(wire)).plaintext)).toBe("once");
    await expectSlimError(bob.decrypt(wire));
  });

  it("late messages: accepted from a current member, rejected from a removed one", async () => {
    const { ids, alice, bob, carol } = await threeMembers(2);
    const lateFromBob = await bob.encrypt(text("sent before the commit"), text("h"));
    const lateFromCarol = await carol.encrypt(text("sent before my removal"), text("h"));
    const removal = await alice.remove(ids.carol.id);
    expect(str((await alice.decrypt(lateFromBob)).plaintext)).toBe("sent before the commit");
    await expectSlimError(alice.decrypt(lateFromCarol), /no longer in the group/);
    await bob.processCommit(removal.commit);
    await expectSlimError(bob.decrypt(lateFromCarol), /no longer in the group/);
  });

  it("a commit not from the expected sender is rejected and leaves the group unchanged", async () => {
    const { ids, alice, bob, carol } = await threeMembers(2);
    const byBob = await bob.rotate();
    await expectSlimError(carol.processCommit(byBob.commit, { expectedSender: ids.alice.id }), /expected member/);
    expect(carol.epoch).toBe(2n);
    // without the restriction the same commit is valid
    const ok = await carol.processCommit(byBob.commit);
    expect(ok.sender.identity).toBe(ids.bob.id);
    expect(carol.epoch).toBe(3n);
    await expectSlimError(alice.processCommit(byBob.commit, { expectedSender: "org/ns/nobody_00000000" }), /no member/);
  });

  it("operations are serialised: concurrent encrypts all decrypt, in any order", async () => {
    const { alice, bob } = await threeMembers(2);
    const wires = await Promise.all(Array.from({ length: 20 }, (_, i) => alice.encrypt(text(`m${i}`), text("h"))));
    const order = [...wires.keys()].reverse();
    for (const i of order) expect(str((await bob.decrypt(wires[i] as Uint8Array)).plaintext)).toBe(`m${i}`);
  });

  it("a pending key package joins once", async () => {
    const a = testMember("alice");
    const b = testMember("bob");
    const alice = await MlsGroup.create(undefined, a.identity, groupOptions());
    const kp = await MlsGroup.createKeyPackage(b.identity);
    const { welcome } = await alice.add(kp.bytes);
    await MlsGroup.join(welcome, kp, groupOptions());
    expect(kp.usable).toBe(false);
    await expectSlimError(MlsGroup.join(welcome, kp, groupOptions()), /already used/);
  });
});
