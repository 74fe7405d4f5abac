// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import type { IdentityVerifier } from "../auth/types.js";
import type { MemberIdentity } from "./credentials.js";
import type { MlsCiphersuiteId, MlsCryptoBackend } from "./profile.js";

export interface MlsGroupOptions {
  /** Verifies the identity tokens inside credentials (the session's verifier). */
  verifier: IdentityVerifier;
  /** Ciphersuite of a group we create: 2 (default) or 1. Joined and imported groups keep theirs. */
  ciphersuite?: MlsCiphersuiteId;
  /** "node" (default): node:crypto on the hot path; "default": ts-mls' stock provider. */
  crypto?: MlsCryptoBackend;
  /** Clock for token validity and key-package lifetimes, milliseconds (default Date.now). */
  clock?: () => number;
  /** Largest MLS object accepted for decoding (default 4 MiB). */
  maxMessageBytes?: number;
}

/** A member of the group: its leaf and the identity its credential proves. */
export interface MlsMember extends MemberIdentity {
  leafIndex: number;
  signaturePublicKey: Uint8Array;
}

/** A leaf index, or a member identity (token id / JWT `sub`, as the official `identity()`). */
export type MemberRef = number | string;

export interface MlsCommitResult {
  /** TLS-serialised MLSMessage (PublicMessage) for `MlsPayload.mls_content`. */
  commit: Uint8Array;
  /** The epoch the group entered with this commit. */
  epoch: bigint;
}

export interface MlsAddResult extends MlsCommitResult {
  /** TLS-serialised MLSMessage (Welcome) for the new member. */
  welcome: Uint8Array;
  member: MlsMember;
}

export interface MlsRemoveResult extends MlsCommitResult {
  member: MlsMember;
}

export interface ProcessCommitOptions {
  /** Refuse the commit unless this member (the session's moderator) sent it. */
  expectedSender?: MemberRef;
}

export interface ProcessedCommit {
  /** Epoch after the commit (unchanged when the commit removed us). */
  epoch: bigint;
  sender: MlsMember;
  added: MlsMember[];
  removed: MlsMember[];
  /** This commit removed us: the group can no longer send or receive. */
  removedSelf: boolean;
}

export interface DecryptedMessage {
  plaintext: Uint8Array;
  /** The sender's authenticated data (the HeaderIntegrityAad bytes), to compare with the header. */
  aad: Uint8Array;
  sender: MlsMember;
  epoch: bigint;
}
