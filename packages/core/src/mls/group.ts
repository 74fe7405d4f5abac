// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * One MLS group per SLIM session, wrapping ts-mls 1.6.4 with SLIM's profile.
 *
 * ts-mls states are immutable values; the group holds the current one and replaces it only when an
 * operation fully succeeds, after which the secrets the old state no longer needs are wiped. All
 * operations that touch the state (including encrypt and decrypt, which advance the message-key
 * ratchets) run one at a time in call order. Every input is decoded with a size bound, and every
 * failure is a SlimError (code "MLS" unless the caller passed a bad argument).
 */

import { randomBytes } from "node:crypto";
import {
  type CiphersuiteImpl,
  type ClientState,
  createCommit,
  createGroup,
  emptyPskIndex,
  generateKeyPackageWithKey,
  joinGroup,
  type KeyPackage,
  type LeafNode,
  type Proposal,
} from "ts-mls";
import { SlimError } from "../errors.js";
import { applyCommit, credentialBytes } from "./commit.js";
import { type MemberIdentity, type MlsIdentity, SlimAuthService } from "./credentials.js";
import { openApplication, sealApplication, type SignedApplication, signApplication } from "./app-messages.js";
import { checkSignerFor, consumePending, createKeyPackage, type KeyPackageOptions, type PendingKeyPackage, privatePartOf } from "./key-package.js";
import { decodeGroup, encodeGroup, exportGroup, importGroup, type StoredGroup } from "./persist.js";
import {
  ciphersuiteName,
  DEFAULT_MAX_MLS_MESSAGE_BYTES,
  DEFAULT_MLS_CIPHERSUITE,
  keyPackageLifetime,
  loadCiphersuite,
  type MlsCiphersuiteId,
  slimCapabilities,
  slimClientConfig,
  slimCommitOptions,
} from "./profile.js";
import { bytesEqual, leafAt, occupiedLeaves } from "./tree.js";
import type { DecryptedMessage, MemberRef, MlsAddResult, MlsCommitResult, MlsGroupOptions, MlsMember, MlsRemoveResult, ProcessCommitOptions, ProcessedCommit } from "./types.js";
import { decodeMls, encodeMls, guarded } from "./wire.js";

interface Context {
  cs: CiphersuiteImpl;
  ciphersuite: MlsCiphersuiteId;
  auth: SlimAuthService;
  maxBytes: number;
}

async function contextFor(options: MlsGroupOptions, ciphersuite: MlsCiphersuiteId): Promise<Context> {
  const { verifier, clock } = options;
  const auth = new SlimAuthService(clock === undefined ? { verifier } : { verifier, clock });
  const cs = await guarded("cannot load ciphersuite", () => loadCiphersuite(ciphersuite, options.crypto));
  return { cs, ciphersuite, auth, maxBytes: options.maxMessageBytes ?? DEFAULT_MAX_MLS_MESSAGE_BYTES };
}

export class MlsGroup {
  #state: ClientState;
  readonly #ctx: Context;
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(state: ClientState, ctx: Context) {
    this.#state = state;
    this.#ctx = ctx;
  }

  /** Create a group with us as its only member (the moderator's role). Group id: 32 random bytes by default. */
  static async create(groupId: Uint8Array | undefined, identity: MlsIdentity, options: MlsGroupOptions): Promise<MlsGroup> {
    const ciphersuite = options.ciphersuite ?? DEFAULT_MLS_CIPHERSUITE;
    ciphersuiteName(ciphersuite);
    checkSignerFor(ciphersuite, identity);
    const ctx = await contextFor(options, ciphersuite);
    return guarded("cannot create group", async () => {
      const credential = { credentialType: "basic" as const, identity: new TextEncoder().encode(identity.token()) };
      ctx.auth.check(credential, identity.signer.publicKey);
      const keys = { signKey: identity.signer.exportPrivateKey(), publicKey: identity.signer.publicKey };
      const kp = await generateKeyPackageWithKey(credential, slimCapabilities(), keyPackageLifetime(ctx.auth.now()), [], keys, ctx.cs);
      const id = groupId ?? new Uint8Array(randomBytes(32));
      return new MlsGroup(await createGroup(id, kp.publicPackage, kp.privatePackage, [], ctx.cs, slimClientConfig(ctx.auth)), ctx);
    });
  }

