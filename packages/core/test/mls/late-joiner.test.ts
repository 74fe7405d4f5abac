// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A late joiner in a group older than the identity token lifetime (3 600 s).
// Every leaf of the tree it enters carries the token its member had when it was
// admitted, long expired by now. The official joiner re-checks those tokens
// against the clock and refuses the Welcome; ours checks an aged leaf as of its
// own issue time (MAC, claims and key binding must still hold) and joins. A
// forged or re-keyed aged token is still refused.

import { describe, expect, it } from "vitest";
import { SharedSecretVerifier } from "../../src/auth/shared-secret.js";
import { MlsGroup } from "../../src/mls/group.js";
import { expectSlimError, groupOptions, mintToken, OTHER_SECRET, SECRET, testMember } from "./helpers.js";

const HOURS = 3_600_000;
const enc = new TextEncoder();
const dec = new TextDecoder();

describe("a late joiner in a group older than the token lifetime", () => {
  it("joins, and talks with the founders; the aged tokens alone would not verify today", async () => {
    // the group is founded, then two hours pass
    let offset = -2 * HOURS;
    const then = () => Date.now() + offset;
    const mod = testMember("mod", 2, SECRET, then);
    const early = testMember("early", 2, SECRET, then);
    const g = await MlsGroup.create(undefined, mod.identity, groupOptions(2, { clock: then }));
    const kpEarly = await MlsGroup.createKeyPackage(early.identity, { clock: then });
    const addEarly = await g.add(kpEarly.bytes);
    const ge = await MlsGroup.join(addEarly.welcome, kpEarly, groupOptions(2, { clock: then }));

    const founding = mod.identity.token();
    offset = 0;
    // sanity: the founders' tokens (the ones in the tree) have expired by now
    expect(() => new SharedSecretVerifier(SECRET).verify(founding)).toThrow(/expired/);

    // a newcomer with a fresh token; the moderator admits it
    const late = testMember("late");
    const kpLate = await MlsGroup.createKeyPackage(late.identity);
    const addLate = await g.add(kpLate.bytes);
    await ge.processCommit(addLate.commit, { expectedSender: mod.id });
    const gl = await MlsGroup.join(addLate.welcome, kpLate, groupOptions(2));
    expect(gl.members().map((m) => m.identity).sort()).toEqual([early.id, late.id, mod.id].sort());

    const fromLate = await gl.encrypt(enc.encode("hello from the newcomer"), enc.encode("aad"));
    expect(dec.decode((await ge.decrypt(fromLate)).plaintext)).toBe("hello from the newcomer");
    const fromEarly = await ge.encrypt(enc.encode("welcome"), enc.encode("aad"));
    expect(dec.decode((await gl.decrypt(fromEarly)).plaintext)).toBe("welcome");
  });

  it("still refuses an aged token signed with another secret", async () => {
    let offset = -2 * HOURS;
    const then = () => Date.now() + offset;
    const mod = testMember("mod", 2, SECRET, then);
    // a founder whose tokens are signed with the wrong secret, accepted by a moderator that trusts both
    const rogue = testMember("rogue", 2, OTHER_SECRET, then);
    const lenient = { verify: (t: string, o?: { nowMs?: number }) => {
      try {
        return new SharedSecretVerifier(SECRET).verify(t, o);
      } catch {
        return new SharedSecretVerifier(OTHER_SECRET).verify(t, o);
      }
    } } as unknown as SharedSecretVerifier;
    const g = await MlsGroup.create(undefined, mod.identity, { verifier: lenient, clock: then });
    await g.add((await MlsGroup.createKeyPackage(rogue.identity, { clock: then })).bytes);
    offset = 0;
    const late = testMember("late");
    const kpLate = await MlsGroup.createKeyPackage(late.identity);
    const r = await g.add(kpLate.bytes);
    await expectSlimError(MlsGroup.join(r.welcome, kpLate, groupOptions(2)), /credential rejected/);
    void mintToken;
  });
});
