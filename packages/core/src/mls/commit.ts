// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * Applying a commit received from another member. On top of ts-mls' own validation (signature,
 * membership tag, proposal rules, every new leaf through the authentication service, path secrets,
 * confirmation tag) SLIM's rules are enforced here:
 * - the commit must be for this group and its current epoch;
 * - it may only add and remove members (what SLIM commits carry: add, remove, remove + add for a
 *   rejoin, or nothing for a key rotation); updates, PSKs, re-init, external init and group context
 *   changes are refused, and with them external senders;
 * - when the session names the moderator, the commit must come from that leaf;
 * - a committer that replaces its own leaf must keep its identity (the official `valid_successor`).
 */

import { type CiphersuiteImpl, type ClientState, emptyPskIndex, type LeafNode, type Proposal, processMessage } from "ts-mls";
import { SlimError } from "../errors.js";
import type { SlimAuthService } from "./credentials.js";
import { bytesEqual, leafAt } from "./tree.js";
import { decodeMls, guarded } from "./wire.js";

const COMMIT_FORMATS = ["mls_public_message", "mls_private_message"] as const;
const ALLOWED_PROPOSALS = new Set<unknown>(["add", "remove"]);
const NO_IDENTITY = new Uint8Array(0);

export interface AppliedCommit {
  next: ClientState;
  consumed: Uint8Array[];
  senderLeaf: number;
  /** Every proposal the commit applied, in order. */
  proposals: Proposal[];
}

export function credentialBytes(leaf: LeafNode): Uint8Array {
  return leaf.credential.credentialType === "basic" ? leaf.credential.identity : NO_IDENTITY;
}

export async function applyCommit(
  state: ClientState,
  bytes: Uint8Array,
  cs: CiphersuiteImpl,
  auth: SlimAuthService,
  maxBytes: number,
  expectedLeaf: number | undefined,
): Promise<AppliedCommit> {
  const message = decodeMls(bytes, COMMIT_FORMATS, maxBytes);
  const outer = message.wireformat === "mls_public_message" ? message.publicMessage.content : message.privateMessage;
  if (!bytesEqual(outer.groupId, state.groupContext.groupId)) throw new SlimError("MLS", "commit is for another group");
  if (outer.contentType !== "commit") throw new SlimError("MLS", `expected a commit, got ${outer.contentType === "application" ? "an application message" : "a proposal"}`);
  if (outer.epoch !== state.groupContext.epoch) {
    throw new SlimError("MLS", `commit is for epoch ${outer.epoch}, the group is at epoch ${state.groupContext.epoch}`);
  }

  let senderLeaf: number | undefined;
  let refusal: string | undefined;
  const proposals: Proposal[] = [];
  const result = await guarded("cannot process commit", () =>
    processMessage(
      message,
      state,
      emptyPskIndex,
      (incoming) => {
        if (incoming.kind !== "commit") refusal = "expected a commit";
        else {
          senderLeaf = incoming.senderLeafIndex;
          for (const p of incoming.proposals) proposals.push(p.proposal);
          const odd = proposals.find((p) => !ALLOWED_PROPOSALS.has(p.proposalType));
          if (odd !== undefined) refusal = `it carries a ${String(odd.proposalType)} proposal (SLIM commits only add and remove)`;
          else if (senderLeaf === undefined) refusal = "it is not from a member";
          else if (expectedLeaf !== undefined && senderLeaf !== expectedLeaf) refusal = `not sent by the expected member (leaf ${expectedLeaf})`;
        }
        return refusal === undefined ? "accept" : "reject";
      },
      cs,
    ),
  );
  if (result.kind !== "newState" || result.actionTaken !== "accept" || senderLeaf === undefined) {
    throw new SlimError("MLS", `commit rejected: ${refusal ?? "not a commit"}`);
  }

  const before = leafAt(state.ratchetTree, senderLeaf);
  const after = leafAt(result.newState.ratchetTree, senderLeaf);
  if (before === undefined) throw new SlimError("MLS", "commit rejected: its sender is not a member");
  if (after !== undefined && !bytesEqual(credentialBytes(before), credentialBytes(after))) {
    const was = auth.identityOf(before.credential, before.signaturePublicKey).identity;
    const now = auth.identityOf(after.credential, after.signaturePublicKey).identity;
    if (was !== now) throw new SlimError("MLS", `commit rejected: ${was} may not replace its credential with one of ${now}`);
  }
  return { next: result.newState, consumed: result.consumed, senderLeaf, proposals };
}
