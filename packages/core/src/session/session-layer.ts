// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Demultiplexes an app's inbound session messages by session id, and answers
// the two messages that arrive before a session exists: DISCOVERY_REQUEST
// (verified: token and header signature, as upstream) and JOIN_REQUEST.

import { verifyPublishIdentity } from "../auth/header-signature.js";
import type { IdentityProvider, IdentityVerifier } from "../auth/types.js";
import type { Endpoint } from "../endpoint.js";
import { SlimError } from "../errors.js";
import { noopLogger, type Logger } from "../log.js";
import type { Name } from "../names/name.js";
import { AsyncQueue } from "../util/async-queue.js";
import { SessionMessageType, SessionType, type ProtoJoinRequestPayload, type ProtoMessage, type ProtoPublish } from "../wire/gen/dataplane.js";
import { fromProtoName, protoNameOf } from "../wire/names.js";
import type { P256SigningKey } from "../auth/p256.js";
import { mlsIdentityOf } from "../mls/credentials.js";
import { SessionMls, type MlsOptions } from "./mls-session.js";
import { buildPublish, commandOf, publishOf, stamp } from "./build.js";
import type { GroupChannels } from "./group/channels.js";
import { GroupSession, type GroupHost } from "./group/session.js";
import { P2PSession } from "./p2p.js";
import { announceRestored } from "./group/presence.js";
import { Name as NameValue } from "../names/name.js";
import type { SavedSession } from "../persist/session-record.js";
import type { SessionStore } from "../persist/session-store.js";

export const MAX_PENDING_SESSIONS = 128;
/**
 * Sessions that answered a JOIN_REQUEST and wait for their welcome, at most at once: JOIN_REQUESTs
 * beyond it are dropped until some are welcomed or time out (without MLS a join is not
 * authenticated, as upstream, so anyone who reaches the app could otherwise pile them up).
 */
export const MAX_HALF_OPEN_SESSIONS = 256;
/** How long a joined session waits for its welcome before it is dropped (app option `joinTimeoutMs`). */
export const DEFAULT_JOIN_TIMEOUT_MS = 60_000;
/** How long close() waits for finished sessions' queued output. */
const LINGER_MS = 1_000;

export type AnySession = P2PSession | GroupSession;

