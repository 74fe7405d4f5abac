// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * Application messages (RFC 9420 §6.3 PrivateMessage, content type application), framed here
 * rather than by ts-mls' generic codec, which cost more per message than the AEAD and HKDF work.
 * The ratchet state is ts-mls' own structure, stepped here in the usual case (the next generation)
 * and by ts-mls' ratchetToGeneration otherwise (skipped or late generations, with its bookkeeping),
 * so the group state is exactly what ts-mls would hold; the unit tests check our bytes against
 * ts-mls' encoders and each side opens what the other sealed.
 *
 * The work is split so that signatures run outside the group's serial queue:
 * - sending: sign the content for the current epoch (any time, several at once), then, in order,
 *   take the next generation of our message-key ratchet and seal it;
 * - receiving: in order, pick the epoch's receive keys (current, or one of the retained past epochs),
 *   decrypt the sender data, ratchet to the message's generation (each generation opens once, so
 *   replays fail), decrypt and parse; then, outside the queue, verify the sender's signature.
 * A message whose signature fails after its content decrypted has still consumed its generation:
 * only a holder of that generation's key could have produced it.
 *
 * One rule is added to MLS: a message from a past epoch is accepted only if its sender is still a
 * member now (same leaf, same signature key), so a removed member cannot keep talking with the keys
 * of the epoch it was removed from.
 */

import type { CiphersuiteImpl, ClientState, EpochReceiverData, GroupContext, LeafNode } from "ts-mls";
import type { SecretTree } from "ts-mls/secretTree.js";
import { encodeGroupContext } from "ts-mls/groupContext.js";
import { byteLengthToPad } from "ts-mls/paddingConfig.js";
import { ratchetToGeneration } from "ts-mls/secretTree.js";
import { SlimError } from "../errors.js";
import { TlsReader, TlsWriter, vectorSize } from "./tls.js";
import { bytesEqual, leafAt } from "./tree.js";

const MLS10 = 1;
const WIRE_PRIVATE_MESSAGE = 2;
const SENDER_MEMBER = 1;
const CONTENT_APPLICATION = 1;
const REUSE_GUARD_BYTES = 4;
const WIRE_NAMES: Record<number, string> = { 1: "PublicMessage", 2: "PrivateMessage", 3: "Welcome", 4: "GroupInfo", 5: "KeyPackage" };
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const TBS_LABEL = utf8("MLS 1.0 FramedContentTBS");
const KEY_LABEL = utf8("MLS 1.0 key");
const NONCE_LABEL = utf8("MLS 1.0 nonce");
const SECRET_LABEL = utf8("MLS 1.0 secret");

/** A GroupContext's encoding, once per epoch (the object is the state's, shared until the next commit). */
const contextBytes = new WeakMap<GroupContext, Uint8Array>();
function encodedContext(context: GroupContext): Uint8Array {
  let bytes = contextBytes.get(context);
  if (bytes === undefined) {
    bytes = encodeGroupContext(context);
    contextBytes.set(context, bytes);
  }
  return bytes;
}

/** SignContent { label, FramedContentTBS } for an application message of `leafIndex` (RFC 9420 §6.1). */
function signContent(context: GroupContext, leafIndex: number, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const ctx = encodedContext(context);
  const tbsLength = 2 + 2 + vectorSize(context.groupId.length) + 8 + 1 + 4 + vectorSize(aad.length) + 1 + vectorSize(plaintext.length) + ctx.length;
  return new TlsWriter(vectorSize(TBS_LABEL.length) + vectorSize(tbsLength))
    .vector(TBS_LABEL)
    .length(tbsLength)
    .u16(MLS10)
    .u16(WIRE_PRIVATE_MESSAGE)
    .vector(context.groupId)
    .u64(context.epoch)
    .u8(SENDER_MEMBER)
    .u32(leafIndex)
    .vector(aad)
    .u8(CONTENT_APPLICATION)
    .vector(plaintext)
    .raw(ctx)
    .done();
}

/** PrivateContentAAD (without the authenticated data: SenderDataAAD) for an application message. */
function contentAad(groupId: Uint8Array, epoch: bigint, aad: Uint8Array | undefined): Uint8Array {
  const w = new TlsWriter(vectorSize(groupId.length) + 8 + 1 + (aad === undefined ? 0 : vectorSize(aad.length)));
  w.vector(groupId).u64(epoch).u8(CONTENT_APPLICATION);
  if (aad !== undefined) w.vector(aad);
  return w.done();
}

/** ExpandWithLabel (RFC 9420 §8): KDFLabel { length, "MLS 1.0 " + label, context }, framed here. */
function expandWithLabel(cs: CiphersuiteImpl, secret: Uint8Array, label: Uint8Array, context: Uint8Array, length: number): Promise<Uint8Array> {
  const info = new TlsWriter(2 + vectorSize(label.length) + vectorSize(context.length)).u16(length).vector(label).vector(context).done();
  return cs.kdf.expand(secret, info, length);
}

