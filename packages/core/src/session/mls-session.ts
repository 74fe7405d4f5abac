// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// MLS for one session, as the official session layer drives it: the moderator
// (p2p initiator or group moderator) creates the group and numbers its commits
// (commit_id counts from 1, once per add, remove or rejoin); a participant
// answers a join with a fresh key package, enters with the Welcome and applies
// the moderator's commits strictly in commit_id order. Application data is
// sealed with the message's HeaderIntegrityAad as authenticated data; after
// opening, the AAD is compared with one rebuilt from the received headers for
// the configured share of messages.

import { encodeHeaderAad } from "../auth/header-signature.js";
import type { IdentityVerifier } from "../auth/types.js";
import { SlimError } from "../errors.js";
import { checkHeaderIntegrity, shouldCheckHeaderIntegrity } from "../mls/header-integrity.js";
import type { MlsGroup } from "../mls/group.js";
import type { MlsCiphersuiteId } from "../mls/profile.js";
import type { MlsIdentity } from "../mls/credentials.js";
import type { PendingKeyPackage } from "../mls/key-package.js";
import type { MlsMember } from "../mls/types.js";

/** ts-mls and its crypto load on first use: apps that never use MLS do not carry them. */
let engine: Promise<typeof import("../mls/group.js")> | undefined;
const mlsEngine = () => (engine ??= import("../mls/group.js"));
import type { ProtoPublish } from "../wire/gen/dataplane.js";

/** MLS as a session option: on with the defaults, or tuned. */
export interface MlsOptions {
  /** 2 (P-256, the official default) or 1 (X25519/Ed25519). */
  ciphersuite?: MlsCiphersuiteId | undefined;
  /** Share of received messages whose headers are checked against what the sender sealed (default 100). */
  headerIntegrityPercent?: number | undefined;
  /**
   * Group moderator: rotate keys on this interval (ms). Skipped, with a log line, while a member
   * cannot process it (official apps); see GroupSession.rotateKeys.
   */
  rotateEveryMs?: number | undefined;
}

export const DEFAULT_HEADER_INTEGRITY_PERCENT = 100;

/** A session's MLS settings and counters as its saved record holds them. */
export interface SavedMls {
  ciphersuite?: MlsCiphersuiteId | undefined;
  headerIntegrityPercent: number;
  rotateEveryMs?: number | undefined;
  commitId: number;
  /** Moderator: roster key -> MLS identity, to remove members by. */
  identities: [string, string][];
}

/**
 * A key package made ahead of need, per app identity and ciphersuite, so that answering a join
 * does not wait for one (about 1 ms on the critical path of every MLS session setup and invitation).
 * Made after a join completes, and by prepare(); older than this, it is dropped for a fresh one (its
 * credential carries an identity token minted when it was made).
 */
const SPARE_MAX_AGE_MS = 30_000;
const spares = new WeakMap<MlsIdentity, Map<number, { madeAt: number; kp: Promise<PendingKeyPackage> }>>();

function takeSpare(identity: MlsIdentity, suite: number): Promise<PendingKeyPackage> | undefined {
  const bySuite = spares.get(identity);
  const spare = bySuite?.get(suite);
  if (spare === undefined) return undefined;
  bySuite!.delete(suite);
  return Date.now() - spare.madeAt <= SPARE_MAX_AGE_MS ? spare.kp : undefined;
}

function keepSpare(identity: MlsIdentity, suite: number, kp: Promise<PendingKeyPackage>): void {
  let bySuite = spares.get(identity);
  if (bySuite === undefined) spares.set(identity, (bySuite = new Map()));
  const entry = { madeAt: Date.now(), kp };
  bySuite.set(suite, entry);
  kp.catch(() => {
    if (bySuite.get(suite) === entry) bySuite.delete(suite);
  });
}

export interface SessionMlsContext {
  identity: MlsIdentity;
  verifier: IdentityVerifier;
}


export class SessionMls {
  private group: MlsGroup | undefined;
  private pending: PendingKeyPackage | undefined;
  /** Moderator: the last commit id handed out. Participant: the last one applied. */
  private commitId = 0;
  /** Members by our roster key: the MLS identity to remove them by. */
  private readonly identities = new Map<string, string>();
  readonly headerIntegrityPercent: number;