export class SessionLayer implements GroupHost {
  readonly sessions = new Map<number, AnySession>();
  /** Accepted point-to-point sessions. */
  /** Accepted sessions of both kinds, in arrival order. */
  readonly incoming = new AsyncQueue<AnySession>(MAX_PENDING_SESSIONS);
  /** Sessions that answered a JOIN_REQUEST and wait for the welcome, with their deadline. */
  private readonly awaitingWelcome = new Map<number, NodeJS.Timeout>();
  readonly log: Logger;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly provider: IdentityProvider,
    private readonly verifier: IdentityVerifier,
    logger: Logger = noopLogger,
    /** The link to the node this app dialed, if any: channel subscriptions and routes go there. */
    private readonly uplink?: number,
    /** Heartbeat interval of sessions (upstream: 10 s; every side must agree). */
    readonly heartbeatIntervalMs?: number,
    /** Persistence on: open sessions are saved here, and restored from it. */
    private readonly store?: SessionStore,
    private readonly joinTimeoutMs: number = DEFAULT_JOIN_TIMEOUT_MS,
  ) {
    this.log = logger.child("session");
    // The local datapath could not send one of our messages (no route): fail the
    // control request it belongs to now, as upstream does, instead of retrying it out.
    endpoint.onError((err, msg) => {
      const p = publishOf(msg);
      const sid = p?.session?.sessionId;
      const s = sid === undefined ? undefined : (this.sessions.get(sid) as { control?: { fail(id: number, e: SlimError): void } } | undefined);
      s?.control?.fail(p!.session!.messageId, new SlimError("SESSION", `send failure reported by the local node: ${err.message}`));
    });
    endpoint.setSink((msg) => {
      try {
        this.dispatch(msg);
      } catch (err) {
        this.log.warn("session message dropped", { error: SlimError.from(err).message });
      }
    });
  }

  get name(): Name {
    return this.endpoint.name;
  }

  /** The identity's token id (group channel ids derive from it). */
  get tokenId(): string {
    return this.provider.tokenId;
  }

  async joinChannel(name: Name): Promise<void> {
    await this.endpoint.subscribe(name, this.uplink === undefined ? {} : { via: this.uplink });
    if (this.uplink !== undefined) await this.endpoint.route(name, this.uplink);
  }

  async leaveChannel(name: Name): Promise<void> {
    if (this.uplink !== undefined) await this.endpoint.unroute(name, this.uplink).catch(() => undefined);
    await this.endpoint.unsubscribe(name, this.uplink === undefined ? {} : { via: this.uplink });
  }

  routeUp(name: Name): Promise<void> {
    return this.uplink === undefined ? Promise.resolve() : this.endpoint.route(name, this.uplink);
  }

  accept(session: GroupSession): void {
    this.welcomed(session.sessionId);
    this.persist(session);
    if (!this.incoming.push(session)) session.finish(new SlimError("SESSION", "too many sessions waiting to be accepted"));
  }

  /** An open session: with persistence on, saved from now on until it ends. */
  persist(session: AnySession): void {
    this.store?.attach(session);
  }

  send(msg: ProtoMessage): void {
    this.endpoint.submit(stamp(msg, this.provider));
  }

  stamp(msg: ProtoMessage): ProtoMessage {
    return stamp(msg, this.provider);
  }

  submit(msg: ProtoMessage): void {
    this.endpoint.submit(msg);
  }

  /** As upstream in MLS sessions: a command message needs a valid token and header signature. */
  verifyCommand(p: ProtoPublish): boolean {
    try {
      verifyPublishIdentity(p, this.verifier, { requireHeaderSignature: true });
      return true;
    } catch (err) {
      this.log.info("command message refused", { error: SlimError.from(err).message, type: p.session?.sessionMessageType });
      return false;
    }
  }

  /** MLS state for a new session; SlimError("MLS") when this app's identity cannot sign MLS leaves. */
  newMls(options: MlsOptions = {}): SessionMls {
    const p = this.provider as IdentityProvider & { signingKey?: P256SigningKey };
    if (p.signingKey === undefined) throw new SlimError("MLS", "MLS needs an identity with a P-256 signing key (shared secret or JWT provider)");
    return new SessionMls({ identity: mlsIdentityOf(p as IdentityProvider & { signingKey: P256SigningKey }), verifier: this.verifier }, options);
  }

  /**
   * The MLS state a JOIN_REQUEST asks for: undefined without MLS, null to refuse (an MLS
   * invitation must come from who it claims, as upstream checks every command of an MLS session;
   * or our identity cannot sign MLS leaves).
   */
  private mlsForJoin(p: ProtoPublish, join: ProtoJoinRequestPayload): SessionMls | undefined | null {
    const settings = join.mlsSettings;
    if (settings === undefined) return undefined;
    if (!this.verifyCommand(p)) return null;
    try {
      return this.newMls({ headerIntegrityPercent: settings.headerIntegrityValidationPercent });
    } catch (err) {
      this.log.info("MLS session refused", { error: SlimError.from(err).message });
      return null;
    }
  }

  route(name: Name, viaConn: number | undefined): void {
    if (viaConn === undefined) return;
    this.endpoint.route(name, viaConn).catch((err: unknown) => this.log.warn("route failed", { error: SlimError.from(err).message }));
  }

  /** Install a local route and wait until the datapath acked it. */
  routeVia(name: Name, conn: number): Promise<void> {
    return this.endpoint.route(name, conn);
  }

  runWhenWritable(send: () => void): void {
    this.endpoint.runWhenWritable(send);
  }

  holdInput(sessionId: number, hold: boolean): void {
    this.endpoint.holdInput(-1 - sessionId, hold);
  }

  forget(sessionId: number): void {
    const session = this.sessions.get(sessionId);
    this.sessions.delete(sessionId);
    this.welcomed(sessionId);
    // ended for good (not suspended by the app closing): its record goes
    if (this.store !== undefined && session !== undefined && !session.suspended) {
      this.linger(this.store.forget(session).catch((err: unknown) => this.log.warn("saved session not removed", { session: sessionId, error: SlimError.from(err).message })));
    }
  }

  /**
   * Sessions saved before a restart, back: MLS groups, rosters and counters as saved, routes and
   * channel subscriptions made again; group members tell the others they are back, as upstream
   * (not awaited). A record that cannot be read or restored is logged and skipped.
   */
  restore(signal?: AbortSignal): Promise<AnySession[]> {
    // one restore at a time: one that was given up on finishes (and puts back what it took) first
    const run = this.restoring.then(() => this.restoreAll(signal));
    this.restoring = run.catch(() => undefined);
    return run;
  }

  private restoring: Promise<unknown> = Promise.resolve();

  private async restoreAll(signal: AbortSignal | undefined): Promise<AnySession[]> {
    if (this.store === undefined) return [];
    const out: AnySession[] = [];
    for (const { saved, group } of await this.store.load()) {
      if (signal?.aborted === true) break;
      if (this.sessions.has(saved.sessionId)) continue;
      try {
        out.push(await this.restoreOne(saved, group));
      } catch (err) {
        this.log.warn("saved session not restored", { session: saved.sessionId, error: SlimError.from(err).message });
      }
    }
    if (signal?.aborted === true) {
      // the caller will not get these: stop them again, records kept, so a later restore finds them
      await Promise.all(out.map((s) => this.store!.suspend(s)));
      throw new SlimError("ABORTED", "restore sessions aborted", { cause: signal.reason });
    }
    return out;
  }

  private async restoreOne(saved: SavedSession, group: Uint8Array | undefined): Promise<AnySession> {
    let mls: SessionMls | undefined;
    if (saved.mls !== undefined) {
      const { ciphersuite, headerIntegrityPercent, rotateEveryMs } = saved.mls;
      mls = this.newMls({ ciphersuite, headerIntegrityPercent, rotateEveryMs });
      await mls.restore(saved.mls, group!);
    }
    if (saved.kind === "p2p") {
      const peer = NameValue.parse(saved.peer);
      const session = new P2PSession(this, saved.sessionId, saved.initiator, peer, saved.reliable, saved.metadata, this.heartbeatIntervalMs, mls);
      this.add(session);
      // open before anything can reach it
      session.resume(saved);
      try {
        if (this.uplink !== undefined) await this.endpoint.route(peer.withoutId(), this.uplink);
        this.route(peer, this.uplink);
      } catch (err) {
        session.finish(SlimError.from(err, "SESSION")); // not yet saved: its record stays
        throw err;
      }
      this.persist(session);
      return session;
    }
    const channels: GroupChannels = { data: NameValue.parse(saved.channels.data), control: NameValue.parse(saved.channels.control) };
    const session = new GroupSession(this, saved.sessionId, saved.role, NameValue.parse(saved.moderator), channels, saved.reliable, saved.metadata, this.heartbeatIntervalMs, mls);
    this.add(session);
    // open, with its members, before anything can reach it (a commit arriving now updates the roster too)
    session.resume(saved);
    try {
      await this.joinChannel(channels.data);
      await this.joinChannel(channels.control);
    } catch (err) {
      session.finish(SlimError.from(err, "SESSION")); // not yet saved: its record stays
      throw err;
    }
    this.persist(session);
    announceRestored(session).catch((err: unknown) => this.log.info("announcing a restored session failed", { session: saved.sessionId, error: SlimError.from(err).message }));
    return session;
  }

  add(session: AnySession): void {
    if (this.sessions.has(session.sessionId)) throw new SlimError("SESSION", `session id ${session.sessionId} already in use`);
    this.sessions.set(session.sessionId, session);
  }

  private dispatch(msg: ProtoMessage): void {
    const p = publishOf(msg);
    if (p?.session === undefined || p.header === undefined) return;
    const sid = p.session.sessionId;
    const type = p.session.sessionMessageType;
    const existing = this.sessions.get(sid);
    if (existing !== undefined) {
      existing.onMessage(msg, p);
      // group participants surface themselves once subscribed (accept())
      if (existing instanceof P2PSession && type === SessionMessageType.GROUP_WELCOME && this.awaitingWelcome.has(sid)) {
        // surfaced once open (with MLS: once the welcome put us in the group)
        void existing.opened.then(() => {
          if (!this.welcomed(sid)) return; // timed out (or ended) while the welcome was processed
          this.persist(existing);
          if (!this.incoming.push(existing)) existing.finish(new SlimError("SESSION", "too many sessions waiting to be accepted"));
        });
      }
      return;
    }
    if (type === SessionMessageType.DISCOVERY_REQUEST) return this.onDiscovery(p);
    if (type === SessionMessageType.JOIN_REQUEST) return this.onJoin(msg, p);
    this.log.debug("message for an unknown session dropped", { sessionId: sid, type });
  }

  private onDiscovery(p: ProtoPublish): void {
    try {
      verifyPublishIdentity(p, this.verifier, { requireHeaderSignature: true });
    } catch (err) {
      this.log.info("discovery request refused", { error: SlimError.from(err).message });
      return;
    }
    const h = p.header!;
    this.send(
      buildPublish({
        source: protoNameOf(this.endpoint.name),
        destination: h.source!,
        sessionType: p.session!.sessionType,
        type: SessionMessageType.DISCOVERY_REPLY,
        sessionId: p.session!.sessionId,
        messageId: p.session!.messageId,
        ...(h.incomingConn === undefined ? {} : { forwardTo: h.incomingConn }),
        command: { case: "discoveryReply", value: {} },
      }),
    );
  }


  private onJoin(msg: ProtoMessage, p: ProtoPublish): void {
    const s = p.session!;
    const cmd = commandOf(p);
    if (cmd?.case !== "joinRequest") return;
    const peer = fromProtoName(p.header!.source);
    if (peer === undefined) return;
    if (s.sessionType === SessionType.MULTICAST) return this.onGroupJoin(msg, p, peer, cmd.value);
    if (s.sessionType !== SessionType.POINT_TO_POINT) return;
    const timers = cmd.value.timerSettings;
    const reliable = timers === undefined ? undefined : { intervalMs: timers.timeout, maxRetries: timers.maxRetries };
    const metadata = Object.fromEntries(msg.metadata);
    if (this.halfOpenFull(s.sessionId)) return;
    const mls = this.mlsForJoin(p, cmd.value);
    if (mls === null) return;
    const session = new P2PSession(this, s.sessionId, false, peer, reliable, metadata, this.heartbeatIntervalMs, mls);
    this.add(session);
    const conn = p.header!.incomingConn === undefined ? undefined : Number(p.header!.incomingConn);
    this.route(peer, conn);
    this.expectWelcome(session);
    session.replyJoin(s.messageId, p.header!.incomingConn).catch((err: unknown) => {
      this.log.info("MLS: no key package for the join reply", { error: SlimError.from(err).message });
      session.finish(SlimError.from(err, "MLS"));
    });
  }

  /** An invitation to a group: as upstream, it needs timer settings and both channel names. */
  private onGroupJoin(msg: ProtoMessage, p: ProtoPublish, moderator: Name, join: ProtoJoinRequestPayload): void {
    const s = p.session!;
    const data = fromProtoName(join.channel);
    const control = fromProtoName(join.control);
    if (join.timerSettings === undefined || data === undefined || control === undefined) {
      this.log.info("group join request without timer settings or channel names dropped", { sessionId: s.sessionId });
      return;
    }
    if (this.halfOpenFull(s.sessionId)) return;
    const mls = this.mlsForJoin(p, join);
    if (mls === null) return;
    const reliable = { intervalMs: join.timerSettings.timeout, maxRetries: join.timerSettings.maxRetries };
    const channels: GroupChannels = { data, control };
    const session = new GroupSession(this, s.sessionId, "participant", moderator, channels, reliable, Object.fromEntries(msg.metadata), this.heartbeatIntervalMs, mls);
    this.add(session);
    this.expectWelcome(session);
    const conn = p.header!.incomingConn === undefined ? undefined : Number(p.header!.incomingConn);
    this.route(moderator, conn);
    session.onMessage(msg, p); // answers JOIN_REPLY
  }

  /** Too many sessions wait for their welcome already: this JOIN_REQUEST is dropped. */
  private halfOpenFull(sessionId: number): boolean {
    if (this.awaitingWelcome.size < MAX_HALF_OPEN_SESSIONS) return false;
    this.log.warn("join request dropped: too many sessions wait for their welcome", { sessionId, waiting: this.awaitingWelcome.size });
    return true;
  }

  /** A session that answered a JOIN_REQUEST: dropped if its welcome does not come in time. */
  private expectWelcome(session: AnySession): void {
    const timer = setTimeout(() => {
      this.awaitingWelcome.delete(session.sessionId);
      this.log.info("joined session dropped: no welcome in time", { sessionId: session.sessionId, timeoutMs: this.joinTimeoutMs });
      session.finish(new SlimError("TIMEOUT", `no welcome within ${this.joinTimeoutMs} ms of joining`));
    }, this.joinTimeoutMs);
    timer.unref();
    this.awaitingWelcome.set(session.sessionId, timer);
  }

  /** The welcome came (or the session ended): stop waiting. False if nothing was waiting. */
  private welcomed(sessionId: number): boolean {
    const timer = this.awaitingWelcome.get(sessionId);
    if (timer === undefined) return false;
    clearTimeout(timer);
    this.awaitingWelcome.delete(sessionId);
    return true;
  }

  /** Output a finished session still had queued (MLS sealing); close() lets it out first. */
  private readonly lingering = new Set<Promise<void>>();

  linger(flushed: Promise<void>): void {
    const p = flushed.catch(() => undefined);
    this.lingering.add(p);
    void p.then(() => this.lingering.delete(p));
  }

  async close(): Promise<void> {
    // with persistence, sessions are kept for the next start: saved, then stopped without a word to the others
    const store = this.store;
    await Promise.all([...this.sessions.values()].map((s) => (store === undefined ? s.close() : store.suspend(s))));
    // last words (e.g. the ack of a GROUP_CLOSE) reach the link before it closes; bounded
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(this.lingering), new Promise((r) => (timer = setTimeout(r, LINGER_MS)))]);
    clearTimeout(timer);
    await new Promise((r) => setImmediate(r));
    this.incoming.end();
    await this.endpoint.close();
  }
}
