// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

export { MlsGroup } from "./group.js";
export type {
  DecryptedMessage,
  MemberRef,
  MlsAddResult,
  MlsCommitResult,
  MlsGroupOptions,
  MlsMember,
  MlsRemoveResult,
  ProcessCommitOptions,
  ProcessedCommit,
} from "./types.js";
export { createKeyPackage, PendingKeyPackage } from "./key-package.js";
export type { KeyPackageOptions } from "./key-package.js";
export { Ed25519MlsSigner, mlsIdentityOf, SlimAuthService } from "./credentials.js";
export type { MemberIdentity, MlsIdentity, MlsSigner, SlimAuthServiceOptions } from "./credentials.js";
export {
  DEFAULT_MAX_MLS_MESSAGE_BYTES,
  DEFAULT_MLS_CIPHERSUITE,
  KEY_PACKAGE_LIFETIME_SECONDS,
  MESSAGE_KEY_WINDOW,
  MLS_CIPHERSUITES,
} from "./profile.js";
export type { MlsCiphersuiteId, MlsCryptoBackend } from "./profile.js";
export { nodeCryptoProvider, nodeCryptoProviderThreaded } from "./node-crypto.js";
export { checkHeaderIntegrity, shouldCheckHeaderIntegrity } from "./header-integrity.js";
