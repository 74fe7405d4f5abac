// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Votes over a session: the one place the voting code meets SLIM. It reads
// the session, hands vote messages (by payload type) to a moderator and a
// participant with the sender's authenticated name, and passes everything else
// on through messages(). Votes are published to the whole group.

import { SlimError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Name } from "../names/name.js";
import type { SessionMessage, SessionPublishOptions } from "../session/types.js";
import { AsyncQueue } from "../util/async-queue.js";
import type { AbortOptions } from "../util/abort.js";
import { VOTE_PAYLOAD_TYPE } from "./messages.js";
import { VoteModerator, type VoteRound } from "./moderator.js";
import { VoteParticipant, type VoteInvitation } from "./participant.js";
import type { ProposalInput } from "./proposal.js";

/** What the adapter needs from a session; a GroupSession fits, so does a P2P session. */
export interface VotingSession extends AsyncIterable<SessionMessage> {
  publish(data: Uint8Array | string, options?: SessionPublishOptions): Promise<void>;
  /** Current members (ours included), used for the default voter list. */
  participants?(): Name[];
}

export interface SessionVotingOptions {
  /** Our own full name (with its id), e.g. `app.name`. */
  self: Name | string;
  /** Take votes opened by this member only, e.g. a GroupSession's `moderator`. Default: any member. */
  moderator?: Name | string;
  /**
   * Read vote traffic from here instead of the session, when something else
   * already reads it (e.g. a SessionMux's `messages()`).
   */
  inbound?: AsyncIterable<SessionMessage>;
  /** Non-vote messages kept for `messages()`; default 10 000, then SLOW_CONSUMER. */
  maxPending?: number;
  logger?: Logger;
  now?: () => number;
  sendTimeoutMs?: number;
}

/** Proposal input for a session vote: `voters` defaults to every member but us. */
export type SessionProposalInput = Omit<ProposalInput, "voters"> & { voters?: ProposalInput["voters"] };

/**
 * Voting on one session. Once created it reads the session (or `inbound`)
 * until closed; closing stops that reading for good, as leaving a `for await`
 * over the session would.
 */
export class SessionVoting implements AsyncDisposable {
  readonly moderator: VoteModerator;
  readonly participant: VoteParticipant;
  /** Resolves when reading stops: undefined when the session ended or we closed, the error otherwise. */
  readonly closed: Promise<void | Error>;
  private readonly self: string;
  private readonly others: AsyncQueue<SessionMessage>;
  private stop: (() => void) | undefined;

  constructor(
    private readonly session: VotingSession,
    options: SessionVotingOptions,
  ) {
    this.self = options.self.toString();
    const send = (payload: Uint8Array, o: { signal: AbortSignal }) => session.publish(payload, { payloadType: VOTE_PAYLOAD_TYPE, signal: o.signal });
    const common = {
      self: this.self,
      send,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.sendTimeoutMs === undefined ? {} : { sendTimeoutMs: options.sendTimeoutMs }),
    };
    const trusted = options.moderator?.toString();
    this.moderator = new VoteModerator(common);
    this.participant = new VoteParticipant({ ...common, ...(trusted === undefined ? {} : { trust: (s: string) => s === trusted }) });
    this.others = new AsyncQueue(options.maxPending ?? 10_000);
    this.closed = this.read(options.inbound ?? session);
  }

  /** Open a vote as its moderator; see {@link VoteModerator.open}. */
  async open(input: SessionProposalInput, options: AbortOptions = {}): Promise<VoteRound> {
    let voters = input.voters;
    if (voters === undefined) {
      const members = this.session.participants?.();
      if (members === undefined) throw new SlimError("INVALID_ARGUMENT", "this session cannot list its members: give `voters`");
      voters = members.map(String).filter((n) => n !== this.self);
    }
    return this.moderator.open({ ...input, voters }, options);
  }

  /** Votes others open; see {@link VoteParticipant.invitations}. */
  invitations(): AsyncIterable<VoteInvitation> {
    return this.participant.invitations();
  }

  /** Every message that is not vote traffic, in arrival order. Iterate once. */
  messages(): AsyncIterable<SessionMessage> {
    return this.others;
  }

  private async read(source: AsyncIterable<SessionMessage>): Promise<void | Error> {
    const it = source[Symbol.asyncIterator]();
    this.stop = () => void it.return?.();
    let failure: SlimError | undefined;
    try {
      for (;;) {
        const r = await it.next();
        if (r.done === true) break;
        this.route(r.value);
      }
    } catch (err) {
      failure = SlimError.from(err, "RECEIVE");
    }
    this.moderator.close();
    this.participant.close();
    if (failure === undefined) this.others.end();
    else this.others.fail(failure);
    return failure;
  }

  private route(m: SessionMessage): void {
    if (m.payloadType !== VOTE_PAYLOAD_TYPE) {
      if (!this.others.push(m) && !this.others.closed) this.others.fail(new SlimError("SLOW_CONSUMER", "too many unread messages"));
      return;
    }
    const inbound = { sender: m.source.toString(), payload: m.payload };
    this.moderator.receive(inbound);
    this.participant.receive(inbound);
  }

  /** Stop reading; open votes are cancelled and pending results reject with CLOSED. Idempotent. */
  async close(): Promise<void> {
    this.stop?.();
    this.moderator.close();
    this.participant.close();
    await this.closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Start voting on `session`; see {@link SessionVoting}. */
export const attachVoting = (session: VotingSession, options: SessionVotingOptions): SessionVoting => new SessionVoting(session, options);
