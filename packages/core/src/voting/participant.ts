// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A member's side of votes, with no transport of its own. Each vote a
// moderator opens becomes an invitation: cast a ballot on it (committed and
// revealed for you under commit–reveal), then await its result, which is only
// handed over after this member recounted it and held it against what it saw
// on the channel itself.

import { SlimError } from "../errors.js";
import { noopLogger, type Logger } from "../log.js";
import { AsyncQueue } from "../util/async-queue.js";
import { withDeadline, type AbortOptions } from "../util/abort.js";
import { commitFor, newSalt, type Commit } from "./ballot-box.js";
import { decodeVoteMessage, type VoteMessage, type VoteMessageOf } from "./messages.js";
import {
  DEFAULT_RESULT_GRACE_MS,
  finalDeadline,
  sendVoteMessage,
  verifyOutcome,
  type InboundVoteMessage,
  type VerifiedOutcome,
  type VoteSend,
} from "./outcome.js";
import { selectionProblem, type Ballot, type Proposal } from "./proposal.js";

export interface VoteParticipantOptions {
  /** Our own name as the session authenticates it. */
  self: string;
  send: VoteSend;
  /** Which senders may open votes (e.g. only the group's moderator). Default: any. */
  trust?: (sender: string) => boolean;
  now?: () => number;
  logger?: Logger;
  /** Per message sent; default {@link DEFAULT_VOTE_SEND_TIMEOUT_MS}. */
  sendTimeoutMs?: number;
  /** Invitations buffered until read; default 1000. Overflow ends `invitations()` with SLOW_CONSUMER. */
  maxPending?: number;
}

