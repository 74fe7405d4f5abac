// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A point-to-point session, either side: the initiator runs discovery, join,
// welcome; the responder is created from a JOIN_REQUEST. Data flows through a
// DataSender / DataReceiver pair; close is GROUP_CLOSE (initiator) or
// LEAVE_REQUEST (responder).

import { SlimError } from "../errors.js";
import type { Logger } from "../log.js";
import { ANY_ID, Name } from "../names/name.js";
import { AsyncQueue } from "../util/async-queue.js";
import { SessionMessageType, SessionType, type ProtoMessage, type ProtoName, type ProtoPublish } from "../wire/gen/dataplane.js";
import { protoNameOf, fromProtoName, toProtoName } from "../wire/names.js";
import { SenderNames } from "./sender-names.js";
import { appPayloadOf, buildPublish, commandOf, publishOf, randomMessageId, type PublishSpec } from "./build.js";
import { ControlRequests, DEFAULT_CONTROL_INTERVAL_MS, DEFAULT_CONTROL_RETRIES } from "./control.js";
import { DataReceiver } from "./receiver.js";
import { bounded, sendOutbound, SessionOutput, whenWritable } from "./outbound.js";
import { DataSender, MAX_IN_FLIGHT, MAX_IN_FLIGHT_MLS, type OutboundData } from "./sender.js";
import { EventFeed } from "./events.js";
import { MlsPipe } from "./mls-pipe.js";
import type { SessionMls } from "./mls-session.js";
import { ReceivedMessage, type Replier } from "./message.js";
import type { Checkpoints } from "../persist/checkpoints.js";
import type { SavedSession } from "../persist/session-record.js";
import type { ParticipantEvent, ReliableOptions, SessionMessage, SessionPublishOptions } from "./types.js";

export const DEFAULT_MAX_PENDING_MESSAGES = 10_000;
/** As upstream: a heartbeat every 10 s of silence; 3 missed ticks and the peer is offline. */
export const HEARTBEAT_INTERVAL_MS = 10_000;
export const MAX_MISSED_HEARTBEATS = 3;
const NO_EPOCH = (1n << 64n) - 1n;

/** What a session needs from its app. */
export interface SessionHost {
  readonly name: Name;
  /** Stamp (identity token, header signature) and submit. */
  send(msg: ProtoMessage): void;
  /** The two halves of send(), for MLS sessions that seal a stamped message before submitting it. */
  stamp(msg: ProtoMessage): ProtoMessage;
  submit(msg: ProtoMessage): void;
  /** Verify the token and header signature of a command message (MLS sessions); false: drop it. */
  verifyCommand(p: ProtoPublish): boolean;
  readonly log?: Logger;
  /** A finished session's queued output: the app's close waits for it (bounded). */
  linger?(flushed: Promise<void>): void;
  /** Route `name` (with id) towards the connection a message arrived on. */
  route(name: Name, viaConn: number | undefined): void;
  forget(sessionId: number): void;
  /** Hold (or release) the app's input while a session's unread backlog is high. */
  holdInput(sessionId: number, hold: boolean): void;
  /** Run `send` when the app's links can take more output (in call order). */
  runWhenWritable(send: () => void): void;
}

const key = (p: ProtoName | undefined): string => {
  const e = p?.name;
  return e === undefined ? "?" : `${e.component0}.${e.component1}.${e.component2}.${e.nameId?.id0}.${e.nameId?.id1}`;
};

export class P2PSession implements AsyncIterable<SessionMessage>, AsyncDisposable, Replier {
  readonly kind = "p2p" as const;
  readonly metadata: Record<string, string>;
  private peerName: Name;
  private peerConn: number | undefined;
  /** @internal */ readonly control: ControlRequests;
  private readonly sender: DataSender;
  private readonly receiver: DataReceiver<SessionMessage>;
  private readonly inbox: AsyncQueue<SessionMessage>;
  private state: "joining" | "open" | "closing" | "closed" = "joining";
  private closeError: SlimError | undefined;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;
  /** Resolves when the session is open (responder: its welcome processed). */
  readonly opened: Promise<void>;
  private resolveOpened!: () => void;
  private heartbeat: NodeJS.Timeout | undefined;
  private sentSinceTick = false;
  private missedTicks = 0;
  private readonly feed = new EventFeed();
  /** MLS sessions: sealing out, opening in, both in order. */
  private readonly pipe: MlsPipe | undefined;
  /** Responder: the JOIN_REPLY we sent (a resent JOIN_REQUEST gets the same answer). */
  private joinReply: ProtoMessage | undefined;
  /** @internal the app saves this session for restore (persistence on, session open) */ saves: Checkpoints | undefined;
  /** @internal stopped locally with its record kept (the app closing), not ended */ suspended = false;
  private readonly output: SessionOutput;

