// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { createCommit, emptyPskIndex, encodeMlsMessage } from "ts-mls";
import { describe, expect, it } from "vitest";
import { P256SigningKey } from "../../src/auth/p256.js";
import { SharedSecretProvider, SharedSecretVerifier } from "../../src/auth/shared-secret.js";
import { signApplication, sealApplication } from "../../src/mls/app-messages.js";
import { Ed25519MlsSigner, mlsIdentityOf, SlimAuthService } from "../../src/mls/credentials.js";
import { MlsGroup } from "../../src/mls/group.js";
import { loadCiphersuite, slimCommitOptions } from "../../src/mls/profile.js";
import { encodeMls } from "../../src/mls/wire.js";
import { expectSlimError, groupOptions, mintToken, OTHER_SECRET, rawState, SECRET, str, testMember, text } from "./helpers.js";

async function moderator() {
  const a = testMember("alice");
  return { a, alice: await MlsGroup.create(undefined, a.identity, groupOptions()) };
}

describe("authentication of members", () => {
  it("accepts a key package whose token verifies and names the leaf key; its identity is the token id", async () => {
    const { alice } = await moderator();
    const b = testMember("bob");
    const kp = await MlsGroup.createKeyPackage(b.identity);
    const { member } = await alice.add(kp.bytes);
    expect(member.identity).toBe(b.id);
    expect(member.subject).toBe("org/ns/bob");
    expect(member.signaturePublicKey).toEqual(b.identity.signer.publicKey);
  });

  it("rejects a key package whose token is signed with another secret", async () => {
    const { alice } = await moderator();
    const kp = await MlsGroup.createKeyPackage(testMember("mallory", 2, OTHER_SECRET).identity);
    await expectSlimError(alice.add(kp.bytes), /credential rejected: identity token does not verify \(bad-mac/);
    expect(alice.epoch).toBe(0n);
    expect(alice.members()).toHaveLength(1);
  });

  it("rejects a token whose pubkey claim is not the leaf signature key", async () => {
    const { alice } = await moderator();
    const victim = new SharedSecretProvider("org/ns/bob", SECRET);
    const attackerKey = P256SigningKey.generate();
    const stolen = { token: () => victim.token(), signer: { publicKey: attackerKey.publicKey, exportPrivateKey: () => attackerKey.exportPrivateScalar() } };
    const kp = await MlsGroup.createKeyPackage(stolen);
    await expectSlimError(alice.add(kp.bytes), /public key mismatch for org\/ns\/bob_/);
  });

  it("rejects an expired token (older than the verifier's window)", async () => {
    const { alice } = await moderator();
    const old = testMember("bob", 2, SECRET, () => Date.now() - 3_700_000);
    const kp = await MlsGroup.createKeyPackage(old.identity);
    await expectSlimError(alice.add(kp.bytes), /expired/);
  });

  it("a joiner whose verifier does not accept the members' tokens refuses the Welcome", async () => {
    const { alice } = await moderator();
    const b = testMember("bob");
    const kp = await MlsGroup.createKeyPackage(b.identity);
    const { welcome } = await alice.add(kp.bytes);
    await expectSlimError(MlsGroup.join(welcome, kp, { verifier: new SharedSecretVerifier(OTHER_SECRET) }), /credential rejected/);
    expect(kp.usable).toBe(true);
  });

  it("refuses to create a group with an identity its own verifier rejects, or a signer of the wrong kind", async () => {
    await expectSlimError(MlsGroup.create(undefined, testMember("x", 2, OTHER_SECRET).identity, groupOptions()), /credential rejected/);
    const ed = { token: () => "unused", signer: Ed25519MlsSigner.generate() };
    await expectSlimError(MlsGroup.create(undefined, ed, groupOptions(2)), /P-256/, "INVALID_ARGUMENT");
    await expectSlimError(MlsGroup.createKeyPackage(mlsIdentityOf(new SharedSecretProvider("org/ns/y", SECRET)), { ciphersuite: 1 }), /Ed25519/, "INVALID_ARGUMENT");
  });

  it("only basic credentials with UTF-8 tokens pass", async () => {
    const auth = new SlimAuthService({ verifier: new SharedSecretVerifier(SECRET) });
    const key = P256SigningKey.generate().publicKey;
    await expectSlimError(auth.validateCredential({ credentialType: "x509", certificates: [new Uint8Array(4)] }, key), /basic only/);
    await expectSlimError(auth.validateCredential({ credentialType: "basic", identity: Uint8Array.of(0xff, 0xfe) }, key), /not UTF-8/);
    const token = mintToken("org/ns/z_1", key);
    await expect(auth.validateCredential({ credentialType: "basic", identity: new TextEncoder().encode(token) }, key)).resolves.toBe(true);
  });

  it("a commit whose path leaf swaps the committer's identity for another is rejected", async () => {
    const opts = groupOptions();
    const [a, b, c] = [testMember("alice"), testMember("bob"), testMember("carol")];
    const alice = await MlsGroup.create(undefined, a.identity, opts);
    const groups = [];
    for (const m of [b, c]) {
      const kp = await MlsGroup.createKeyPackage(m.identity);
      const res = await alice.add(kp.bytes);
      for (const g of groups) await g.processCommit(res.commit);
      groups.push(await MlsGroup.join(res.welcome, kp, opts));
    }
    const [bob, carol] = groups as [MlsGroup, MlsGroup];
    // bob, who holds the shared secret, mints a valid token for another identity bound to his own key
    const forged = mintToken("org/ns/mallory_x", b.identity.signer.publicKey);
    const state = await rawState(bob);
    const own = state.privatePath.leafIndex * 2;
    const node = state.ratchetTree[own];
    if (node?.nodeType !== "leaf") throw new Error("no own leaf");
    const tree = state.ratchetTree.slice();
    tree[own] = { nodeType: "leaf", leaf: { ...node.leaf, credential: { credentialType: "basic", identity: new TextEncoder().encode(forged) } } };
    const cs = await loadCiphersuite(2);
    const { commit } = await createCommit({ state: { ...state, ratchetTree: tree }, cipherSuite: cs, pskIndex: emptyPskIndex }, slimCommitOptions({}));
    await expectSlimError(carol.processCommit(encodeMlsMessage(commit)), /may not replace its credential/);
    expect(carol.epoch).toBe(alice.epoch);
    // the honest version of the same commit goes through
    const honest = await bob.rotate();
    expect((await carol.processCommit(honest.commit)).sender.identity).toBe(b.id);
  });

  it("a member cannot send in another member's name", async () => {
    const opts = groupOptions();
    const [a, b, c] = [testMember("alice"), testMember("bob"), testMember("carol")];
    const alice = await MlsGroup.create(undefined, a.identity, opts);
    const groups: MlsGroup[] = [];
    for (const m of [b, c]) {
      const kp = await MlsGroup.createKeyPackage(m.identity);
      const res = await alice.add(kp.bytes);
      for (const g of groups) await g.processCommit(res.commit);
      groups.push(await MlsGroup.join(res.welcome, kp, opts));
    }
    const [bob, carol] = groups as [MlsGroup, MlsGroup];
    // bob holds every member's ratchet of the epoch; he seals as leaf 0 (alice) but can only sign with his own key
    const state = await rawState(bob);
    const cs = await loadCiphersuite(2);
    const asAlice = { ...state, privatePath: { ...state.privatePath, leafIndex: 0 } };
    const signed = await signApplication(asAlice, text("I am alice"), text("h"), cs);
    const forged = (await sealApplication(asAlice, signed, cs)).bytes;
    await expectSlimError(carol.decrypt(forged), /signature does not verify/);
    // a genuine message still gets through (alice's next generation)
    await alice.encrypt(text("burnt generation"), text("h"));
    expect(str((await carol.decrypt(await alice.encrypt(text("really alice"), text("h")))).plaintext)).toBe("really alice");
  });
});