  constructor(
    private readonly ctx: SessionMlsContext,
    readonly options: MlsOptions = {},
  ) {
    this.headerIntegrityPercent = options.headerIntegrityPercent ?? DEFAULT_HEADER_INTEGRITY_PERCENT;
  }

  get ready(): boolean {
    return this.group?.active === true;
  }

  /** The group epoch (heartbeats and state updates carry it), once in a group. */
  get epoch(): bigint | undefined {
    return this.group?.epoch;
  }

  private get groupOptions() {
    return {
      verifier: this.ctx.verifier,
      ...(this.options.ciphersuite === undefined ? {} : { ciphersuite: this.options.ciphersuite }),
    };
  }

  private need(): MlsGroup {
    if (this.group === undefined || !this.group.active) throw new SlimError("MLS", "not in an MLS group");
    return this.group;
  }

  // ---- moderator -----------------------------------------------------------

  /**
   * Load the engine and run it once on throwaway state (a key package, a group, one sealed
   * message): module loading and first-use setup then happen before a session needs them.
   */
  async prepare(): Promise<void> {
    const { MlsGroup } = await mlsEngine();
    const kp = this.makeKeyPackage(MlsGroup);
    await kp;
    keepSpare(this.ctx.identity, this.spareKey, kp);
    const scratch = await MlsGroup.create(undefined, this.ctx.identity, this.groupOptions);
    await scratch.encrypt(new Uint8Array(16));
  }

  async create(): Promise<void> {
    if (this.group !== undefined) return;
    const { MlsGroup } = await mlsEngine();
    this.group = await MlsGroup.create(undefined, this.ctx.identity, this.groupOptions);
  }

  /** Add the owner of `keyPackage` (one add per commit): the commit for the others, the Welcome for it. */
  async add(memberKey: string, keyPackage: Uint8Array): Promise<{ commitId: number; commit: Uint8Array; welcome: Uint8Array; member: MlsMember }> {
    const r = await this.need().add(keyPackage);
    this.identities.set(memberKey, r.member.identity);
    return { commitId: ++this.commitId, commit: r.commit, welcome: r.welcome, member: r.member };
  }

  async remove(memberKey: string): Promise<{ commitId: number; commit: Uint8Array } | undefined> {
    const identity = this.identities.get(memberKey);
    if (identity === undefined) return undefined;
    const r = await this.need().remove(identity);
    this.identities.delete(memberKey);
    return { commitId: ++this.commitId, commit: r.commit };
  }

  /** Rejoin: remove and re-add the member in one commit, from its fresh key package. */
  async rejoin(memberKey: string, keyPackage: Uint8Array): Promise<{ commitId: number; commit: Uint8Array; welcome: Uint8Array }> {
    const identity = this.identities.get(memberKey);
    if (identity === undefined) throw new SlimError("MLS", "rejoin from a member we never added");
    const r = await this.need().rejoin(identity, keyPackage);
    this.identities.set(memberKey, r.member.identity);
    return { commitId: ++this.commitId, commit: r.commit, welcome: r.welcome };
  }

  /** A path update (new keys for everyone): only for groups of our own apps, upstream cannot process it. */
  async rotate(): Promise<{ commitId: number; commit: Uint8Array }> {
    const r = await this.need().rotate();
    return { commitId: ++this.commitId, commit: r.commit };
  }

  // ---- participant ---------------------------------------------------------

  /** A fresh key package for a JoinReply or RejoinRequest; its private part waits for the Welcome. */
  async keyPackage(): Promise<Uint8Array> {
    const { MlsGroup } = await mlsEngine();
    const spare = takeSpare(this.ctx.identity, this.spareKey);
    this.pending = (spare === undefined ? undefined : await spare.catch(() => undefined)) ?? (await this.makeKeyPackage(MlsGroup));
    return this.pending.bytes;
  }

  /** Spare key packages by ciphersuite (0: the default one). */
  private get spareKey(): number {
    return this.options.ciphersuite ?? 0;
  }

  private makeKeyPackage(engine: typeof MlsGroup): Promise<PendingKeyPackage> {
    return engine.createKeyPackage(this.ctx.identity, this.options.ciphersuite === undefined ? {} : { ciphersuite: this.options.ciphersuite });
  }