  constructor(
    private readonly host: SessionHost,
    readonly sessionId: number,
    readonly initiator: boolean,
    peer: Name,
    readonly reliable: ReliableOptions | undefined,
    metadata: Record<string, string>,
    private readonly heartbeatIntervalMs: number = HEARTBEAT_INTERVAL_MS,
    /** The session's MLS state when MLS is on. */
    readonly mls?: SessionMls,
  ) {
    if (mls !== undefined) this.pipe = new MlsPipe(host, mls, host.log, () => this.saves);
    this.output = new SessionOutput(host);
    this.peerName = peer;
    this.heartbeat = setInterval(() => this.tick(), heartbeatIntervalMs);
    this.heartbeat.unref();
    this.metadata = metadata;
    this.control = new ControlRequests(reliable?.intervalMs ?? DEFAULT_CONTROL_INTERVAL_MS, reliable?.maxRetries ?? DEFAULT_CONTROL_RETRIES);
    this.inbox = new AsyncQueue(DEFAULT_MAX_PENDING_MESSAGES);
    // a reader that falls behind slows the senders down instead of failing the session
    this.inbox.setWatermarks(
      DEFAULT_MAX_PENDING_MESSAGES / 2,
      DEFAULT_MAX_PENDING_MESSAGES / 8,
      () => host.holdInput(sessionId, true),
      () => host.holdInput(sessionId, false),
    );
    this.closedPromise = new Promise((r) => (this.resolveClosed = r));
    this.opened = new Promise((r) => (this.resolveOpened = r));
    this.sender = new DataSender(
      {
        send: (id, data, _to, asRtx, forwardTo) => this.sendData(id, data, asRtx, forwardTo),
        sendLost: (id, _to, forwardTo) =>
          this.emit({ type: SessionMessageType.RTX_REPLY, messageId: id, error: true, ...(forwardTo === undefined ? {} : { forwardTo }) }),
        endpointsSilent: () => this.peerLost(new SlimError("SESSION", `participant disconnected: ${this.peerName.toString()}`), "did not acknowledge data"),
      },
      reliable,
      () => [this.peerKey],
      mls === undefined ? MAX_IN_FLIGHT : MAX_IN_FLIGHT_MLS,
    );
    this.receiver = new DataReceiver<SessionMessage>(
      {
        deliver: (m) => this.pushInbound(m),
        lost: (_source, id, count) => this.feed.lost(this.peerName, id, count),
        requestRtx: (id) => this.emit({ type: SessionMessageType.RTX_REQUEST, messageId: id, ...this.forwardHint() }),
      },
      reliable,
      1,
    );
  }

  /** The peer, with its instance id once known. */
  get peer(): Name {
    return this.peerName;
  }

  get closed(): Promise<void> {
    return this.closedPromise;
  }

  /** Senders' Names and table keys (the peer's, nearly always), kept instead of rebuilt per message. */
  private readonly senders = new SenderNames((wire) => key(wire));

  /** The table key of a message's sender. */
  private keyOf(source: ProtoName | undefined): string {
    return this.senders.of(source)?.key ?? key(source);
  }

  /** The peer's key in the sender and receiver tables. */
  private get peerKey(): string {
    return this.keyOf(protoNameOf(this.peerName));
  }

  private forwardHint(): { forwardTo?: bigint } {
    return this.peerConn === undefined ? {} : { forwardTo: BigInt(this.peerConn) };
  }

  private emit(spec: Partial<PublishSpec> & { type: SessionMessageType; messageId: number }, to: Name = this.peerName): void | Promise<void> {
    return this.out(this.build(spec, to));
  }

  private build(spec: Partial<PublishSpec> & { type: SessionMessageType; messageId: number }, to: Name): ProtoMessage {
    return buildPublish({
      source: protoNameOf(this.host.name),
      destination: protoNameOf(to),
      sessionType: SessionType.POINT_TO_POINT,
      sessionId: this.sessionId,
      ...spec,
    });
  }

  /** Out to the datapath: stamped at once, or (MLS) through the sealing lane. */
  private out(msg: ProtoMessage): void | Promise<void> {
    this.sentSinceTick = true;
    return this.pipe === undefined ? this.output.send(msg, this.saves) : this.pipe.send(msg);
  }

