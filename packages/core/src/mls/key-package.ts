// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * Key packages as the official participant builds them for a JoinReply / RejoinRequest: our signer's
 * key as leaf signature key, a basic credential holding a fresh identity token, the SLIM capabilities,
 * a lifetime of [now, now + 365 days] and no extensions. The private half stays in memory with the
 * {@link PendingKeyPackage} until a Welcome for it arrives.
 */

import { generateKeyPackageWithKey, type KeyPackage, type PrivateKeyPackage } from "ts-mls";
import { SlimError } from "../errors.js";
import type { MlsIdentity } from "./credentials.js";
import { ciphersuiteName, DEFAULT_MLS_CIPHERSUITE, keyPackageLifetime, loadCiphersuite, type MlsCiphersuiteId, type MlsCryptoBackend, slimCapabilities } from "./profile.js";
import { encodeMls, guarded } from "./wire.js";

export interface KeyPackageOptions {
  /** Ciphersuite id, 2 (default, P-256) or 1 (X25519/Ed25519). */
  ciphersuite?: MlsCiphersuiteId;
  crypto?: MlsCryptoBackend;
  /** Clock for the lifetime, milliseconds (default Date.now). */
  clock?: () => number;
}

const privateParts = new WeakMap<PendingKeyPackage, PrivateKeyPackage>();

/** A key package we published and may be welcomed with (once). */
export class PendingKeyPackage {
  /** The TLS-serialised MLSMessage (wire format mls_key_package), for `JoinReply.key_package`. */
  readonly bytes: Uint8Array;
  readonly ciphersuite: MlsCiphersuiteId;
  readonly keyPackage: KeyPackage;

  constructor(keyPackage: KeyPackage, privatePart: PrivateKeyPackage, ciphersuite: MlsCiphersuiteId) {
    this.keyPackage = keyPackage;
    this.ciphersuite = ciphersuite;
    this.bytes = encodeMls({ version: "mls10", wireformat: "mls_key_package", keyPackage });
    privateParts.set(this, privatePart);
  }

  /** Whether it can still be used to join (it is consumed by a successful join). */
  get usable(): boolean {
    return privateParts.has(this);
  }

  toJSON(): { type: string; ciphersuite: number } {
    return { type: "PendingKeyPackage", ciphersuite: this.ciphersuite };
  }
}

/** The private keys of a pending key package; SlimError("MLS") once it was used. */
export function privatePartOf(pending: PendingKeyPackage): PrivateKeyPackage {
  const priv = privateParts.get(pending);
  if (priv === undefined) throw new SlimError("MLS", "key package was already used to join a group");
  return priv;
}

export function consumePending(pending: PendingKeyPackage): void {
  privateParts.delete(pending);
}

/** SlimError("INVALID_ARGUMENT") unless the signer's key has the shape the ciphersuite signs with. */
export function checkSignerFor(ciphersuite: MlsCiphersuiteId, identity: MlsIdentity): void {
  const key = identity.signer.publicKey;
  if (ciphersuite === 2 && (key.length !== 65 || key[0] !== 0x04)) {
    throw new SlimError("INVALID_ARGUMENT", "ciphersuite 2 needs a P-256 signer with a 65-byte uncompressed public key");
  }
  if (ciphersuite === 1 && key.length !== 32) throw new SlimError("INVALID_ARGUMENT", "ciphersuite 1 needs an Ed25519 signer (32-byte public key)");
}

/** Build a key package and keep its private keys for the matching Welcome. */
export async function createKeyPackage(identity: MlsIdentity, options: KeyPackageOptions = {}): Promise<PendingKeyPackage> {
  const ciphersuite = options.ciphersuite ?? DEFAULT_MLS_CIPHERSUITE;
  ciphersuiteName(ciphersuite);
  checkSignerFor(ciphersuite, identity);
  return guarded("cannot create key package", async () => {
    const cs = await loadCiphersuite(ciphersuite, options.crypto);
    const credential = { credentialType: "basic" as const, identity: new TextEncoder().encode(identity.token()) };
    const signKey = identity.signer.exportPrivateKey();
    const { publicPackage, privatePackage } = await generateKeyPackageWithKey(
      credential,
      slimCapabilities(),
      keyPackageLifetime((options.clock ?? Date.now)()),
      [],
      { signKey, publicKey: identity.signer.publicKey },
      cs,
    );
    return new PendingKeyPackage(publicPackage, privatePackage, ciphersuite);
  });
}
