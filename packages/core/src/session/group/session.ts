// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A group (multicast) session, MLS off, either role. Data goes to the data
// channel with fanout 256; roster changes and close to the control channel.
// The moderator's operations (invite, remove, close, a member leaving) live in
// moderator.ts, the participant's handlers in participant.ts; this file holds
// the shared state, the data path and the inbound dispatch.

import { SlimError } from "../../errors.js";
import type { Name } from "../../names/name.js";
import { AsyncQueue } from "../../util/async-queue.js";
import { SessionMessageType, SessionType, type ProtoMessage, type ProtoPublish } from "../../wire/gen/dataplane.js";
import { protoNameOf } from "../../wire/names.js";
import { buildPublish, type PublishSpec } from "../build.js";
import { ControlRequests, DEFAULT_CONTROL_INTERVAL_MS, DEFAULT_CONTROL_RETRIES } from "../control.js";
import type { SessionHost } from "../p2p.js";
import { DataReceiver } from "../receiver.js";
import { DataSender, MAX_IN_FLIGHT, MAX_IN_FLIGHT_MLS, type OutboundData } from "../sender.js";
import { EventFeed } from "../events.js";
import { MlsPipe } from "../mls-pipe.js";
import type { SessionMls } from "../mls-session.js";
import type { Replier } from "../message.js";
import type { ParticipantEvent, ReliableOptions, SessionMessage, SessionPublishOptions } from "../types.js";
import { MultiAcks } from "./acks.js";
import type { GroupChannels } from "./channels.js";
import * as data_ from "./data.js";
import * as moderator from "./moderator.js";
import * as participant from "./participant.js";
import * as presence from "./presence.js";
import * as saved_ from "./saved.js";
import { memberKey, Roster } from "./roster.js";
import { SenderNames } from "../sender-names.js";
import type { Checkpoints } from "../../persist/checkpoints.js";
import { SessionOutput } from "../outbound.js";
import type { SavedSession } from "../../persist/session-record.js";

export const GROUP_FANOUT = 256;
export const HEARTBEAT_INTERVAL_MS = 10_000;
/** Heartbeat epoch without MLS (u64::MAX). */
export const NO_MLS_EPOCH = (1n << 64n) - 1n;
const DEFAULT_MAX_PENDING_MESSAGES = 10_000;

/** What a group session needs from its app beyond a p2p session. */
export interface GroupHost extends SessionHost {
  /** Subscribe to a channel (upstream too when the app dialed a node) and route it out. */
  joinChannel(name: Name): Promise<void>;
  leaveChannel(name: Name): Promise<void>;
  /** Send traffic for `name` to the node this app dialed (no-op on an embedded datapath). */
  routeUp(name: Name): Promise<void>;
  /** A participant session got its welcome: hand it to `listen()`. */
  accept(session: GroupSession): void;
}

export type GroupRole = "moderator" | "participant";

/** How a session closes: hard leaves (or, for the moderator, ends) the group; soft goes offline and may rejoin(). */
export interface CloseOptions {
  mode?: "hard" | "soft";
}

export class GroupSession implements AsyncIterable<SessionMessage>, AsyncDisposable, Replier {
  readonly kind = "group" as const;
  readonly metadata: Record<string, string>;
  /** @internal */ readonly roster = new Roster();
  /** @internal data endpoints owing acks (members other than us that are online) */ readonly endpoints = new Set<string>();
  /** @internal */ readonly control: ControlRequests;
  /** @internal */ readonly acks: MultiAcks;
  /** @internal */ readonly sender: DataSender;
  /** @internal */ readonly receiver: DataReceiver<SessionMessage>;
  /** @internal */ state: "joining" | "open" | "closing" | "closed";
  /** @internal the welcome is being processed (channel subscriptions) */ welcoming = false;
  /** @internal moderator operations run one at a time, as upstream */ tasks: Promise<unknown> = Promise.resolve();
  /** @internal heartbeat ticks each tracked member has been silent */ readonly missed = new Map<string, number>();
  /** @internal members marked offline (silent, or soft-closed) */ readonly offline = new Set<string>();
  /** @internal we soft-closed: nothing goes out or comes in until rejoin() */ selfOffline = false;
  /** @internal a soft close or rejoin is running */ statusChange = false;
  /** @internal send a heartbeat at the next tick even if data went out */ forceHeartbeat = false;
  /** @internal anything sent to the group since the last tick */ sentSinceTick = false;
  /** @internal */ readonly feed = new EventFeed();
  /** @internal MLS sessions: sealing out, opening in, in order */ readonly pipe: MlsPipe | undefined;
  /** @internal participant with MLS: the key package of our JOIN_REPLY */ joinKeyPackage: Promise<Uint8Array> | undefined;
  /** @internal participant with MLS: a REJOIN_REQUEST is out */ rejoining = false;
  /** @internal participant with MLS: called when the GROUP_UPDATE(REJOIN) about us arrived */ rejoinUpdated: (() => void) | undefined;
  /** @internal moderator: members that said they can process key rotations (our apps) */ readonly canRotate = new Set<string>();
  /** @internal the app saves this session for restore (persistence on, session open) */ saves: Checkpoints | undefined;
  /** @internal stopped locally with its record kept (the app closing), not ended */ suspended = false;
  private readonly output: SessionOutput;
  private readonly inbox = new AsyncQueue<SessionMessage>(DEFAULT_MAX_PENDING_MESSAGES);
  private closeError: SlimError | undefined;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly rotation: NodeJS.Timeout | undefined;
  private readonly routed = new Set<string>();
  /** @internal data sources seen so far, members or not (yet): RTX requests and replies need their names */
  readonly seen = new Map<string, Name>();
  /** @internal reliable publishes waiting for a first member */
  readonly parked: Array<{ data: OutboundData; resolve: () => void; reject: (err: unknown) => void }> = [];