/** Key and nonce protecting the sender data, from the epoch's sender-data secret and a ciphertext sample. */
async function senderDataKeys(cs: CiphersuiteImpl, senderDataSecret: Uint8Array, ciphertext: Uint8Array): Promise<{ key: Uint8Array; nonce: Uint8Array }> {
  const sample = ciphertext.length < cs.kdf.size ? ciphertext : ciphertext.subarray(0, cs.kdf.size);
  const key = await expandWithLabel(cs, senderDataSecret, KEY_LABEL, sample, cs.hpke.keyLength);
  const nonce = await expandWithLabel(cs, senderDataSecret, NONCE_LABEL, sample, cs.hpke.nonceLength);
  return { key, nonce };
}

/**
 * Key and nonce of the current generation of one leaf's application ratchet, and the tree with that
 * ratchet one step on: ts-mls' createRatchetResult, with the labels framed here. `consumed` are the
 * secrets to wipe once the message is sealed or opened.
 */
async function ratchetStep(cs: CiphersuiteImpl, tree: SecretTree, leafIndex: number, reuseGuard: Uint8Array): Promise<{ key: Uint8Array; nonce: Uint8Array; generation: number; newTree: SecretTree; consumed: Uint8Array[] }> {
  const index = leafIndex * 2;
  const node = tree[index];
  if (node === undefined) throw new SlimError("MLS", "no ratchet for this leaf");
  const { secret, generation } = node.application;
  // DeriveTreeSecret (RFC 9420 §9.1): the generation as a uint32 context
  const context = new TlsWriter(4).u32(generation).done();
  const next = await expandWithLabel(cs, secret, SECRET_LABEL, context, cs.kdf.size);
  const key = await expandWithLabel(cs, secret, KEY_LABEL, context, cs.hpke.keyLength);
  const nonce = await expandWithLabel(cs, secret, NONCE_LABEL, context, cs.hpke.nonceLength);
  for (let i = 0; i < REUSE_GUARD_BYTES; i++) nonce[i]! ^= reuseGuard[i]!;
  const newTree = tree.slice();
  newTree[index] = { ...node, application: { ...node.application, secret: next, generation: generation + 1 } };
  return { key, nonce, generation, newTree, consumed: [secret, key] };
}

/** Content signed for one epoch, waiting for its generation. */
export interface SignedApplication {
  epoch: bigint;
  plaintext: Uint8Array;
  aad: Uint8Array;
  signature: Uint8Array;
}

export async function signApplication(state: ClientState, plaintext: Uint8Array, aad: Uint8Array, cs: CiphersuiteImpl): Promise<SignedApplication> {
  const context = state.groupContext;
  const signature = await cs.signature.sign(state.signaturePrivateKey, signContent(context, state.privatePath.leafIndex, plaintext, aad));
  return { epoch: context.epoch, plaintext, aad, signature };
}

