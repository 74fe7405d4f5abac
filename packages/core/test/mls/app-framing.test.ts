// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Our framing of application messages against ts-mls' own: each side opens what the other sealed,
// signature included, for both ciphersuites and for payloads around the vector-length boundaries.

import { createApplicationMessage, decodeMlsMessage, emptyPskIndex, encodeMlsMessage, processPrivateMessage } from "ts-mls";
import { describe, expect, it } from "vitest";
import { openApplication, sealApplication, signApplication } from "../../src/mls/app-messages.js";
import { MlsGroup } from "../../src/mls/group.js";
import { loadCiphersuite } from "../../src/mls/profile.js";
import { groupOptions, rawState, testMember } from "./helpers.js";

const SIZES = [0, 1, 63, 64, 200, 16_383, 16_384, 20_000];
const fill = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe.each([2, 1] as const)("application message framing, ciphersuite %i", (id) => {
  async function pair() {
    const opts = groupOptions(id);
    const [a, b] = [testMember("alice", id), testMember("bob", id)];
    const alice = await MlsGroup.create(undefined, a.identity, opts);
    const kp = await MlsGroup.createKeyPackage(b.identity, { ciphersuite: id });
    const bob = await MlsGroup.join((await alice.add(kp.bytes)).welcome, kp, opts);
    return { sender: await rawState(alice), receiver: await rawState(bob), cs: await loadCiphersuite(id) };
  }

  it("ts-mls opens and verifies what we seal", async () => {
    let { sender, receiver, cs } = await pair();
    for (const [i, n] of SIZES.entries()) {
      const plaintext = fill(n, i);
      const aad = fill((n * 7) % 500, i + 1);
      const signed = await signApplication(sender, plaintext, aad, cs);
      const sealed = await sealApplication(sender, signed, cs);
      sender = sealed.newState;
      const [message] = decodeMlsMessage(sealed.bytes, 0) ?? [];
      if (message?.wireformat !== "mls_private_message") throw new Error("not a PrivateMessage");
      expect(encodeMlsMessage(message)).toEqual(sealed.bytes); // nothing ts-mls would encode differently
      expect(message.privateMessage.authenticatedData).toEqual(aad);
      const out = await processPrivateMessage(receiver, message.privateMessage, emptyPskIndex, cs);
      if (out.kind !== "applicationMessage") throw new Error("not an application message");
      expect(out.message).toEqual(plaintext);
      receiver = out.newState;
    }
  });

  it("we open and verify what ts-mls seals, and refuse it altered", async () => {
    let { sender, receiver, cs } = await pair();
    for (const [i, n] of SIZES.entries()) {
      const plaintext = fill(n, i);
      const aad = fill(n % 300, i + 2);
      const made = await createApplicationMessage(sender, plaintext, cs, aad);
      sender = made.newState;
      const bytes = encodeMlsMessage({ version: "mls10", wireformat: "mls_private_message", privateMessage: made.privateMessage });
      const opened = await openApplication(receiver, bytes, 1 << 20, cs);
      expect(opened.plaintext).toEqual(plaintext);
      expect(opened.aad).toEqual(aad);
      expect(opened.senderLeaf).toBe(0);
      expect(await opened.verify()).toBe(true);
      // the authenticated data is covered: another value does not open (nor does any flipped byte)
      const altered = Uint8Array.from(bytes);
      altered[bytes.length - 3] = (altered[bytes.length - 3] ?? 0) ^ 0x40;
      await expect(openApplication(receiver, altered, 1 << 20, cs)).rejects.toThrow();
      receiver = opened.newState;
    }
  });

  it("opens generations out of order, each once (ahead: skipped keys kept; behind: taken from them)", async () => {
    let { sender, receiver, cs } = await pair();
    const wires: Uint8Array[] = [];
    for (let i = 0; i < 6; i++) {
      const sealed = await sealApplication(sender, await signApplication(sender, fill(10, i), new Uint8Array(0), cs), cs);
      sender = sealed.newState;
      wires.push(sealed.bytes);
    }
    const got: number[] = [];
    for (const i of [0, 3, 1, 2, 5, 4]) {
      const opened = await openApplication(receiver, wires[i]!, 1 << 20, cs);
      expect(await opened.verify()).toBe(true);
      got.push(opened.plaintext[0]!);
      receiver = opened.newState;
    }
    expect(got).toEqual([0, 3, 1, 2, 5, 4].map((i) => fill(10, i)[0]));
    // a replay of any generation, in order or not, is refused
    await expect(openApplication(receiver, wires[4]!, 1 << 20, cs)).rejects.toThrow();
    await expect(openApplication(receiver, wires[0]!, 1 << 20, cs)).rejects.toThrow();
  });
});