  constructor(
    /** @internal */ readonly host: GroupHost,
    readonly sessionId: number,
    readonly role: GroupRole,
    /** The moderator's full name. */
    readonly moderator: Name,
    readonly channels: GroupChannels,
    readonly reliable: ReliableOptions | undefined,
    metadata: Record<string, string>,
    heartbeatIntervalMs: number = HEARTBEAT_INTERVAL_MS,
    /** The session's MLS state when MLS is on. */
    readonly mls?: SessionMls,
  ) {
    this.metadata = metadata;
    this.pipe = mls === undefined ? undefined : new MlsPipe(host, mls, host.log, () => this.saves);
    this.output = new SessionOutput(host);
    this.state = role === "moderator" ? "open" : "joining";
    // a reader that falls behind slows the senders down instead of failing the session
    this.inbox.setWatermarks(
      DEFAULT_MAX_PENDING_MESSAGES / 2,
      DEFAULT_MAX_PENDING_MESSAGES / 8,
      () => host.holdInput(sessionId, true),
      () => host.holdInput(sessionId, false),
    );
    this.control = new ControlRequests(reliable?.intervalMs ?? DEFAULT_CONTROL_INTERVAL_MS, reliable?.maxRetries ?? DEFAULT_CONTROL_RETRIES);
    this.acks = new MultiAcks(reliable?.intervalMs ?? DEFAULT_CONTROL_INTERVAL_MS, reliable?.maxRetries ?? DEFAULT_CONTROL_RETRIES);
    this.closedPromise = new Promise((r) => (this.resolveClosed = r));
    this.roster.add(host.name);
    if (role === "participant") this.roster.add(moderator);
    this.sender = new DataSender(
      {
        send: (id, data, to, asRtx, forwardTo) => data_.sendData(this, id, data, to, asRtx, forwardTo),
        sendLost: (id, to, forwardTo) => {
          const dst = this.nameOf(to);
          if (dst === undefined) return;
          this.emit({ type: SessionMessageType.RTX_REPLY, messageId: id, error: true, ...(forwardTo === undefined ? {} : { forwardTo }) }, dst);
        },
        // upstream marks silent members offline and stops expecting their acks
        endpointsSilent: (keys) => keys.forEach((k) => presence.markOffline(this, k, "did not acknowledge data")),
      },
      reliable,
      () => [...this.endpoints],
      mls === undefined ? MAX_IN_FLIGHT : MAX_IN_FLIGHT_MLS,
    );
    this.receiver = new DataReceiver<SessionMessage>(
      {
        deliver: (m) => this.pushInbound(m),
        lost: (source, id, count) => {
          const from = this.nameOf(source);
          this.host.log?.info("message lost", { session: this.sessionId, from: source, id, count });
          if (from !== undefined) this.feed.lost(from, id, count);
        },
        requestRtx: (id, source) => {
          const dst = this.nameOf(source);
          if (dst !== undefined) this.emit({ type: SessionMessageType.RTX_REQUEST, messageId: id }, dst);
        },
      },
      reliable,
    );
    this.heartbeat = setInterval(() => presence.tick(this, heartbeatIntervalMs), heartbeatIntervalMs);
    this.heartbeat.unref();
    const every = mls?.options.rotateEveryMs;
    if (role === "moderator" && every !== undefined && every > 0) {
      this.rotation = setInterval(() => {
        if (this.state !== "open" || this.roster.size < 2) return;
        this.rotateKeys().catch((err: unknown) => host.log?.info("scheduled key rotation skipped", { error: SlimError.from(err).message }));
      }, every);
      this.rotation.unref();
    }
  }

