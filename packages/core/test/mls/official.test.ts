// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// MLS objects captured from the official implementation (npm @agntcy/slim-bindings 2.0.0-alpha.5, i.e.
// mls-rs 0.54) in shared/spikes/p3-security/artifacts: key packages from JoinReply, Welcomes and
// commits from GroupWelcome / GroupUpdate (MlsPayload.mls_content), application blobs, and the raw
// Messages they travelled in.

import { describe, expect, it } from "vitest";
import { encodeHeaderAad } from "../../src/auth/header-signature.js";
import { SharedSecretProvider, SharedSecretVerifier } from "../../src/auth/shared-secret.js";
import { SlimAuthService, mlsIdentityOf } from "../../src/mls/credentials.js";
import { MlsGroup } from "../../src/mls/group.js";
import { decodeMls, encodeMls } from "../../src/mls/wire.js";
import { decodeProtoMessage } from "../../src/wire/gen/dataplane.js";
import { artifactFiles, DEMO_SECRET, tokenTs } from "../auth/captures.js";
import { expectSlimError, str, text } from "./helpers.js";

const MAX = 1 << 20;
const files = [...artifactFiles("p2p"), ...artifactFiles("group")].filter((f) => f.file.endsWith(".bin") && f.bytes.length > 0);
const artifact = (name: string): Uint8Array => {
  const found = files.find((f) => f.file === name);
  if (found === undefined) throw new Error(`missing artifact ${name}`);
  return found.bytes;
};
const officialKeyPackage = (name: string) => decodeMls(artifact(name), "mls_key_package", MAX).keyPackage;
const tokenOf = (name: string): string => str((officialKeyPackage(name).leafNode.credential as { identity: Uint8Array }).identity);

/** A TS member on the capture's clock, with the capture's shared secret. */
function capturedClockMember(name: string, clockMs: number) {
  const provider = new SharedSecretProvider(`org/ns/${name}`, DEMO_SECRET);
  return { id: provider.tokenId, identity: { ...mlsIdentityOf(provider), token: () => provider.token({ nowMs: clockMs }) } };
}

