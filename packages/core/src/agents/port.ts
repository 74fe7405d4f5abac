// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// One session as an agent uses it. A session has a single reader, so the port
// is it: a SessionMux takes requests, replies and token streams; voting (on
// group sessions) takes vote traffic; every other message lands, as an
// envelope, in the agent's inbox. Streams are handed out by id, so a caller
// can wait for the token stream belonging to its own request.

import { SlimError } from "../errors.js";
import { SessionMux, type IncomingStream } from "../patterns/mux.js";
import type { GroupSession } from "../session/group/session.js";
import type { P2PSession } from "../session/p2p.js";
import type { SessionMessage } from "../session/types.js";
import { parkUntilAborted, withDeadline, type AbortOptions } from "../util/abort.js";
import type { VoteInvitation } from "../voting/participant.js";
import { attachVoting, type SessionVoting } from "../voting/session.js";
import { ENVELOPE_ID_KEY, envelopeOf, outboundEnvelope, type SlimEnvelope } from "./envelope.js";
import type { Inbox } from "./inbox.js";

/** Streams that arrived before anyone asked for them, kept per port. */
const MAX_PARKED_STREAMS = 64;
const DEFAULT_STREAM_WAIT_MS = 30_000;

export interface SessionPortOptions {
  /** Our own full name (e.g. `app.name`). */
  self: string;
  inbox: Inbox;
  /** Take part in votes on this session; default: group sessions only. */
  voting?: boolean;
}

type Session = P2PSession | GroupSession;
type Waiter<T> = { resolve: (v: T) => void; reject: (e: unknown) => void };

export class SessionPort {
  readonly mux: SessionMux;
  readonly voting: SessionVoting | undefined;
  /** The peer's service (p2p) or the group channel (group): what envelopes name in `to`. */
  readonly label: string;
  /** Resolves when the session's messages end. */
  readonly done: Promise<void>;
  private readonly self: string;
  private readonly parked = new Map<string, IncomingStream>();
  private readonly streamWaiters = new Map<string, Waiter<IncomingStream>>();
  private readonly votes = new Map<string, VoteInvitation>();
  private readonly voteWaiters: Array<Waiter<VoteInvitation>> = [];
  private readonly unclaimedVotes: VoteInvitation[] = [];
  private ended: SlimError | undefined;

  constructor(
    readonly session: Session,
    private readonly options: SessionPortOptions,
  ) {
    this.self = options.self;
    this.label = session.kind === "group" ? session.channels.data.withoutId().toString() : session.peer.withoutId().toString();
    this.mux = new SessionMux(session);
    const wantVoting = options.voting ?? session.kind === "group";
    this.voting = wantVoting
      ? attachVoting(session, { self: this.self, inbound: this.mux.messages(), ...(session.kind === "group" ? { moderator: session.moderator } : {}) })
      : undefined;
    const plain: AsyncIterable<SessionMessage> = this.voting?.messages() ?? this.mux.messages();
    this.done = Promise.all([this.pumpMessages(plain), this.pumpStreams(), this.pumpVotes()]).then(() => this.finish());
  }

  private async pumpMessages(source: AsyncIterable<SessionMessage>): Promise<void> {
    try {
      for await (const m of source) this.options.inbox.push(envelopeOf(m, { sessionId: this.session.sessionId, to: this.label }));
    } catch {
      // the session failed; finish() reports it to waiters
    }
  }

  private async pumpStreams(): Promise<void> {
    try {
      for await (const s of this.mux.incoming()) {
        const w = this.streamWaiters.get(s.id);
        if (w !== undefined) {
          this.streamWaiters.delete(s.id);
          w.resolve(s);
          continue;
        }
        this.parked.set(s.id, s);
        // nobody claimed the oldest: drop it (its frames are discarded with it)
        if (this.parked.size > MAX_PARKED_STREAMS) this.parked.delete(this.parked.keys().next().value as string);
      }
    } catch {
      // as above
    }
  }

  private async pumpVotes(): Promise<void> {
    if (this.voting === undefined) return;
    try {
      for await (const inv of this.voting.invitations()) {
        this.votes.set(inv.proposal.id, inv);
        const w = this.voteWaiters.shift();
        if (w !== undefined) w.resolve(inv);
        else this.unclaimedVotes.push(inv);
        const forget = () => {
          this.votes.delete(inv.proposal.id);
          const i = this.unclaimedVotes.indexOf(inv);
          if (i >= 0) this.unclaimedVotes.splice(i, 1);
        };
        void inv.result().then(forget, forget);
      }
    } catch {
      // as above
    }
  }

  private finish(): void {
    this.ended = new SlimError("CLOSED", `session ${this.label} ended`);
    for (const w of this.streamWaiters.values()) w.reject(this.ended);
    this.streamWaiters.clear();
    for (const w of this.voteWaiters.splice(0)) w.reject(this.ended);
  }

  get kind(): "p2p" | "group" {
    return this.session.kind;
  }

  /**
   * Publish `text` to the peer (or the whole group) with a fresh envelope id in
   * the metadata, so the receiver logs it under the same id; returns the envelope.
   */
  async publish(text: string, options: AbortOptions & { id?: string; payloadType?: string; metadata?: Record<string, string> } = {}): Promise<SlimEnvelope> {
    const env = outboundEnvelope(this.self, this.label, text, {
      ...(options.id === undefined ? {} : { id: options.id }),
      ...(options.payloadType === undefined ? {} : { payloadType: options.payloadType }),
    });
    await this.session.publish(new TextEncoder().encode(text), {
      payloadType: env.payloadType,
      metadata: { ...options.metadata, [ENVELOPE_ID_KEY]: env.id },
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    return env;
  }

  /** The token stream with this id, once it starts (it may already have). */
  stream(id: string, options: AbortOptions = {}): Promise<IncomingStream> {
    const ready = this.parked.get(id);
    if (ready !== undefined) {
      this.parked.delete(id);
      return Promise.resolve(ready);
    }
    if (this.ended !== undefined) return Promise.reject(this.ended);
    return withDeadline(`stream ${id}`, options, DEFAULT_STREAM_WAIT_MS, (signal) => {
      return new Promise<IncomingStream>((resolve, reject) => {
        this.streamWaiters.set(id, { resolve, reject });
        signal.addEventListener("abort", () => this.streamWaiters.delete(id), { once: true });
      });
    });
  }

  /** Votes open on this session that we have not seen a result for yet. */
  openVotes(): VoteInvitation[] {
    return [...this.votes.values()];
  }

  /** A vote by proposal id, while it is open. */
  vote(proposalId: string): VoteInvitation | undefined {
    return this.votes.get(proposalId);
  }

  /** The next vote opened on this session (an open one not yet handed out counts). */
  nextVote(options: AbortOptions = {}): Promise<VoteInvitation> {
    if (this.voting === undefined) return Promise.reject(new SlimError("INVALID_ARGUMENT", `voting is off on ${this.label}`));
    const ready = this.unclaimedVotes.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.ended !== undefined) return Promise.reject(this.ended);
    return withDeadline("vote wait", options, DEFAULT_STREAM_WAIT_MS, (signal) => {
      return new Promise<VoteInvitation>((resolve, reject) => parkUntilAborted(this.voteWaiters, { resolve, reject }, signal));
    });
  }

  /** Stop voting and close the session. */
  async close(): Promise<void> {
    await this.voting?.close();
    await this.session.close();
    await this.done;
  }
}