  /** @internal A member or a data source we heard from, by key. */
  nameOf(key: string): Name | undefined {
    return this.roster.byKey(key) ?? this.seen.get(key);
  }

  /** Every member's full name, ours included. */
  participants(): Name[] {
    return this.roster.names();
  }

  /** Every member with whether we can reach it (ours: false after a soft close). */
  members(): Array<{ name: Name; online: boolean }> {
    const self = memberKey(this.host.name);
    return this.roster.keys().map((k) => ({ name: this.roster.byKey(k)!, online: k === self ? !this.selfOffline : !this.offline.has(k) }));
  }

  /** Members joining, leaving, going offline and coming back, as they happen. Iterate once. */
  events(): AsyncIterable<ParticipantEvent> {
    return this.feed.iterable();
  }

  /** The moderator (for a participant) or ourselves (for the moderator): who invited whom. */
  get peer(): Name {
    return this.moderator;
  }

  get closed(): Promise<void> {
    return this.closedPromise;
  }

  get isModerator(): boolean {
    return this.role === "moderator";
  }

  // ---- sending -------------------------------------------------------------

  /** @internal Send one session message from us. */
  emit(spec: Partial<PublishSpec> & { type: SessionMessageType; messageId: number }, to: Name, fanout = 1): void | Promise<void> {
    if (sameName(to, this.channels.data) || sameName(to, this.channels.control)) this.sentSinceTick = true;
    const msg = buildPublish({
      source: protoNameOf(this.host.name),
      destination: protoNameOf(to),
      sessionType: SessionType.MULTICAST,
      sessionId: this.sessionId,
      fanout,
      ...spec,
    });
    return this.pipe === undefined ? this.output.send(msg, this.saves) : this.pipe.send(msg);
  }

  // ---- persistence ---------------------------------------------------------------

  /** @internal What a restart needs (the MLS group comes separately). */
  saved(): SavedSession {
    return saved_.savedGroup(this);
  }

  /** @internal A restored session: open, with the members, counters and status it was saved with. */
  resume(saved: Extract<SavedSession, { kind: "group" }>): void {
    saved_.resumeGroup(this, saved);
  }

  /** @internal GROUP_ACK / LEAVE_REPLY style answer, unicast to `to` on the connection the request came from. */
  reply(type: SessionMessageType, messageId: number, to: Name, incomingConn: bigint | undefined, command: NonNullable<PublishSpec["command"]>): void {
    this.emit({ type, messageId, command, ...(incomingConn === undefined ? {} : { forwardTo: incomingConn }) }, to);
  }

  /** @internal A member joined (or was listed): route to it and expect its data acks. */
  addMember(n: Name): void {
    const isNew = !this.roster.has(n);
    this.roster.add(n);
    if (memberKey(n) === memberKey(this.host.name)) return;
    if (isNew) {
      presence.track(this, memberKey(n));
      if (this.state === "open") this.feed.emit("joined", n);
    }
    this.routeTo(n);
    if (this.reliable !== undefined) {
      this.endpoints.add(memberKey(n));
      data_.flushParked(this);
    }
    if (isNew) saved_.saveSoon(this);
  }

  /** @internal A member left: nothing more is owed by it or to it. */
  dropMember(n: Name): void {
    const k = memberKey(n);
    if (this.roster.delete(n) && this.state === "open" && k !== memberKey(this.host.name)) this.feed.emit("left", n);
    this.missed.delete(k);
    this.offline.delete(k);
    this.endpoints.delete(k);
    this.sender.dropEndpoint(k);
    this.receiver.dropSource(k);
    this.acks.forget(k);
    this.seen.delete(k);
    saved_.saveSoon(this);
  }

  /** @internal */
  routeTo(n: Name): void {
    const k = memberKey(n);
    if (this.routed.has(k)) return;
    this.routed.add(k);
    this.host.routeUp(n).catch(() => this.routed.delete(k));
  }

  // ---- inbound ---------------------------------------------------------------

