// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isSlimError } from "../../src/errors.js";
import { MlsGroup } from "../../src/mls/group.js";
import { expectSlimError, groupOptions, str, testMember, text } from "./helpers.js";

async function pair() {
  const [a, b] = [testMember("alice"), testMember("bob")];
  const alice = await MlsGroup.create(undefined, a.identity, groupOptions());
  const kp = await MlsGroup.createKeyPackage(b.identity);
  const added = await alice.add(kp.bytes);
  const bob = await MlsGroup.join(added.welcome, kp, groupOptions());
  return { alice, bob, kp, added };
}

/** Any outcome but a non-SlimError rejection is fine. */
async function onlySlimErrors(op: Promise<unknown>): Promise<boolean> {
  try {
    await op;
    return true;
  } catch (err) {
    if (!isSlimError(err)) throw err;
    return false;
  }
}

describe("malformed and hostile input", () => {
  it("wrong object types, garbage, truncation and trailing bytes are SlimError(MLS)", async () => {
    const { alice, bob, added } = await pair();
    const app = await alice.encrypt(text("x"), text("h"));
    await expectSlimError(bob.decrypt(added.welcome), /expected a PrivateMessage, got a Welcome/);
    await expectSlimError(bob.decrypt(new Uint8Array(0)), /malformed PrivateMessage/);
    await expectSlimError(bob.decrypt(app.subarray(0, app.length - 5)), /malformed/);
    await expectSlimError(bob.decrypt(Uint8Array.from([...app, 0])), /trailing/);
    await expectSlimError(bob.processCommit(app), /expected a commit/);
    await expectSlimError(bob.processCommit(randomBytes(300)), /malformed/);
    await expectSlimError(alice.add(added.commit), /expected a KeyPackage/);
    await expectSlimError(alice.add(randomBytes(64)), /malformed KeyPackage/);
    const kp = await MlsGroup.createKeyPackage(testMember("carol").identity);
    await expectSlimError(MlsGroup.join(randomBytes(500), kp, groupOptions()), /Welcome/);
    await expectSlimError(MlsGroup.join(added.welcome, kp, groupOptions()), /cannot join/);
    // still working
    expect(str((await bob.decrypt(app)).plaintext)).toBe("x");
  });

  it("respects the size bound", async () => {
    const { alice } = await pair();
    const small = await MlsGroup.create(undefined, testMember("zed").identity, groupOptions(2, { maxMessageBytes: 100 }));
    const big = await alice.encrypt(new Uint8Array(500), text("h"));
    await expectSlimError(small.decrypt(big), /exceeds the 100-byte limit/);
  });

  it("a commit for an old or a future epoch is refused with a clear reason", async () => {
    const { alice, bob } = await pair();
    const first = await alice.rotate();
    await bob.processCommit(first.commit);
    await expectSlimError(bob.processCommit(first.commit), /epoch 1, the group is at epoch 2/);
  });

  it("randomly mutated commits and messages never throw anything but SlimError, and never change the state", async () => {
    const { alice, bob } = await pair();
    const app = await alice.encrypt(text("fuzz target"), text("aad"));
    const commit = (await alice.rotate()).commit;
    let accepted = 0;
    for (let i = 0; i < 150; i++) {
      const source = i % 2 === 0 ? app : commit;
      const bad = source.slice();
      const flips = 1 + (i % 3);
      for (let f = 0; f < flips; f++) {
        const at = randomBytes(4).readUInt32BE() % bad.length;
        bad[at] = (bad[at] ?? 0) ^ (1 + (randomBytes(1)[0] ?? 0) % 255);
      }
      if (await onlySlimErrors(source === app ? bob.decrypt(bad) : bob.processCommit(bad))) accepted++;
    }
    expect(accepted).toBe(0);
    expect(bob.epoch).toBe(1n);
    expect(str((await bob.decrypt(app)).plaintext)).toBe("fuzz target");
    await bob.processCommit(commit);
    expect(bob.epoch).toBe(alice.epoch);
  });
});
