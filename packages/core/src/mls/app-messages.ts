// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * Application messages, split so that the signature work can run outside the group's serial queue.
 *
 * ts-mls builds and reads PrivateMessages in one step each. Here the same steps are arranged in two
 * phases, using ts-mls' own building blocks:
 * - sending: sign the content for the current epoch (any time, several at once), then, in order,
 *   take the next generation of our message-key ratchet and seal it;
 * - receiving: in order, pick the epoch's receive keys (current, or one of the retained past epochs),
 *   decrypt the sender data, ratchet to the message's generation (each generation opens once, so
 *   replays fail), decrypt and decode; then, outside the queue, verify the sender's signature.
 * With a crypto provider that signs and verifies off the main thread, several messages are then in
 * flight at once. A message whose signature fails after its content decrypted has still consumed its
 * generation: only a holder of that generation's key could have produced it.
 *
 * One rule is added to MLS: a message from a past epoch is accepted only if its sender is still a
 * member now (same leaf, same signature key), so a removed member cannot keep talking with the keys
 * of the epoch it was removed from.
 */

import type { CiphersuiteImpl, ClientState, EpochReceiverData, GroupContext, LeafNode, MlsPrivateMessage, PrivateMessage } from "ts-mls";
import { encode } from "ts-mls/codec/tlsEncoder.js";
import { signFramedContentApplicationOrProposal, verifyFramedContentSignature } from "ts-mls/framedContent.js";
import { protect } from "ts-mls/messageProtection.js";
import { decodePrivateMessageContent, decryptSenderData, privateContentAADEncoder, toAuthenticatedContent, type PrivateMessageContentApplication } from "ts-mls/privateMessage.js";
import { ratchetToGeneration } from "ts-mls/secretTree.js";
import { SlimError } from "../errors.js";
import { bytesEqual, leafAt } from "./tree.js";

/** Content signed for one epoch, waiting for its generation. */
export interface SignedApplication {
  epoch: bigint;
  content: PrivateMessageContentApplication & { groupId: Uint8Array; epoch: bigint; sender: { senderType: "member"; leafIndex: number }; authenticatedData: Uint8Array };
}

export async function signApplication(state: ClientState, plaintext: Uint8Array, aad: Uint8Array, cs: CiphersuiteImpl): Promise<SignedApplication> {
  const context = state.groupContext;
  const content = {
    contentType: "application" as const,
    applicationData: plaintext,
    groupId: context.groupId,
    epoch: context.epoch,
    sender: { senderType: "member" as const, leafIndex: state.privatePath.leafIndex },
    authenticatedData: aad,
  };
  const tbs = { protocolVersion: context.version, wireformat: "mls_private_message" as const, content, senderType: "member" as const, context };
  const auth = await signFramedContentApplicationOrProposal(state.signaturePrivateKey, tbs, cs);
  return { epoch: context.epoch, content: { ...content, auth } };
}

export async function sealApplication(state: ClientState, signed: SignedApplication, cs: CiphersuiteImpl): Promise<{ newState: ClientState; message: MlsPrivateMessage & { version: "mls10" }; consumed: Uint8Array[] }> {
  const { groupContext, keySchedule, secretTree, privatePath, clientConfig } = state;
  if (signed.epoch !== groupContext.epoch) throw new SlimError("INTERNAL", "application content signed for another epoch");
  const out = await protect(keySchedule.senderDataSecret, signed.content.authenticatedData, groupContext, secretTree, signed.content, privatePath.leafIndex, clientConfig.paddingConfig, cs);
  return { newState: { ...state, secretTree: out.tree }, message: { version: "mls10", wireformat: "mls_private_message", privateMessage: out.privateMessage }, consumed: out.consumed };
}

/** A decrypted message whose signature is still to be checked. */
export interface OpenedApplication {
  newState: ClientState;
  consumed: Uint8Array[];
  plaintext: Uint8Array;
  aad: Uint8Array;
  epoch: bigint;
  senderLeaf: number;
  senderNode: LeafNode;
  verify(): Promise<boolean>;
}

type ReceiveKeys = Pick<EpochReceiverData, "senderDataSecret" | "secretTree" | "ratchetTree" | "groupContext">;

export async function openApplication(state: ClientState, pm: PrivateMessage, cs: CiphersuiteImpl): Promise<OpenedApplication> {
  const current = state.groupContext;
  if (!bytesEqual(pm.groupId, current.groupId)) throw new SlimError("MLS", "message is for another group");
  if (pm.contentType !== "application") throw new SlimError("MLS", `expected an application message, got a ${pm.contentType}`);

  let keys: ReceiveKeys;
  let archived: EpochReceiverData | undefined;
  if (pm.epoch === current.epoch) {
    keys = { senderDataSecret: state.keySchedule.senderDataSecret, secretTree: state.secretTree, ratchetTree: state.ratchetTree, groupContext: current };
  } else if (pm.epoch < current.epoch) {
    archived = state.historicalReceiverData.get(pm.epoch);
    if (archived === undefined) throw new SlimError("MLS", `message from epoch ${pm.epoch} is too old (group at epoch ${current.epoch})`);
    keys = archived;
  } else {
    throw new SlimError("MLS", `message from future epoch ${pm.epoch} (group at epoch ${current.epoch})`);
  }

  const senderData = await decryptSenderData(pm, keys.senderDataSecret, cs);
  if (senderData === undefined) throw new SlimError("MLS", "cannot decode the sender data");
  const senderLeaf = senderData.leafIndex;
  const senderNode = leafAt(keys.ratchetTree, senderLeaf);
  if (senderNode === undefined) throw new SlimError("MLS", "message sender is not a member");
  if (archived !== undefined) {
    const now = leafAt(state.ratchetTree, senderLeaf);
    if (now === undefined || !bytesEqual(now.signaturePublicKey, senderNode.signaturePublicKey)) {
      throw new SlimError("MLS", `message from epoch ${pm.epoch} was sent by a member no longer in the group`);
    }
  }
  const ratchet = await ratchetToGeneration(keys.secretTree, senderData, pm.contentType, state.clientConfig.keyRetentionConfig, cs);
  const contentAad = encode(privateContentAADEncoder)({ groupId: pm.groupId, epoch: pm.epoch, contentType: pm.contentType, authenticatedData: pm.authenticatedData });
  const decrypted = await cs.hpke.decryptAead(ratchet.key, ratchet.nonce, contentAad, pm.ciphertext);
  const decoded = decodePrivateMessageContent(pm.contentType)(decrypted, 0)?.[0];
  if (decoded === undefined) throw new SlimError("MLS", "cannot decode the message content");
  const { content, auth } = toAuthenticatedContent(decoded, pm, senderLeaf);
  if (content.contentType !== "application") throw new SlimError("MLS", "expected an application message");

  let newState: ClientState;
  if (archived === undefined) newState = { ...state, secretTree: ratchet.newTree };
  else {
    const history = new Map(state.historicalReceiverData);
    history.set(pm.epoch, { ...archived, secretTree: ratchet.newTree });
    newState = { ...state, historicalReceiverData: history };
  }
  const context: GroupContext = keys.groupContext;
  return {
    newState,
    consumed: ratchet.consumed,
    plaintext: content.applicationData,
    aad: pm.authenticatedData,
    epoch: pm.epoch,
    senderLeaf,
    senderNode,
    verify: () => verifyFramedContentSignature(senderNode.signaturePublicKey, "mls_private_message", content, auth, context, cs.signature),
  };
}
