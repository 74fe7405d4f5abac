// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * The MLS profile SLIM uses, matched to the official implementation (mls-rs 0.54 behind
 * agntcy/slim): MLS 1.0, ciphersuite 2 by default, basic credentials carrying the identity token, no
 * key-package / leaf / group-context extensions, key packages valid for 365 days, commits sent as
 * PublicMessage with the ratchet tree inside the Welcome's GroupInfo, and a message-key window of
 * 1024 generations (mls-rs `MAX_RATCHET_BACK_HISTORY`) in both directions.
 */

import {
  type AuthenticationService,
  type Capabilities,
  type CiphersuiteImpl,
  type CiphersuiteName,
  type ClientConfig,
  type CreateCommitOptions,
  type CryptoProvider,
  defaultCryptoProvider,
  defaultKeyPackageEqualityConfig,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  type Lifetime,
} from "ts-mls";
import { SlimError } from "../errors.js";
import { nodeCryptoProvider, nodeCryptoProviderThreaded } from "./node-crypto.js";

/** The ciphersuites this engine runs, by IANA id. */
export const MLS_CIPHERSUITES = {
  /** MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519 (official builds with the `curve25519` feature). */
  1: "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
  /** MLS_128_DHKEMP256_AES128GCM_SHA256_P256: the official default. */
  2: "MLS_128_DHKEMP256_AES128GCM_SHA256_P256",
} as const satisfies Record<number, CiphersuiteName>;

export type MlsCiphersuiteId = keyof typeof MLS_CIPHERSUITES;

export const DEFAULT_MLS_CIPHERSUITE: MlsCiphersuiteId = 2;

/** Key packages are valid from their creation for this long (mls-rs default). */
export const KEY_PACKAGE_LIFETIME_SECONDS = 365 * 24 * 3600;

/** Out-of-order window of message keys per sender (mls-rs keeps 1024 generations). */
export const MESSAGE_KEY_WINDOW = 1024;

/** Past epochs whose receive keys are kept for late application messages. */
export const RETAINED_EPOCHS = 3;

/** Default upper bound for any MLS object we decode (the gRPC default message limit). */
export const DEFAULT_MAX_MLS_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * Which crypto backend runs the suite: node:crypto on the hot path, signing on the calling thread
 * ("node", default) or on the thread pool ("node-threaded", for many messages in flight), or ts-mls'
 * stock provider ("default"), or any CryptoProvider.
 */
export type MlsCryptoBackend = "node" | "node-threaded" | "default" | CryptoProvider;

export function ciphersuiteName(id: number): CiphersuiteName {
  const name = (MLS_CIPHERSUITES as Record<number, CiphersuiteName | undefined>)[id];
  if (name === undefined) throw new SlimError("INVALID_ARGUMENT", `unsupported MLS ciphersuite ${id} (supported: 1, 2)`);
  return name;
}

export function ciphersuiteId(name: CiphersuiteName): MlsCiphersuiteId {
  for (const [id, n] of Object.entries(MLS_CIPHERSUITES)) if (n === name) return Number(id) as MlsCiphersuiteId;
  throw new SlimError("MLS", `ciphersuite ${name} is not supported`);
}

export function loadCiphersuite(id: number, backend: MlsCryptoBackend = "node"): Promise<CiphersuiteImpl> {
  const provider =
    backend === "node" ? nodeCryptoProvider : backend === "node-threaded" ? nodeCryptoProviderThreaded : backend === "default" ? defaultCryptoProvider : backend;
  return getCiphersuiteImpl(getCiphersuiteFromName(ciphersuiteName(id)), provider);
}

/**
 * Capabilities advertised in our leaves. The official advertises every suite its crypto backend has;
 * we list the two we run. Extensions, proposals: none beyond the defaults; credentials: basic only;
 * no GREASE values.
 */
export function slimCapabilities(): Capabilities {
  return { versions: ["mls10"], ciphersuites: [MLS_CIPHERSUITES[1], MLS_CIPHERSUITES[2]], extensions: [], proposals: [], credentials: ["basic"] };
}

/** [now, now + 365 days], in unix seconds. */
export function keyPackageLifetime(nowMs: number): Lifetime {
  const now = BigInt(Math.floor(nowMs / 1000));
  return { notBefore: now, notAfter: now + BigInt(KEY_PACKAGE_LIFETIME_SECONDS) };
}

export function slimClientConfig(authService: AuthenticationService): ClientConfig {
  return {
    keyRetentionConfig: {
      retainKeysForGenerations: MESSAGE_KEY_WINDOW,
      maximumForwardRatchetSteps: MESSAGE_KEY_WINDOW,
      retainKeysForEpochs: RETAINED_EPOCHS,
    },
    // ts-mls checks lifetimes of key packages we add; received trees are checked like mls-rs does
    // when joining (it does not re-check lifetimes of existing members).
    lifetimeConfig: { maximumTotalLifetime: BigInt(KEY_PACKAGE_LIFETIME_SECONDS), validateLifetimeOnReceive: false },
    keyPackageEqualityConfig: defaultKeyPackageEqualityConfig,
    paddingConfig: { kind: "padUntilLength", padUntilLength: 256 },
    authService,
  };
}

/** Commits as mls-rs sends them: PublicMessage, ratchet tree in the Welcome, no authenticated data. */
export function slimCommitOptions(extra: Pick<CreateCommitOptions, "extraProposals">): CreateCommitOptions {
  return { ...extra, wireAsPublicMessage: true, ratchetTreeExtension: true };
}