  // ---- persistence --------------------------------------------------------

  /** @internal What a restart needs (the MLS group comes separately). */
  saved(): SavedSession {
    return {
      kind: "p2p",
      sessionId: this.sessionId,
      initiator: this.initiator,
      peer: this.peerName.toString(),
      ...(this.reliable === undefined ? {} : { reliable: { ...this.reliable } }),
      metadata: { ...this.metadata },
      lastDataId: this.sender.lastId,
      ...(this.mls === undefined ? {} : { mls: this.mls.saved() }),
    };
  }

  /** @internal A restored session: open, going on after the ids it used. */
  resume(saved: Extract<SavedSession, { kind: "p2p" }>): void {
    this.sender.resumeAfter(saved.lastDataId);
    this.receiver.acceptAnyStart();
    this.state = "open";
    this.resolveOpened();
  }

  private sendData(id: number, data: OutboundData, asRtx: boolean, forwardTo?: bigint): void | Promise<void> {
    return this.emit({
      type: asRtx ? SessionMessageType.RTX_REPLY : SessionMessageType.MSG,
      messageId: id,
      app: { payloadType: data.payloadType, blob: data.blob },
      metadata: data.metadata,
      ...(forwardTo === undefined ? {} : { forwardTo }),
    });
  }

  // ---- initiator ----------------------------------------------------------

  /** Discovery, join, welcome; resolves once the peer acked the welcome. */
  async establish(metadata: Map<string, string>): Promise<void> {
    // the MLS group is made while discovery runs (upstream makes it on the first reply)
    const creating = this.mls?.create();
    creating?.catch(() => undefined);
    const discoveryId = randomMessageId();
    const reply = await this.control.request(discoveryId, "discovery", () =>
      this.emit({ type: SessionMessageType.DISCOVERY_REQUEST, messageId: discoveryId, command: { case: "discoveryRequest", value: {} } }, this.peerName.withoutId()),
    );
    const rp = reply.messageType.case === "publish" ? reply.messageType.value : undefined;
    const found = fromProtoName(rp?.header?.source);
    if (found === undefined) throw new SlimError("PROTOCOL", "discovery reply without a source name");
    this.peerName = found;
    this.peerConn = rp?.header?.incomingConn === undefined ? undefined : Number(rp.header.incomingConn);
    this.host.route(found, this.peerConn);
    await creating;

    const joinId = randomMessageId();
    const joinReply = await this.control.request(joinId, "join", () =>
      this.emit({
        type: SessionMessageType.JOIN_REQUEST,
        messageId: joinId,
        metadata,
        command: {
          case: "joinRequest",
          value: {
            ...(this.reliable === undefined ? {} : { timerSettings: { timeout: this.reliable.intervalMs, maxRetries: this.reliable.maxRetries } }),
            ...(this.mls === undefined ? {} : { mlsSettings: { headerIntegrityValidationPercent: this.mls.headerIntegrityPercent } }),
          },
        },
      }),
    );
    let welcomeMls: { commitId: number; mlsContent: Uint8Array } | undefined;
    if (this.mls !== undefined) {
      const jr = commandOf(publishOf(joinReply)!);
      const kp = jr?.case === "joinReply" ? jr.value.keyPackage : undefined;
      if (kp === undefined || kp.length === 0) throw new SlimError("MLS", `${this.peerName.toString()} joined without a key package: it does not do MLS`);
      const added = await this.mls.add(this.peerKey, kp);
      welcomeMls = { commitId: added.commitId, mlsContent: added.welcome };
    }
    const welcomeId = randomMessageId();
    const participants = [this.host.name, this.peerName].map((n) => ({
      name: toProtoName(n),
      settings: { sendsData: true, receivesData: true },
      status: 0 as const,
    }));
    await this.control.request(welcomeId, "welcome", () =>
      this.emit({
        type: SessionMessageType.GROUP_WELCOME,
        messageId: welcomeId,
        command: { case: "groupWelcome", value: { participants, ...(welcomeMls === undefined ? {} : { mls: welcomeMls }) } },
      }),
    );
    this.state = "open";
    this.resolveOpened();
  }

  /** Heartbeat tick: count silence from the peer; speak up if we said nothing since the last tick. */
  private tick(): void {
    if (this.state !== "open") return;
    if (++this.missedTicks >= MAX_MISSED_HEARTBEATS) {
      const silentS = Math.round((MAX_MISSED_HEARTBEATS * this.heartbeatIntervalMs) / 1000);
      return this.peerLost(new SlimError("SESSION", `participant disconnected: ${this.peerName.toString()} (no heartbeat)`), `no heartbeat for ${silentS} s`);
    }
    if (!this.sentSinceTick) {
      this.emit({ type: SessionMessageType.HEARTBEAT, messageId: randomMessageId(), command: { case: "heartbeat", value: { epoch: this.mls?.epoch ?? NO_EPOCH } } });
    }
    this.sentSinceTick = false;
  }

