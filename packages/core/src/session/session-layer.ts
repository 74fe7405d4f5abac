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
import { SessionMessageType, SessionType, type ProtoMessage, type ProtoPublish } from "../wire/gen/dataplane.js";
import { fromProtoName } from "../wire/names.js";
import { buildPublish, commandOf, publishOf, stamp } from "./build.js";
import { P2PSession, type SessionHost } from "./p2p.js";

export const MAX_PENDING_SESSIONS = 128;

export class SessionLayer implements SessionHost {
  readonly sessions = new Map<number, P2PSession>();
  readonly incoming = new AsyncQueue<P2PSession>(MAX_PENDING_SESSIONS);
  private readonly awaitingWelcome = new Set<number>();
  private readonly log: Logger;
  private readonly pumping: Promise<void>;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly provider: IdentityProvider,
    private readonly verifier: IdentityVerifier,
    logger: Logger = noopLogger,
  ) {
    this.log = logger.child("session");
    this.pumping = this.pump();
  }

  get name(): Name {
    return this.endpoint.name;
  }

  private async pump(): Promise<void> {
    try {
      for await (const msg of this.endpoint.messages()) {
        try {
          this.dispatch(msg);
        } catch (err) {
          this.log.warn("session message dropped", { error: SlimError.from(err).message });
        }
      }
    } catch (err) {
      this.log.warn("session pump ended", { error: SlimError.from(err).message });
    }
  }

  send(msg: ProtoMessage): void {
    this.endpoint.submit(stamp(msg, this.provider));
  }

  route(name: Name, viaConn: number | undefined): void {
    if (viaConn === undefined) return;
    this.endpoint.route(name, viaConn).catch((err: unknown) => this.log.warn("route failed", { error: SlimError.from(err).message }));
  }

  /** Install a local route and wait until the datapath acked it. */
  routeVia(name: Name, conn: number): Promise<void> {
    return this.endpoint.route(name, conn);
  }

  forget(sessionId: number): void {
    this.sessions.delete(sessionId);
    this.awaitingWelcome.delete(sessionId);
  }

  add(session: P2PSession): void {
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
      if (type === SessionMessageType.GROUP_WELCOME && this.awaitingWelcome.delete(sid)) {
        if (!this.incoming.push(existing)) existing.finish(new SlimError("SESSION", "too many sessions waiting to be accepted"));
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
        source: { ...this.toWire() },
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

  private toWire() {
    const n = this.endpoint.name;
    return {
      name: {
        component0: n.hashes[0],
        component1: n.hashes[1],
        component2: n.hashes[2],
        nameId: { id0: n.id >> 64n, id1: n.id & ((1n << 64n) - 1n) },
      },
      strName: { strComponent0: n.components[0], strComponent1: n.components[1], strComponent2: n.components[2] },
    };
  }

  private onJoin(msg: ProtoMessage, p: ProtoPublish): void {
    const s = p.session!;
    if (s.sessionType !== SessionType.POINT_TO_POINT) {
      this.log.info("group invitations are not supported yet; join request dropped", { sessionId: s.sessionId });
      return;
    }
    const cmd = commandOf(p);
    if (cmd?.case !== "joinRequest") return;
    const peer = fromProtoName(p.header!.source);
    if (peer === undefined) return;
    const timers = cmd.value.timerSettings;
    const reliable = timers === undefined ? undefined : { intervalMs: timers.timeout, maxRetries: timers.maxRetries };
    const metadata = Object.fromEntries(msg.metadata);
    const session = new P2PSession(this, s.sessionId, false, peer, reliable, metadata);
    this.add(session);
    const conn = p.header!.incomingConn === undefined ? undefined : Number(p.header!.incomingConn);
    this.route(peer, conn);
    this.awaitingWelcome.add(s.sessionId);
    session.replyJoin(s.messageId, p.header!.incomingConn);
  }

  async close(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.close()));
    this.incoming.end();
    await this.endpoint.close();
    await this.pumping;
  }
}