/** Seal signed content with our next generation: the new state and the MLSMessage bytes. */
export async function sealApplication(state: ClientState, signed: SignedApplication, cs: CiphersuiteImpl): Promise<{ newState: ClientState; bytes: Uint8Array; consumed: Uint8Array[] }> {
  const { groupContext, keySchedule, secretTree, privatePath, clientConfig } = state;
  if (signed.epoch !== groupContext.epoch) throw new SlimError("INTERNAL", "application content signed for another epoch");
  const leafIndex = privatePath.leafIndex;
  const reuseGuard = cs.rng.randomBytes(REUSE_GUARD_BYTES);
  const ratchet = await ratchetStep(cs, secretTree, leafIndex, reuseGuard);

  const bodyLength = vectorSize(signed.plaintext.length) + vectorSize(signed.signature.length);
  const content = new TlsWriter(bodyLength + byteLengthToPad(bodyLength, clientConfig.paddingConfig)).vector(signed.plaintext).vector(signed.signature).done();
  const { groupId, epoch } = groupContext;
  const ciphertext = await cs.hpke.encryptAead(ratchet.key, ratchet.nonce, contentAad(groupId, epoch, signed.aad), content);

  const sd = await senderDataKeys(cs, keySchedule.senderDataSecret, ciphertext);
  const senderData = new TlsWriter(4 + 4 + REUSE_GUARD_BYTES).u32(leafIndex).u32(ratchet.generation).raw(reuseGuard).done();
  const encryptedSenderData = await cs.hpke.encryptAead(sd.key, sd.nonce, contentAad(groupId, epoch, undefined), senderData);

  const size = 2 + 2 + vectorSize(groupId.length) + 8 + 1 + vectorSize(signed.aad.length) + vectorSize(encryptedSenderData.length) + vectorSize(ciphertext.length);
  const bytes = new TlsWriter(size)
    .u16(MLS10)
    .u16(WIRE_PRIVATE_MESSAGE)
    .vector(groupId)
    .u64(epoch)
    .u8(CONTENT_APPLICATION)
    .vector(signed.aad)
    .vector(encryptedSenderData)
    .vector(ciphertext)
    .done();
  return { newState: { ...state, secretTree: ratchet.newTree }, bytes, consumed: ratchet.consumed };
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

/** Open an MLSMessage carrying an application PrivateMessage (at most `maxBytes` long). */
export async function openApplication(state: ClientState, bytes: Uint8Array, maxBytes: number, cs: CiphersuiteImpl): Promise<OpenedApplication> {
  if (!(bytes instanceof Uint8Array)) throw new SlimError("MLS", "PrivateMessage: expected bytes");
  if (bytes.length > maxBytes) throw new SlimError("MLS", `PrivateMessage of ${bytes.length} bytes exceeds the ${maxBytes}-byte limit`);
  const r = new TlsReader(bytes, "PrivateMessage");
  const version = r.u16();
  if (version !== MLS10) throw new SlimError("MLS", `PrivateMessage: unsupported protocol version ${version}`);
  const wireformat = r.u16();
  if (wireformat !== WIRE_PRIVATE_MESSAGE) throw new SlimError("MLS", `expected a PrivateMessage, got a ${WIRE_NAMES[wireformat] ?? `message of unknown wire format ${wireformat}`}`);
  const groupId = r.vector();
  const epoch = r.u64();
  const contentType = r.u8();
  const aad = r.vector();
  const encryptedSenderData = r.vector();
  const ciphertext = r.vector();
  r.end();

  const current = state.groupContext;
  if (!bytesEqual(groupId, current.groupId)) throw new SlimError("MLS", "message is for another group");
  if (contentType !== CONTENT_APPLICATION) throw new SlimError("MLS", `expected an application message, got content type ${contentType}`);

  let keys: ReceiveKeys;
  let archived: EpochReceiverData | undefined;
  if (epoch === current.epoch) {
    keys = { senderDataSecret: state.keySchedule.senderDataSecret, secretTree: state.secretTree, ratchetTree: state.ratchetTree, groupContext: current };
  } else if (epoch < current.epoch) {
    archived = state.historicalReceiverData.get(epoch);
    if (archived === undefined) throw new SlimError("MLS", `message from epoch ${epoch} is too old (group at epoch ${current.epoch})`);
    keys = archived;
  } else {
    throw new SlimError("MLS", `message from future epoch ${epoch} (group at epoch ${current.epoch})`);
  }

  const sd = await senderDataKeys(cs, keys.senderDataSecret, ciphertext);
  const senderBytes = await cs.hpke.decryptAead(sd.key, sd.nonce, contentAad(groupId, epoch, undefined), encryptedSenderData);
  const sr = new TlsReader(senderBytes, "sender data");
  const senderData = { leafIndex: sr.u32(), generation: sr.u32(), reuseGuard: sr.raw(REUSE_GUARD_BYTES) as Uint8Array & { length: 4 } };
  sr.end();
  const senderLeaf = senderData.leafIndex;
  const senderNode = leafAt(keys.ratchetTree, senderLeaf);
  if (senderNode === undefined) throw new SlimError("MLS", "message sender is not a member");
  if (archived !== undefined) {
    const now = leafAt(state.ratchetTree, senderLeaf);
    if (now === undefined || !bytesEqual(now.signaturePublicKey, senderNode.signaturePublicKey)) {
      throw new SlimError("MLS", `message from epoch ${epoch} was sent by a member no longer in the group`);
    }
  }
  // in order (the usual case) one step of the ratchet; ahead or behind, ts-mls' bookkeeping of skipped generations
  const inOrder = keys.secretTree[senderLeaf * 2]?.application.generation === senderData.generation;
  const ratchet = inOrder
    ? await ratchetStep(cs, keys.secretTree, senderLeaf, senderData.reuseGuard)
    : await ratchetToGeneration(keys.secretTree, senderData, "application", state.clientConfig.keyRetentionConfig, cs);
  const content = await cs.hpke.decryptAead(ratchet.key, ratchet.nonce, contentAad(groupId, epoch, aad), ciphertext);
  const cr = new TlsReader(content, "message content");
  const plaintext = cr.vector();
  const signature = cr.vector();
  cr.zeros();

  let newState: ClientState;
  if (archived === undefined) newState = { ...state, secretTree: ratchet.newTree };
  else {
    const history = new Map(state.historicalReceiverData);
    history.set(epoch, { ...archived, secretTree: ratchet.newTree });
    newState = { ...state, historicalReceiverData: history };
  }
  const context: GroupContext = keys.groupContext;
  return {
    newState,
    consumed: ratchet.consumed,
    plaintext,
    aad,
    epoch,
    senderLeaf,
    senderNode,
    verify: () => cs.signature.verify(senderNode.signaturePublicKey, signContent(context, senderLeaf, plaintext, aad), signature),
  };
}