  /** Every message of this session that reached the app (MLS sessions: checked, opened and applied first, in order). */
  onMessage(msg: ProtoMessage, p: ProtoPublish): void {
    if (this.pipe === undefined) return this.handle(msg, p);
    this.pipe.receive(p, async () => {
      // soft-closed: commits are missed too (a rejoin catches up), as upstream
      if (this.selfOffline && !this.passesWhileOffline(p.session!.sessionMessageType)) return;
      if (this.role === "participant") {
        if (!(await participant.applyMls(this, p))) return;
        if (MLS_CHANGES.has(p.session!.sessionMessageType)) saved_.saveSoon(this);
      }
      this.handle(msg, p);
    }, () => {
      if (this.reliable === undefined || p.session!.sessionMessageType !== SessionMessageType.MSG) return false;
      const sender = this.senders.of(p.header!.source);
      return sender !== undefined && this.receiver.has(sender.key, p.session!.messageId);
    });
  }

  /** Names and table keys of recent senders. */
  private readonly senders = new SenderNames((_wire, name) => memberKey(name));

  private handle(msg: ProtoMessage, p: ProtoPublish): void {
    if (this.state === "closed") return;
    const h = p.header!;
    const id = p.session!.messageId;
    const type = p.session!.sessionMessageType;
    const sender = this.senders.of(h.source);
    if (sender === undefined) return;
    const { name: source, key: from } = sender;
    presence.heard(this, from);
    // soft-closed: only what answers our own state changes, and the group ending, get through
    if (this.selfOffline && !this.passesWhileOffline(type)) return;
    switch (type) {
      case SessionMessageType.MSG:
      case SessionMessageType.RTX_REPLY:
        return data_.onData(this, msg, p, source, type, from);
      case SessionMessageType.MSG_ACK:
        return this.sender.onAck(id, from);
      case SessionMessageType.RTX_REQUEST:
        return this.sender.onRtxRequest(id, from, h.incomingConn);
      case SessionMessageType.DISCOVERY_REPLY:
      case SessionMessageType.JOIN_REPLY:
      case SessionMessageType.LEAVE_REPLY:
        this.control.settle(id, msg);
        return;
      case SessionMessageType.GROUP_ACK:
        if (!this.acks.ack(id, from)) this.control.settle(id, msg);
        return;
      case SessionMessageType.LEAVE_REQUEST:
        if (this.role === "moderator") return moderator.onMemberLeaving(this, id, source, h.incomingConn);
        return participant.onLeaveRequest(this, id, source, h.incomingConn);
      case SessionMessageType.JOIN_REQUEST:
        if (this.role === "participant") participant.replyJoin(this, id, h.incomingConn);
        return;
      case SessionMessageType.GROUP_WELCOME:
        if (this.role === "participant") participant.onWelcome(this, p, source);
        return;
      case SessionMessageType.GROUP_UPDATE:
        if (this.role === "participant") participant.onUpdate(this, p, source);
        return;
      case SessionMessageType.GROUP_CLOSE:
        if (this.role === "participant") participant.onClose(this, id, source, h.incomingConn);
        return;
      case SessionMessageType.UPDATE_PARTICIPANT_STATE:
        return presence.onStateUpdate(this, p, source);
      case SessionMessageType.HEARTBEAT:
        return presence.onHeartbeat(this, source, p);
      case SessionMessageType.GROUP_NACK:
        // (with MLS a NACK to our rejoin means a new epoch: REJOIN_REQUEST follows)
        this.acks.nack(id, from);
        return;
      case SessionMessageType.REJOIN_REQUEST:
        if (this.role === "moderator" && this.mls !== undefined) moderator.onRejoinRequest(this, p, source);
        return;
      case SessionMessageType.REJOIN_REPLY:
        // the Welcome in it was applied on the way in
        this.reply(SessionMessageType.GROUP_ACK, id, source, h.incomingConn, { case: "groupAck", value: {} });
        this.control.settle(id, msg);
        return;
      default:
        return;
    }
  }

  /** @internal */
  pushInbound(m: SessionMessage): void {
    if (!this.inbox.push(m)) this.inbox.fail(new SlimError("SLOW_CONSUMER", `session ${this.sessionId}: more than ${DEFAULT_MAX_PENDING_MESSAGES} messages unread`));
  }

  // ---- app API -----------------------------------------------------------------

  /**
   * Send `data` (bytes, or a string sent as UTF-8) to every member. Reliable sessions
   * resolve when every member acked it (or went silent); unreliable ones once it is
   * handed to the datapath.
   */
  publish(data: Uint8Array | string, options: SessionPublishOptions = {}): Promise<void> {
    return data_.publish(this, data, options);
  }