/** Takes part in votes; feed it every inbound message with {@link VoteParticipant.receive}. */
export class VoteParticipant {
  private readonly votes = new Map<string, VoteInvitation>();
  private readonly queue: AsyncQueue<VoteInvitation>;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly options: VoteParticipantOptions) {
    this.now = options.now ?? Date.now;
    this.log = (options.logger ?? noopLogger).child("voting");
    this.queue = new AsyncQueue(options.maxPending ?? 1_000);
  }

  /** Votes as they open (also those we may not vote in: their results are still verified). Iterate once. */
  invitations(): AsyncIterable<VoteInvitation> {
    return this.queue;
  }

  /** Feed one inbound message. Unreadable or untrusted messages are dropped (and logged at debug). */
  receive(msg: InboundVoteMessage): void {
    const d = decodeVoteMessage(msg.payload);
    if (!d.ok) return this.log.debug("unreadable vote message ignored", { sender: msg.sender, error: d.error.message });
    const m = d.message;
    if (m.type === "open") return this.onOpen(msg.sender, m);
    this.votes.get(m.proposalId)?.observe(msg.sender, m);
  }

  /** Stop taking part: pending results reject with CLOSED, `invitations()` ends. Idempotent. */
  close(): void {
    this.queue.end();
    for (const v of [...this.votes.values()]) v.expire(new SlimError("CLOSED", "vote participant closed"));
  }

  private onOpen(sender: string, m: VoteMessageOf<"open">): void {
    if (this.queue.closed) return;
    if (this.options.trust !== undefined && !this.options.trust(sender)) {
      return this.log.debug("vote opened by an untrusted sender ignored", { sender, proposal: m.proposalId });
    }
    if (this.votes.has(m.proposalId)) return;
    const send = (message: VoteMessage, o: AbortOptions = {}) => {
      const timeoutMs = o.timeoutMs ?? this.options.sendTimeoutMs;
      return sendVoteMessage(this.options.send, message, { ...(o.signal === undefined ? {} : { signal: o.signal }), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
    };
    const vote = new VoteInvitation(m.proposal, sender, this.options.self, this.now, this.log, send, () => this.votes.delete(m.proposalId));
    this.votes.set(m.proposalId, vote);
    if (!this.queue.push(vote)) this.queue.fail(new SlimError("SLOW_CONSUMER", "vote invitations not read"));
  }
}

type Send = (message: VoteMessage, options?: AbortOptions) => Promise<void>;

/** One vote as a member sees it. */
export class VoteInvitation {
  private own: { ballot: Ballot; salt?: string } | undefined;
  private readonly seenBallots = new Map<string, { selection: readonly string[] }>();
  private readonly seenCommits = new Map<string, string>();
  private announced: Commit[] | undefined;
  private readonly settled: Promise<VerifiedOutcome>;
  private settle!: { resolve: (o: VerifiedOutcome) => void; reject: (e: unknown) => void };
  private done = false;
  private readonly expiry: ReturnType<typeof setTimeout>;

  /** @internal */
  constructor(
    readonly proposal: Proposal,
    /** Who opened the vote: the only sender whose commit list and result are taken. */
    readonly moderator: string,
    private readonly self: string,
    private readonly now: () => number,
    private readonly log: Logger,
    private readonly send: Send,
    private readonly forget: () => void,
  ) {
    this.settled = new Promise<VerifiedOutcome>((resolve, reject) => (this.settle = { resolve, reject }));
    this.settled.catch(() => {}); // observed through result()
    const wait = Math.max(0, finalDeadline(proposal) - now()) + DEFAULT_RESULT_GRACE_MS;
    this.expiry = setTimeout(() => this.expire(new SlimError("TIMEOUT", `no result for vote ${proposal.id}`)), wait);
    this.expiry.unref?.();
  }

  /** Whether we are among the voters. */
  get eligible(): boolean {
    return this.proposal.voters.includes(this.self);
  }

  /**
   * Vote. Checked locally first (eligibility, deadline, valid choices), then
   * sent: as a ballot, or under commit–reveal as a commit whose reveal is sent
   * when the moderator announces the reveal phase.
   */
  async cast(selection: readonly string[], options: AbortOptions = {}): Promise<void> {
    const p = this.proposal;
    if (!this.eligible) throw new SlimError("INVALID_ARGUMENT", `${this.self} is not a voter in ${p.id}`);
    if (this.own !== undefined) throw new SlimError("INVALID_ARGUMENT", `already voted in ${p.id}`);
    if (this.done || this.now() > p.deadline) throw new SlimError("INVALID_ARGUMENT", `vote ${p.id} is closed`);
    const problem = selectionProblem(p, selection);
    if (problem !== undefined) throw new SlimError("INVALID_ARGUMENT", `invalid ballot: ${problem}`);
    const ballot: Ballot = { proposalId: p.id, voter: this.self, selection: [...selection] };
    if (p.commitReveal === undefined) {
      this.own = { ballot };
      this.seenBallots.set(this.self, ballot);
      try {
        await this.send({ v: 1, type: "ballot", proposalId: p.id, ballot }, options);
      } catch (err) {
        this.own = undefined;
        this.seenBallots.delete(this.self);
        throw err;
      }
      return;
    }
    const salt = newSalt();
    const commit: Commit = { proposalId: p.id, voter: this.self, commit: commitFor(ballot, salt) };
    this.own = { ballot, salt };
    this.seenCommits.set(this.self, commit.commit);
    try {
      await this.send({ v: 1, type: "commit", proposalId: p.id, commit }, options);
    } catch (err) {
      this.own = undefined;
      this.seenCommits.delete(this.self);
      throw err;
    }
  }

  /**
   * The verified outcome. Rejects with SlimError("INTEGRITY") when the
   * moderator's result does not survive the recount. Waits at most until the
   * last deadline plus {@link DEFAULT_RESULT_GRACE_MS} unless `timeoutMs` says otherwise.
   */
  result(options: AbortOptions = {}): Promise<VerifiedOutcome> {
    const wait = Math.max(0, finalDeadline(this.proposal) - this.now()) + DEFAULT_RESULT_GRACE_MS;
    return withDeadline(`vote ${this.proposal.id}`, options, wait, () => this.settled);
  }

  /** @internal A message for this vote, from an authenticated `sender`. */
  observe(sender: string, m: VoteMessage): void {
    if (this.done) return;
    const p = this.proposal;
    const blind = p.commitReveal !== undefined;
    // keep, per voter, the first message the moderator's rules would accept as well,
    // so an honest moderator never looks as if it altered what we saw
    const countable = (b: Ballot) => b.voter === sender && p.voters.includes(sender) && !this.seenBallots.has(sender) && selectionProblem(p, b.selection) === undefined;
    switch (m.type) {
      case "ballot":
        if (!blind && countable(m.ballot)) this.seenBallots.set(sender, m.ballot);
        return;
      case "commit":
        if (blind && m.commit.voter === sender && p.voters.includes(sender) && !this.seenCommits.has(sender)) this.seenCommits.set(sender, m.commit.commit);
        return;
      case "reveal": {
        const c = this.seenCommits.get(sender);
        if (blind && countable(m.reveal.ballot) && c !== undefined && commitFor(m.reveal.ballot, m.reveal.salt) === c) this.seenBallots.set(sender, m.reveal.ballot);
        return;
      }
      case "commits":
        if (sender === this.moderator && this.announced === undefined) this.onCommits(m);
        return;
      case "result":
        if (sender === this.moderator) this.onResult(m);
        return;
      case "open":
        return;
    }
  }

  /** @internal End without a result. */
  expire(err: SlimError): void {
    if (this.done) return;
    this.finish();
    this.settle.reject(err);
  }

  private onCommits(m: VoteMessageOf<"commits">): void {
    this.announced = m.commits;
    const own = this.own;
    if (own?.salt === undefined) return;
    const mine = m.commits.find((c) => c.voter === this.self);
    if (mine === undefined) return this.log.warn("our commit is missing from the reveal list", { proposal: this.proposal.id });
    const reveal = { ballot: own.ballot, salt: own.salt };
    this.seenBallots.set(this.self, own.ballot);
    const timeoutMs = Math.max(1, m.revealDeadline - this.now());
    this.send({ v: 1, type: "reveal", proposalId: this.proposal.id, reveal }, { timeoutMs }).catch((err: unknown) =>
      this.log.warn("could not send our reveal", { proposal: this.proposal.id, error: String(err) }),
    );
  }

  private onResult(m: VoteMessageOf<"result">): void {
    const evidence = {
      ballots: this.seenBallots,
      commits: this.seenCommits,
      ...(this.announced === undefined ? {} : { announcedCommits: this.announced }),
    };
    this.finish();
    try {
      const { unconfirmed } = verifyOutcome(this.proposal, m, evidence);
      const { v: _v, type: _t, proposalId: _id, ...body } = m;
      this.settle.resolve({ proposal: this.proposal, moderator: this.moderator, unconfirmed, ...body });
    } catch (err) {
      this.settle.reject(err);
    }
  }

  private finish(): void {
    this.done = true;
    clearTimeout(this.expiry);
    this.forget();
  }
}