  /** A key package for a JoinReply / RejoinRequest; keep it for {@link MlsGroup.join}. */
  static createKeyPackage(identity: MlsIdentity, options: KeyPackageOptions = {}): Promise<PendingKeyPackage> {
    return createKeyPackage(identity, options);
  }

  /** Join with a Welcome addressed to `pending` (its ratchet tree must be inside the GroupInfo, as SLIM sends it). */
  static async join(welcome: Uint8Array, pending: PendingKeyPackage, options: MlsGroupOptions): Promise<MlsGroup> {
    const ctx = await contextFor(options, pending.ciphersuite);
    const message = decodeMls(welcome, "mls_welcome", ctx.maxBytes);
    if (message.welcome.cipherSuite !== pending.keyPackage.cipherSuite) {
      throw new SlimError("MLS", `Welcome uses ${message.welcome.cipherSuite}, the key package ${pending.keyPackage.cipherSuite}`);
    }
    const priv = privatePartOf(pending);
    return guarded("cannot join group", async () => {
      const config = slimClientConfig(ctx.auth);
      // the tree's leaves were admitted when their tokens were fresh (see SlimAuthService.agedLeavesOk)
      ctx.auth.agedLeavesOk = true;
      let state: ClientState;
      try {
        state = await joinGroup(message.welcome, pending.keyPackage, priv, emptyPskIndex, ctx.cs, undefined, undefined, config);
      } finally {
        ctx.auth.agedLeavesOk = false;
      }
      if (state.groupContext.extensions.some((e) => e.extensionType === "external_senders")) {
        throw new SlimError("MLS", "group uses external senders, which SLIM does not allow");
      }
      consumePending(pending);
      return new MlsGroup(state, ctx);
    });
  }

  /** Restore a group sealed by {@link exportState}. Never import a state older than the last one used to send. */
  static async importState(sealed: Uint8Array, passphrase: string | Uint8Array, options: Omit<MlsGroupOptions, "ciphersuite">): Promise<MlsGroup> {
    return MlsGroup.#fromStored(await importGroup(sealed, passphrase), options);
  }

  /** Restore a group from {@link snapshot}'s bytes (which the caller decrypted). */
  static fromSnapshot(payload: Uint8Array, options: Omit<MlsGroupOptions, "ciphersuite">): Promise<MlsGroup> {
    return MlsGroup.#fromStored(decodeGroup(payload), options);
  }