  // ---- inbound ------------------------------------------------------------

  /** Every message of this session that reached the app (MLS sessions: opened and checked first, in order). */
  onMessage(msg: ProtoMessage, p: ProtoPublish): void {
    if (this.pipe === undefined) return this.handle(msg, p);
    this.pipe.receive(p, async () => {
      const type = p.session!.sessionMessageType;
      if (type === SessionMessageType.GROUP_WELCOME && this.state === "joining") await this.joinMls(p);
      this.handle(msg, p);
    }, () => this.reliable !== undefined && p.session!.sessionMessageType === SessionMessageType.MSG && this.receiver.has(this.keyOf(p.header!.source), p.session!.messageId));
  }

  /** Responder with MLS: enter the group with the initiator's Welcome. */
  private async joinMls(p: ProtoPublish): Promise<void> {
    const cmd = commandOf(p);
    const m = cmd?.case === "groupWelcome" ? cmd.value.mls : undefined;
    if (m === undefined) throw new SlimError("MLS", "welcome without MLS content in an MLS session");
    await this.mls!.join(m.mlsContent, m.commitId);
  }

  private handle(msg: ProtoMessage, p: ProtoPublish): void {
    const h = p.header!;
    const s = p.session!;
    const id = s.messageId;
    const type = s.sessionMessageType;
    const sender = this.senders.of(h.source);
    const from = sender?.key ?? key(h.source);
    this.missedTicks = 0; // anything from the peer shows it is alive
    if (h.incomingConn !== undefined && this.peerConn === undefined) this.peerConn = Number(h.incomingConn);
    switch (type) {
      case SessionMessageType.MSG:
      case SessionMessageType.RTX_REPLY: {
        const app = appPayloadOf(p);
        if (app === undefined) return;
        const source = sender?.name ?? this.peerName;
        if (type === SessionMessageType.MSG && this.reliable !== undefined) {
          this.emit({ type: SessionMessageType.MSG_ACK, messageId: id, ...this.forwardHint() }, source);
        }
        if (type === SessionMessageType.RTX_REPLY && h.error === true) return this.receiver.onLost(from, id);
        const metadata: Record<string, string> = {};
        for (const [k, v] of msg.metadata) if (k !== "PUBLISH_TO") metadata[k] = v;
        return this.receiver.onData(from, id, new ReceivedMessage(source, app.payloadType === "" ? "msg" : app.payloadType, metadata, app.blob, id, this));
      }
      case SessionMessageType.MSG_ACK:
        return this.sender.onAck(id, from);
      case SessionMessageType.RTX_REQUEST:
        return this.sender.onRtxRequest(id, from, h.incomingConn);
      case SessionMessageType.DISCOVERY_REPLY:
      case SessionMessageType.JOIN_REPLY:
      case SessionMessageType.GROUP_ACK:
      case SessionMessageType.LEAVE_REPLY:
        this.control.settle(id, msg);
        return;
      case SessionMessageType.JOIN_REQUEST:
        // a resend of the request that created us: the same answer again
        if (this.joinReply !== undefined) void this.out(this.joinReply);
        return;
      case SessionMessageType.GROUP_WELCOME:
        if (this.state === "joining") {
          this.state = "open";
          this.resolveOpened();
        }
        return void this.emit({ type: SessionMessageType.GROUP_ACK, messageId: id, command: { case: "groupAck", value: {} } });
      case SessionMessageType.GROUP_CLOSE:
        this.emit({ type: SessionMessageType.GROUP_ACK, messageId: id, command: { case: "groupAck", value: {} } });
        if (this.state !== "closed") this.feed.emit("left", this.peerName, "closed the session");
        return this.finish(new SlimError("CLOSED", "session closed by the peer"));
      case SessionMessageType.LEAVE_REQUEST:
        this.emit({ type: SessionMessageType.LEAVE_REPLY, messageId: id, command: { case: "leaveReply", value: {} } });
        return this.peerLost(new SlimError("SESSION", `participant disconnected: ${this.peerName.toString()}`), "left the session");
      case SessionMessageType.HEARTBEAT:
        return;
      default:
        void commandOf;
        return;
    }
  }