describe("official MLS artifacts", () => {
  it("decode as the expected wire formats and re-encode byte for byte", () => {
    const kinds = new Map<string, string>();
    for (const { file, bytes } of files) {
      const wanted = file.includes("keypackage") ? "mls_key_package" : file.includes("Welcome") ? "mls_welcome" : file.includes("groupUpdate") ? "mls_public_message" : "mls_private_message";
      const message = decodeMls(bytes, wanted, MAX);
      expect(Buffer.from(encodeMls(message)).equals(Buffer.from(bytes)), file).toBe(true);
      kinds.set(wanted, file);
    }
    expect(kinds.size).toBe(4);
  });

  it("official key packages pass our authentication service; identity = token id", () => {
    for (const name of ["p2p/keypackage_18.bin", "group/keypackage_28.bin", "group/keypackage_44.bin"]) {
      const kp = officialKeyPackage(name);
      const token = tokenOf(name);
      const auth = new SlimAuthService({ verifier: new SharedSecretVerifier(DEMO_SECRET), clock: () => (tokenTs(token) + 10) * 1000 });
      const id = auth.check(kp.leafNode.credential, kp.leafNode.signaturePublicKey);
      expect(id.identity).toBe(token.split(":")[0]);
      expect(kp.cipherSuite).toBe("MLS_128_DHKEMP256_AES128GCM_SHA256_P256");
      const late = new SlimAuthService({ verifier: new SharedSecretVerifier(DEMO_SECRET), clock: () => (tokenTs(token) + 3700) * 1000 });
      expect(() => late.check(kp.leafNode.credential, kp.leafNode.signaturePublicKey)).toThrow(/expired/);
    }
  });

  it("our key packages have the official shape", async () => {
    const official = officialKeyPackage("group/keypackage_28.bin");
    const clock = (tokenTs(tokenOf("group/keypackage_28.bin")) + 10) * 1000;
    const ours = (await MlsGroup.createKeyPackage(capturedClockMember("dave", clock).identity, { clock: () => clock })).keyPackage;
    for (const kp of [official, ours]) {
      expect(kp.version).toBe("mls10");
      expect(kp.cipherSuite).toBe("MLS_128_DHKEMP256_AES128GCM_SHA256_P256");
      expect(kp.extensions).toEqual([]);
      expect(kp.leafNode.extensions).toEqual([]);
      expect(kp.leafNode.credential.credentialType).toBe("basic");
      expect(kp.leafNode.signaturePublicKey.length).toBe(65);
      expect(kp.leafNode.signaturePublicKey[0]).toBe(4);
      expect(kp.initKey.length).toBe(65);
      const { lifetime, leafNodeSource } = kp.leafNode as typeof kp.leafNode & { lifetime: { notBefore: bigint; notAfter: bigint } };
      expect(leafNodeSource).toBe("key_package");
      expect(lifetime.notAfter - lifetime.notBefore).toBe(31_536_000n);
      expect(kp.leafNode.capabilities).toMatchObject({ versions: ["mls10"], extensions: [], proposals: [], credentials: ["basic"] });
    }
  });

  it("a TS moderator adds an official key package, and a TS joiner accepts the tree holding the official leaf", async () => {
    const clock = (tokenTs(tokenOf("group/keypackage_28.bin")) + 10) * 1000;
    const options = { verifier: new SharedSecretVerifier(DEMO_SECRET), clock: () => clock };
    const a = capturedClockMember("alice", clock);
    const alice = await MlsGroup.create(undefined, a.identity, options);
    const bobAdd = await alice.add(artifact("group/keypackage_28.bin"));
    expect(bobAdd.member.identity).toBe(tokenOf("group/keypackage_28.bin").split(":")[0]);
    const c = capturedClockMember("carol", clock);
    const kp = await MlsGroup.createKeyPackage(c.identity, { clock: () => clock });
    const carolAdd = await alice.add(kp.bytes);
    const carol = await MlsGroup.join(carolAdd.welcome, kp, options);
    expect(carol.members().map((m) => m.identity)).toEqual([a.id, bobAdd.member.identity, c.id]);
    expect(str((await carol.decrypt(await alice.encrypt(text("hi"), text("aad")))).plaintext)).toBe("hi");
    // an official commit belongs to another group: rejected cleanly
    await expectSlimError(carol.processCommit(artifact("group/groupUpdate_46_cid2.bin")), /another group/);
  });

  it("our commits have the shape of the official ones: PublicMessage from a member, add without path, remove with path", async () => {
    const clock = Date.now();
    const options = { verifier: new SharedSecretVerifier(DEMO_SECRET), clock: () => clock };
    const alice = await MlsGroup.create(undefined, capturedClockMember("alice", clock).identity, options);
    const bob = capturedClockMember("bob", clock);
    const ourAdd = (await alice.add((await MlsGroup.createKeyPackage(bob.identity)).bytes)).commit;
    const ourRemove = (await alice.remove(bob.id)).commit;
    const shape = (bytes: Uint8Array) => {
      const { publicMessage } = decodeMls(bytes, "mls_public_message", MAX);
      const content = publicMessage.content;
      if (content.contentType !== "commit") throw new Error("not a commit");
      return {
        sender: content.sender,
        authenticatedData: content.authenticatedData.length,
        proposals: content.commit.proposals.map((p) => (p.proposalOrRefType === "proposal" ? p.proposal.proposalType : "by-reference")),
        path: content.commit.path !== undefined,
      };
    };
    expect(shape(ourAdd)).toEqual(shape(artifact("group/groupUpdate_46_cid2.bin")));
    expect(shape(ourRemove)).toEqual(shape(artifact("group/groupUpdate_65_cid3.bin")));
    expect(shape(ourAdd)).toEqual({ sender: { senderType: "member", leafIndex: 0 }, authenticatedData: 0, proposals: ["add"], path: false });
  });

  it("official application messages carry their header's HeaderIntegrityAad as authenticated data", () => {
    let checked = 0;
    for (const dir of ["p2p", "group"] as const) {
      for (const { file, bytes } of artifactFiles(dir).filter((f) => /app_\d+_SESSION_MESSAGE_TYPE_MSG\.bin$/.test(f.file))) {
        const seq = /app_(\d+)_/.exec(file)?.[1];
        const raw = artifactFiles(dir).find((f) => f.file === `${dir}/msg_${seq}.pb`);
        if (raw === undefined) continue;
        const m = decodeProtoMessage(raw.bytes);
        if (m.messageType.case !== "publish") continue;
        const { privateMessage } = decodeMls(bytes, "mls_private_message", MAX);
        expect(Buffer.from(privateMessage.authenticatedData).equals(Buffer.from(encodeHeaderAad(m.messageType.value))), file).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(4);
  });
});
