// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { createHmac, randomBytes } from "node:crypto";
import { type ClientState, decodeGroupState } from "ts-mls";
import { expect } from "vitest";
import { SharedSecretProvider, SharedSecretVerifier, sharedSecretClaimsField } from "../../src/auth/shared-secret.js";
import { isSlimError } from "../../src/errors.js";
import { Ed25519MlsSigner, type MlsIdentity, mlsIdentityOf } from "../../src/mls/credentials.js";
import type { MlsGroup } from "../../src/mls/group.js";
import { slimClientConfig } from "../../src/mls/profile.js";
import { SlimAuthService } from "../../src/mls/credentials.js";
import { openState } from "../../src/mls/state-file.js";
import type { MlsGroupOptions } from "../../src/mls/types.js";
import type { MlsCiphersuiteId } from "../../src/mls/profile.js";

export const SECRET = "mls-tests-shared-secret-0123456789abcdef";
export const OTHER_SECRET = "another-shared-secret-0123456789abcdefgh";

/** A shared-secret token minted by hand (any id, any key in the pubkey claim, any secret, any time). */
export function mintToken(id: string, publicKey: Uint8Array, secret = SECRET, nowMs = Date.now()): string {
  const message = `${id}:${Math.floor(nowMs / 1000)}:${randomBytes(12).toString("base64url")}:${sharedSecretClaimsField(publicKey)}`;
  return `${message}:${createHmac("sha256", secret).update(message).digest("base64url")}`;
}

export interface TestMember {
  name: string;
  /** The official identity: the token id. */
  id: string;
  identity: MlsIdentity;
}

/** A member whose identity key fits the ciphersuite: P-256 via SharedSecretProvider, Ed25519 by hand. */
export function testMember(name: string, ciphersuite: MlsCiphersuiteId = 2, secret = SECRET, clock: () => number = Date.now): TestMember {
  if (ciphersuite === 2) {
    const provider = new SharedSecretProvider(`org/ns/${name}`, secret);
    const identity = mlsIdentityOf(provider);
    return { name, id: provider.tokenId, identity: { ...identity, token: () => provider.token({ nowMs: clock() }) } };
  }
  const signer = Ed25519MlsSigner.generate();
  const id = `org/ns/${name}_${randomBytes(4).toString("hex")}`;
  return { name, id, identity: { signer, token: () => mintToken(id, signer.publicKey, secret, clock()) } };
}

export function groupOptions(ciphersuite: MlsCiphersuiteId = 2, extra: Partial<MlsGroupOptions> = {}): MlsGroupOptions {
  return { verifier: new SharedSecretVerifier(SECRET), ciphersuite, ...extra };
}

/** Await a promise that must reject with SlimError(code) whose message matches `pattern`. */
export async function expectSlimError(promise: Promise<unknown>, pattern?: RegExp, code = "MLS"): Promise<Error> {
  let thrown: unknown;
  try {
    await promise;
  } catch (err) {
    thrown = err;
  }
  expect(isSlimError(thrown), `expected a SlimError, got ${String(thrown)}`).toBe(true);
  const err = thrown as Error & { code: string };
  expect(err.code).toBe(code);
  if (pattern !== undefined) expect(err.message).toMatch(pattern);
  return err;
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const str = (b: Uint8Array): string => new TextDecoder().decode(b);

/** The raw ts-mls state of a group (through an export), for tests that play a misbehaving member. */
export async function rawState(group: MlsGroup): Promise<ClientState> {
  const payload = await openState(await group.exportState("raw"), "raw");
  const metaLength = new DataView(payload.buffer, payload.byteOffset).getUint32(3);
  const [state] = decodeGroupState(payload, 7 + metaLength) ?? [];
  if (state === undefined) throw new Error("cannot decode exported state");
  return { ...state, clientConfig: slimClientConfig(new SlimAuthService({ verifier: new SharedSecretVerifier(SECRET) })) };
}