  /** Responder: answer the JOIN_REQUEST that created this session (with a key package when MLS is on). */
  async replyJoin(messageId: number, incomingConn: bigint | undefined): Promise<void> {
    const keyPackage = this.mls === undefined ? undefined : await this.mls.keyPackage();
    this.joinReply = this.build(
      {
        type: SessionMessageType.JOIN_REPLY,
        messageId,
        ...(incomingConn === undefined ? {} : { forwardTo: incomingConn }),
        command: {
          case: "joinReply",
          value: {
            participant: { name: toProtoName(this.host.name), settings: { sendsData: true, receivesData: true }, status: 0 },
            ...(keyPackage === undefined ? {} : { keyPackage }),
          },
        },
      },
      this.peerName,
    );
    void this.out(this.joinReply);
  }

  private pushInbound(m: SessionMessage): void {
    if (!this.inbox.push(m)) this.inbox.fail(new SlimError("SLOW_CONSUMER", `session ${this.sessionId}: more than ${DEFAULT_MAX_PENDING_MESSAGES} messages unread`));
  }

  private peerLost(err: SlimError, reason: string): void {
    if (this.state === "closed") return;
    this.feed.emit(reason === "left the session" ? "left" : "offline", this.peerName, reason);
    this.finish(err);
  }

  /** The peer leaving or going silent (the session ends right after). Iterate once. */
  events(): AsyncIterable<ParticipantEvent> {
    return this.feed.iterable();
  }

  /** Both sides, with whether the peer is reachable (false once the session ended). */
  members(): Array<{ name: Name; online: boolean }> {
    return [
      { name: this.host.name, online: this.state !== "closed" },
      { name: this.peerName, online: this.state === "open" || this.state === "closing" },
    ];
  }

  /** In a point-to-point session a reply is a plain publish: the peer is the only one listening. */
  replyTo(_to: Name, data: Uint8Array | string, options: SessionPublishOptions = {}): Promise<void> {
    return this.publish(data, options);
  }

  // ---- app API ------------------------------------------------------------

  /**
   * Send `data` (bytes, or a string sent as UTF-8) to the peer. Reliable sessions
   * resolve when the peer acked it (or went silent); unreliable ones once it is
   * handed to the datapath.
   */
  publish(data: Uint8Array | string, options: SessionPublishOptions = {}): Promise<void> {
    if (this.state === "closed" || this.state === "closing") {
      return Promise.reject(this.closeError ?? new SlimError("CLOSED", "session is closed"));
    }
    return sendOutbound(data, options, (out) => bounded(whenWritable(this.host, () => this.sender.publish(out)), this.reliable !== undefined, options, "publish"));
  }

  [Symbol.asyncIterator](): AsyncIterator<SessionMessage> {
    return this.inbox[Symbol.asyncIterator]();
  }

  /** Close the session: the initiator tells the peer GROUP_CLOSE, the responder asks to leave. */
  async close(): Promise<void> {
    if (this.state === "closed" || this.state === "closing") return this.closedPromise;
    const wasOpen = this.state === "open";
    this.state = "closing";
    if (wasOpen) {
      const id = randomMessageId();
      try {
        if (this.initiator) {
          const participants = [this.host.name, this.peerName].map((n) => toProtoName(n));
          await this.control.request(id, "close", () =>
            this.emit(
              { type: SessionMessageType.GROUP_CLOSE, messageId: id, fanout: 256, command: { case: "groupClose", value: { participants } } },
              this.peerName.withId(ANY_ID),
            ),
          );
        } else {
          await this.control.request(id, "leave", () =>
            this.emit({
              type: SessionMessageType.LEAVE_REQUEST,
              messageId: id,
              metadata: new Map([["LEAVING_SESSION", "TRUE"]]),
              command: { case: "leaveRequest", value: {} },
            }),
          );
        }
      } catch {
        // the peer is gone; closing goes on
      }
    }
    this.finish(new SlimError("CLOSED", "session closed"));
  }

  /** Local teardown, once. */
  finish(err: SlimError): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.closeError = err;
    clearInterval(this.heartbeat);
    this.control.failAll(err);
    this.sender.close(err);
    this.receiver.close();
    this.feed.end();
    this.mls?.close();
    if (err.code === "CLOSED") this.inbox.end();
    else this.inbox.fail(err);
    this.host.forget(this.sessionId);
    if (this.pipe !== undefined) this.host.linger?.(this.pipe.flushed());
    this.host.holdInput(this.sessionId, false);
    this.resolveClosed();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