  /** What a soft-closed member still handles (while rejoining, also the update that re-admits it). */
  private passesWhileOffline(type: number): boolean {
    return PASS_WHILE_OFFLINE.has(type) || (this.rejoining && type === SessionMessageType.GROUP_UPDATE);
  }

  /** @internal Why the app may not send now, if it may not. */
  refusal(): SlimError | undefined {
    if (this.state !== "open") return this.closeError ?? new SlimError(this.state === "joining" ? "SESSION" : "CLOSED", `session is ${this.state}`);
    if (this.selfOffline) return new SlimError("SESSION", "this member is offline (soft close): rejoin() first");
    return undefined;
  }

  /**
   * A direct message to one member (upstream's publish_to; what `msg.reply()` uses): only
   * `to` gets it; in a reliable session it resolves once `to` acked it.
   */
  replyTo(to: Name, data: Uint8Array | string, options: SessionPublishOptions = {}): Promise<void> {
    return data_.replyTo(this, to, data, options);
  }

  [Symbol.asyncIterator](): AsyncIterator<SessionMessage> {
    return this.inbox[Symbol.asyncIterator]();
  }

  /** Moderator: invite `name` (`org/ns/svc`, any instance); resolves once it joined. */
  invite(name: Name | string): Promise<void> {
    return moderator.invite(this, name);
  }

  /** Moderator: remove the member of service `name`; resolves once it left. */
  remove(name: Name | string): Promise<void> {
    return moderator.remove(this, name);
  }

  /**
   * Hard (default): the moderator ends the group (GROUP_CLOSE to everyone), a participant
   * leaves it. Soft: go offline but stay a member (the others stop expecting our acks and
   * we receive nothing) until rejoin().
   */
  async close(options: CloseOptions = {}): Promise<void> {
    if (options.mode === "soft") return presence.goOffline(this);
    if (this.state === "closed" || this.state === "closing") return this.closedPromise;
    const wasOpen = this.state === "open";
    this.state = "closing";
    try {
      if (wasOpen) {
        if (this.role === "moderator") await moderator.closeGroup(this);
        else await participant.leave(this);
      }
    } catch {
      // the others are gone; closing goes on
    }
    this.finish(new SlimError("CLOSED", "session closed"));
  }

  /** MLS epoch of the group (undefined without MLS). */
  get epoch(): bigint | undefined {
    return this.mls?.epoch;
  }

  /**
   * Moderator: new keys for every member (an MLS commit with an update path); what is sent after
   * it cannot be opened with the old epoch's keys. Refused when a member is an official app, which
   * cannot process it. Resolves with the new epoch.
   */
  rotateKeys(): Promise<bigint> {
    return moderator.rotateKeys(this);
  }

  /** Back online after a soft close; resolves once the other members acked (or the retries ran out). */
  rejoin(): Promise<void> {
    return presence.rejoin(this);
  }

  /** @internal Local teardown, once; unsubscribes the channels in the background. */
  finish(err: SlimError): void {
    if (this.state === "closed") return;
    const subscribed = this.role === "moderator" || this.state !== "joining";
    this.state = "closed";
    this.closeError = err;
    clearInterval(this.heartbeat);
    clearInterval(this.rotation);
    this.control.failAll(err);
    this.acks.close();
    this.sender.close(err);
    for (const p of this.parked.splice(0)) p.reject(err);
    this.receiver.close();
    this.feed.end();
    this.mls?.close();
    if (err.code === "CLOSED") this.inbox.end();
    else this.inbox.fail(err);
    this.host.forget(this.sessionId);
    if (this.pipe !== undefined) this.host.linger?.(this.pipe.flushed());
    this.host.holdInput(this.sessionId, false);
    if (subscribed) {
      void this.host.leaveChannel(this.channels.data).catch(() => undefined);
      void this.host.leaveChannel(this.channels.control).catch(() => undefined);
    }
    this.resolveClosed();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

const sameName = (a: Name, b: Name): boolean => memberKey(a) === memberKey(b);

/** Messages that may change a participant's MLS group. */
const MLS_CHANGES = new Set<number>([SessionMessageType.GROUP_UPDATE, SessionMessageType.REJOIN_REPLY]);

/** What a soft-closed member still handles. */
const PASS_WHILE_OFFLINE = new Set<number>([
  SessionMessageType.GROUP_ACK,
  SessionMessageType.GROUP_NACK,
  SessionMessageType.REJOIN_REPLY,
  SessionMessageType.GROUP_CLOSE,
  SessionMessageType.LEAVE_REQUEST,
  SessionMessageType.LEAVE_REPLY,
]);