  /** Make the next spare key package once the current work is done. */
  private replenish(engine: typeof MlsGroup): void {
    const has = () => spares.get(this.ctx.identity)?.has(this.spareKey) === true;
    if (has()) return;
    setImmediate(() => {
      if (!has()) keepSpare(this.ctx.identity, this.spareKey, this.makeKeyPackage(engine));
    }).unref();
  }

  /** Enter the group with a Welcome (a second one is ignored, as upstream, unless rejoining). */
  async join(welcome: Uint8Array, commitId: number, rejoining = false): Promise<void> {
    if (this.ready && !rejoining) return;
    const pending = this.pending;
    if (pending === undefined) throw new SlimError("MLS", "welcome without a key package of ours");
    const { MlsGroup } = await mlsEngine();
    this.group = await MlsGroup.join(welcome, pending, this.groupOptions);
    this.pending = undefined;
    this.commitId = commitId;
    this.replenish(MlsGroup);
  }

  /**
   * Apply the moderator's commit `commitId`: "duplicate" for one already applied (ack it again),
   * "future" when an earlier one is missing (not applied, not acked: upstream sends commits one at
   * a time and waits for every ack, so a gap means we missed one for good and must rejoin).
   * Rejects a commit the moderator did not sign, or one that does not apply.
   */
  async applyCommit(commitId: number, bytes: Uint8Array, moderator?: string): Promise<"applied" | "duplicate" | "future"> {
    if (commitId <= this.commitId) return "duplicate";
    if (commitId !== this.commitId + 1) return "future";
    const r = await this.need().processCommit(bytes, moderator === undefined ? {} : { expectedSender: moderator });
    this.commitId = commitId;
    this.removedSelf = r.removedSelf;
    return "applied";
  }

  /** The last commit removed us. */
  removedSelf = false;

  /** The MLS identity of the member that created the group we joined (leaf 0: the moderator). */
  moderatorIdentity(): string | undefined {
    return this.group?.member(0)?.identity;
  }

  // ---- data ----------------------------------------------------------------

  /** Seal an outgoing MSG / RTX_REPLY in place: its blob becomes an MLS PrivateMessage. */
  async seal(p: ProtoPublish): Promise<void> {
    const c = p.msg?.contentType;
    if (c?.case !== "appPayload") return;
    c.value.blob = await this.need().encrypt(c.value.blob, encodeHeaderAad(p));
  }

  /** Open a received MSG / RTX_REPLY in place; throws SlimError("MLS") on anything wrong. */
  async open(p: ProtoPublish): Promise<MlsMember> {
    const c = p.msg?.contentType;
    if (c?.case !== "appPayload") throw new SlimError("MLS", "encrypted message without an application payload");
    const d = await this.need().decrypt(c.value.blob);
    if (shouldCheckHeaderIntegrity(this.headerIntegrityPercent)) checkHeaderIntegrity(encodeHeaderAad(p), d.aad);
    c.value.blob = d.plaintext;
    return d.sender;
  }

  // ---- persistence ---------------------------------------------------------

  /** What a restart needs besides the group: the commit counter and the members' MLS identities. */
  saved(): SavedMls {
    return {
      ...(this.options.ciphersuite === undefined ? {} : { ciphersuite: this.options.ciphersuite }),
      headerIntegrityPercent: this.headerIntegrityPercent,
      ...(this.options.rotateEveryMs === undefined ? {} : { rotateEveryMs: this.options.rotateEveryMs }),
      commitId: this.commitId,
      identities: [...this.identities],
    };
  }

  /** The group in the clear, for the store to seal; undefined before joining one. */
  snapshot(): Promise<Uint8Array> | undefined {
    return this.group?.active === true ? this.group.snapshot() : undefined;
  }

  /** Back in the group as {@link saved} and {@link snapshot} left it. */
  async restore(saved: SavedMls, group: Uint8Array): Promise<void> {
    const { MlsGroup } = await mlsEngine();
    this.group = await MlsGroup.fromSnapshot(group, { verifier: this.ctx.verifier });
    this.commitId = saved.commitId;
    for (const [k, identity] of saved.identities) this.identities.set(k, identity);
  }

  /** The session ended: nothing to release beyond what the garbage collector takes. */
  close(): void {
    this.pending = undefined;
  }
}