  static async #fromStored(stored: StoredGroup, options: Omit<MlsGroupOptions, "ciphersuite">): Promise<MlsGroup> {
    const ctx = await contextFor(options, stored.ciphersuite);
    for (const [token, identity] of stored.known) ctx.auth.remember(token, identity);
    return new MlsGroup({ ...stored.state, clientConfig: slimClientConfig(ctx.auth) }, ctx);
  }

  get groupId(): Uint8Array {
    return this.#state.groupContext.groupId.slice();
  }

  get epoch(): bigint {
    return this.#state.groupContext.epoch;
  }

  get ciphersuite(): MlsCiphersuiteId {
    return this.#ctx.ciphersuite;
  }

  get ownLeafIndex(): number {
    return this.#state.privatePath.leafIndex;
  }

  /** False once a commit removed us. */
  get active(): boolean {
    return this.#state.groupActiveState.kind === "active";
  }

  members(): MlsMember[] {
    return occupiedLeaves(this.#state.ratchetTree).map(({ leafIndex, leaf }) => this.#member(leafIndex, leaf));
  }

  /** The member at a leaf index or with an identity, if present. */
  member(ref: MemberRef): MlsMember | undefined {
    if (typeof ref === "number") {
      const leaf = leafAt(this.#state.ratchetTree, ref);
      return leaf === undefined ? undefined : this.#member(ref, leaf);
    }
    return this.members().find((m) => m.identity === ref);
  }

  /** Add one member (one add per commit, as SLIM does). The commit has no path. */
  add(keyPackage: Uint8Array): Promise<MlsAddResult> {
    return this.#serial(async () => {
      const kp = this.#keyPackage(keyPackage);
      const res = await this.#commit("cannot add member", [{ proposalType: "add", add: { keyPackage: kp } }]);
      return { ...res, welcome: this.#welcomeOf(res.welcome), member: this.#memberWithKey(kp.leafNode.signaturePublicKey) };
    });
  }

  /** Remove a member; the commit carries an UpdatePath. */
  remove(ref: MemberRef): Promise<MlsRemoveResult> {
    return this.#serial(async () => {
      const member = this.#resolve(ref);
      const { commit, epoch } = await this.#commit("cannot remove member", [{ proposalType: "remove", remove: { removed: member.leafIndex } }]);
      return { commit, epoch, member };
    });
  }

  /** SLIM's rejoin: remove the member's leaf and add its new key package in one commit (with path). */
  rejoin(ref: MemberRef, keyPackage: Uint8Array): Promise<MlsAddResult> {
    return this.#serial(async () => {
      const old = this.#resolve(ref);
      const kp = this.#keyPackage(keyPackage);
      const proposals: Proposal[] = [
        { proposalType: "remove", remove: { removed: old.leafIndex } },
        { proposalType: "add", add: { keyPackage: kp } },
      ];
      const res = await this.#commit("cannot rejoin member", proposals);
      return { ...res, welcome: this.#welcomeOf(res.welcome), member: this.#memberWithKey(kp.leafNode.signaturePublicKey) };
    });
  }

  /** Key rotation: an empty commit, i.e. a full path update with fresh HPKE keys for our path. */
  rotate(): Promise<MlsCommitResult> {
    return this.#serial(async () => {
      const { commit, epoch } = await this.#commit("cannot rotate keys", []);
      return { commit, epoch };
    });
  }

  /** Apply a commit from another member (PublicMessage as SLIM sends them, or PrivateMessage); see commit.ts. */
  processCommit(bytes: Uint8Array, options: ProcessCommitOptions = {}): Promise<ProcessedCommit> {
    return this.#serial(async () => {
      this.#requireActive();
      const state = this.#state;
      const expected = options.expectedSender === undefined ? undefined : this.#resolve(options.expectedSender).leafIndex;
      const applied = await applyCommit(state, bytes, this.#ctx.cs, this.#ctx.auth, this.#ctx.maxBytes, expected);
      const senderLeaf = leafAt(state.ratchetTree, applied.senderLeaf);
      if (senderLeaf === undefined) throw new SlimError("MLS", "commit rejected: its sender is not a member");
      const sender = this.#member(applied.senderLeaf, senderLeaf);
      const removed = applied.proposals.flatMap((p) => {
        const leaf = p.proposalType === "remove" ? leafAt(state.ratchetTree, p.remove.removed) : undefined;
        return leaf === undefined || p.proposalType !== "remove" ? [] : [this.#member(p.remove.removed, leaf)];
      });
      this.#adopt(applied.next, applied.consumed);
      const removedSelf = !this.active;
      const added = removedSelf ? [] : applied.proposals.flatMap((p) => (p.proposalType === "add" ? [this.#memberWithKey(p.add.keyPackage.leafNode.signaturePublicKey)] : []));
      return { epoch: this.epoch, sender, added, removed, removedSelf };
    });
  }

  /**
   * Encrypt application data with `aad` (the HeaderIntegrityAad bytes) as authenticated data.
   * Messages take generations in call order; their signatures are computed as soon as they are
   * called, concurrently with earlier ones (see app-messages.ts).
   */
  encrypt(plaintext: Uint8Array, aad: Uint8Array = new Uint8Array(0)): Promise<Uint8Array> {
    const early = this.active ? this.#sign(plaintext, aad) : undefined;
    return this.#serial(() =>
      guarded("cannot encrypt", async () => {
        this.#requireActive();
        let signed = early === undefined ? undefined : await early;
        if (signed === undefined || signed.epoch !== this.epoch) signed = await signApplication(this.#state, plaintext, aad, this.#ctx.cs);
        const { newState, bytes, consumed } = await sealApplication(this.#state, signed, this.#ctx.cs);
        this.#adopt(newState, consumed);
        return bytes;
      }),
    );
  }

  /**
   * Decrypt an application message; replays, forgeries and messages from former members are refused.
   * Decryption runs in call order; signature checks of concurrent calls overlap. `plaintext` and
   * `aad` may share memory with `bytes`.
   */
  async decrypt(bytes: Uint8Array): Promise<DecryptedMessage> {
    const opened = await this.#serial(() =>
      guarded("cannot decrypt", async () => {
        this.#requireActive();
        const out = await openApplication(this.#state, bytes, this.#ctx.maxBytes, this.#ctx.cs);
        this.#adopt(out.newState, out.consumed);
        return out;
      }),
    );
    if (!(await guarded("cannot decrypt", () => opened.verify()))) throw new SlimError("MLS", "cannot decrypt: the sender's signature does not verify");
    return { plaintext: opened.plaintext, aad: opened.aad, sender: this.#member(opened.senderLeaf, opened.senderNode), epoch: opened.epoch };
  }

  /**
   * The group state sealed under `passphrase` (state-file.ts, persist.ts). Export after every
   * operation that must survive a restart: resuming from an older export would reuse message keys.
   */
  exportState(passphrase: string | Uint8Array): Promise<Uint8Array> {
    return this.#serial(() => exportGroup(this.#state, this.#ctx.ciphersuite, this.#known(), passphrase));
  }

  /**
   * The group state in the clear, after every operation queued before this call: for a store
   * that seals it (the app's persistence). Wipe it once sealed.
   */
  snapshot(): Promise<Uint8Array> {
    return this.#serial(async () => encodeGroup(this.#state, this.#ctx.ciphersuite, this.#known()));
  }

  /** Identities of the current members' credentials. */
  #known(): [string, MemberIdentity][] {
    const current = new Set(occupiedLeaves(this.#state.ratchetTree).map(({ leaf }) => new TextDecoder().decode(credentialBytes(leaf))));
    return this.#ctx.auth.entries().filter(([token]) => current.has(token));
  }

  /** Sign for the current epoch now; undefined on failure (the serial step then signs again and reports). */
  #sign(plaintext: Uint8Array, aad: Uint8Array): Promise<SignedApplication | undefined> {
    return signApplication(this.#state, plaintext, aad, this.#ctx.cs).catch(() => undefined);
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(op);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  #adopt(next: ClientState, consumed: Uint8Array[]): void {
    this.#state = next;
    for (const secret of consumed) secret.fill(0);
  }

  #requireActive(): void {
    if (!this.active) throw new SlimError("MLS", "this member was removed from the group");
  }

  #member(leafIndex: number, leaf: LeafNode): MlsMember {
    return { leafIndex, ...this.#ctx.auth.identityOf(leaf.credential, leaf.signaturePublicKey), signaturePublicKey: leaf.signaturePublicKey.slice() };
  }

  #resolve(ref: MemberRef): MlsMember {
    const member = this.member(ref);
    if (member === undefined) throw new SlimError("MLS", `no member ${typeof ref === "number" ? `at leaf ${ref}` : `with identity ${ref}`}`);
    return member;
  }

  #memberWithKey(key: Uint8Array): MlsMember {
    const found = occupiedLeaves(this.#state.ratchetTree).find(({ leaf }) => bytesEqual(leaf.signaturePublicKey, key));
    if (found === undefined) throw new SlimError("INTERNAL", "added member is missing from the tree");
    return this.#member(found.leafIndex, found.leaf);
  }

  #keyPackage(bytes: Uint8Array): KeyPackage {
    const kp = decodeMls(bytes, "mls_key_package", this.#ctx.maxBytes).keyPackage;
    if (kp.cipherSuite !== this.#state.groupContext.cipherSuite) {
      throw new SlimError("MLS", `key package uses ${kp.cipherSuite}, the group ${this.#state.groupContext.cipherSuite}`);
    }
    return kp;
  }

  #welcomeOf(welcome: Uint8Array | undefined): Uint8Array {
    if (welcome === undefined) throw new SlimError("INTERNAL", "commit with an add produced no Welcome");
    return welcome;
  }

  #commit(context: string, proposals: Proposal[]): Promise<{ commit: Uint8Array; welcome?: Uint8Array; epoch: bigint }> {
    return guarded(context, async () => {
      this.#requireActive();
      const res = await createCommit({ state: this.#state, cipherSuite: this.#ctx.cs }, slimCommitOptions({ extraProposals: proposals }));
      this.#adopt(res.newState, res.consumed);
      const commit = encodeMls(res.commit);
      const epoch = this.epoch;
      if (res.welcome === undefined) return { commit, epoch };
      return { commit, epoch, welcome: encodeMls({ version: "mls10", wireformat: "mls_welcome", welcome: res.welcome }) };
    });
  }
}
