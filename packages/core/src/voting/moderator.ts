// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The tallier's side of a vote, with no transport of its own: it publishes
// through a `send` function and is fed what arrives. It opens a vote, takes
// ballots (or commits, then reveals) through a BallotBox, closes at the
// deadline or as soon as the outcome is settled, tallies and publishes the
// result with every accepted ballot so members can recount.

import { SlimError } from "../errors.js";
import { noopLogger, type Logger } from "../log.js";
import { AsyncQueue } from "../util/async-queue.js";
import { withDeadline, type AbortOptions } from "../util/abort.js";
import { BallotBox, commitFor, isBallotRejected, newSalt, type Commit, type RejectReason } from "./ballot-box.js";
import { decodeVoteMessage, listedRejections, type Rejection, type VoteMessage } from "./messages.js";
import {
  DEFAULT_RESULT_GRACE_MS,
  finalDeadline,
  sendVoteMessage,
  type InboundVoteMessage,
  type VoteOutcome,
  type VoteSend,
} from "./outcome.js";
import { createProposal, selectionProblem, type Ballot, type Proposal, type ProposalInput } from "./proposal.js";
import { outcomeSettled, tally } from "./tally.js";

/** Progress of one vote, for whoever watches the moderator (e.g. to stream into a UI). */
export type VoteProgress =
  | { type: "accepted"; voter: string }
  | { type: "committed"; voter: string }
  | { type: "rejected"; sender: string; reason: RejectReason; detail: string }
  | { type: "reveal"; commits: number; revealDeadline: number }
  | { type: "closed"; outcome: VoteOutcome };

export interface VoteModeratorOptions {
  /** Our own name as the session authenticates it (counts if we are among the voters). */
  self: string;
  send: VoteSend;
  /** Clock in epoch ms; timers still use setTimeout. */
  now?: () => number;
  logger?: Logger;
  /** Per message sent; default {@link DEFAULT_VOTE_SEND_TIMEOUT_MS}. */
  sendTimeoutMs?: number;
}

const MAX_PROGRESS_EVENTS = 10_000;
const MAX_REJECTIONS = 1_000;

/** Opens votes and tallies them; feed it every inbound message with {@link VoteModerator.receive}. */
export class VoteModerator {
  private readonly rounds = new Map<string, VoteRound>();
  private readonly now: () => number;
  private readonly log: Logger;
  private closed = false;

  constructor(private readonly options: VoteModeratorOptions) {
    this.now = options.now ?? Date.now;
    this.log = (options.logger ?? noopLogger).child("voting");
  }

  /**
   * Open a vote: resolve `input` into a proposal (voters snapshotted now),
   * publish it and start the clock. Resolves once the open message is sent;
   * the returned round settles on its own.
   */
  async open(input: ProposalInput, options: AbortOptions = {}): Promise<VoteRound> {
    if (this.closed) throw new SlimError("CLOSED", "vote moderator is closed");
    const proposal = createProposal(input, this.now());
    if (this.rounds.has(proposal.id)) throw new SlimError("INVALID_ARGUMENT", `vote ${proposal.id} is already open`);
    const round: VoteRound = new VoteRound(proposal, {
      self: this.options.self,
      now: this.now,
      log: this.log,
      send: (m, o = {}): Promise<void> => sendVoteMessage(this.options.send, m, this.sendOptions(round.signal, o)),
      done: () => this.rounds.delete(proposal.id),
    });
    this.rounds.set(proposal.id, round);
    try {
      await sendVoteMessage(this.options.send, { v: 1, type: "open", proposalId: proposal.id, proposal }, options);
    } catch (err) {
      round.cancel(err);
      throw err;
    }
    round.start();
    return round;
  }

  /** Feed one inbound message; anything not addressed to an open vote of ours is ignored. */
  receive(msg: InboundVoteMessage): void {
    const d = decodeVoteMessage(msg.payload);
    if (!d.ok) {
      const round = d.proposalId === undefined ? undefined : this.rounds.get(d.proposalId);
      if (round !== undefined) round.reject(msg.sender, "malformed", d.error.message);
      else this.log.debug("unreadable vote message ignored", { sender: msg.sender, error: d.error.message });
      return;
    }
    const m = d.message;
    const round = this.rounds.get(m.proposalId);
    if (round === undefined) return;
    switch (m.type) {
      case "ballot":
        return round.take(msg.sender, () => round.box.cast(msg.sender, m.ballot));
      case "commit":
        return round.take(msg.sender, () => round.box.commit(msg.sender, m.commit));
      case "reveal":
        return round.take(msg.sender, () => round.box.reveal(msg.sender, m.reveal));
      default:
        // open, commits and result only come from a moderator: another one's traffic, or an echo of ours
        return round.reject(msg.sender, "malformed", `a voter cannot send ${m.type} messages`);
    }
  }

  /** Cancel every open vote (their results reject with CLOSED). Idempotent. */
  close(): void {
    this.closed = true;
    for (const r of [...this.rounds.values()]) r.cancel(new SlimError("CLOSED", "vote moderator closed"));
  }

  /** A round's sends stop when it is cancelled, and honour the caller's own signal and timeout. */
  private sendOptions(roundSignal: AbortSignal, o: AbortOptions): AbortOptions {
    const timeoutMs = o.timeoutMs ?? this.options.sendTimeoutMs;
    return {
      signal: o.signal === undefined ? roundSignal : AbortSignal.any([roundSignal, o.signal]),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    };
  }
}

interface RoundHost {
  self: string;
  now: () => number;
  log: Logger;
  send: (m: VoteMessage, options?: AbortOptions) => Promise<void>;
  done: () => void;
}

/** One open vote on the moderator's side. */
export class VoteRound {
  /** @internal */ readonly box: BallotBox;
  private readonly ctl = new AbortController();
  private readonly events = new AsyncQueue<VoteProgress>(MAX_PROGRESS_EVENTS);
  private readonly rejected: Rejection[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private finished = false;
  private ownReveal: { ballot: Ballot; salt: string } | undefined;
  private readonly settled: Promise<VoteOutcome>;
  private settle!: { resolve: (o: VoteOutcome) => void; reject: (e: unknown) => void };

  /** @internal */
  constructor(
    readonly proposal: Proposal,
    private readonly host: RoundHost,
  ) {
    this.box = new BallotBox(proposal, host.now);
    this.settled = new Promise<VoteOutcome>((resolve, reject) => (this.settle = { resolve, reject }));
    this.settled.catch(() => {}); // observed through result()
  }

  /** @internal */
  get signal(): AbortSignal {
    return this.ctl.signal;
  }

  /** @internal */
  start(): void {
    this.schedule(this.proposal.deadline);
  }

  /** Progress events until the vote closes. Iterate once. */
  progress(): AsyncIterable<VoteProgress> {
    return this.events;
  }

  /**
   * The published outcome. Waits at most until the last deadline plus
   * {@link DEFAULT_RESULT_GRACE_MS} unless `timeoutMs` says otherwise.
   */
  result(options: AbortOptions = {}): Promise<VoteOutcome> {
    const wait = Math.max(0, finalDeadline(this.proposal) - this.host.now()) + DEFAULT_RESULT_GRACE_MS;
    return withDeadline(`vote ${this.proposal.id}`, options, wait, () => this.settled);
  }

  /**
   * Our own ballot, when we are among the voters: checked and counted like
   * any other (committed, and revealed when the reveal phase starts, under
   * commit–reveal) and published so members can hold the result against it.
   */
  async cast(selection: readonly string[], options: AbortOptions = {}): Promise<void> {
    const ballot: Ballot = { proposalId: this.proposal.id, voter: this.host.self, selection: [...selection] };
    if (this.proposal.commitReveal === undefined) {
      this.take(this.host.self, () => this.box.cast(this.host.self, ballot), true);
      await this.host.send({ v: 1, type: "ballot", proposalId: ballot.proposalId, ballot }, options);
      return;
    }
    const problem = selectionProblem(this.proposal, ballot.selection);
    if (problem !== undefined) throw new SlimError("INVALID_ARGUMENT", problem);
    const salt = newSalt();
    const commit: Commit = { proposalId: ballot.proposalId, voter: ballot.voter, commit: commitFor(ballot, salt) };
    this.take(this.host.self, () => this.box.commit(this.host.self, commit), true);
    this.ownReveal = { ballot, salt };
    await this.host.send({ v: 1, type: "commit", proposalId: ballot.proposalId, commit }, options);
  }

  /** Close now, whatever is still pending, and publish the result (a commit phase ends without reveals). */
  closeNow(): void {
    if (!this.finished) void this.finish(true);
  }

  /** Stop without a result (nothing is published); `result()` rejects with `reason`. */
  cancel(reason?: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.box.close();
    clearTimeout(this.timer);
    const err = reason instanceof SlimError ? reason : new SlimError("ABORTED", `vote ${this.proposal.id} cancelled`, { cause: reason });
    this.ctl.abort(err);
    this.events.end();
    this.host.done();
    this.settle.reject(err);
  }

  /** @internal Run one acceptance rule; rejections are recorded, not thrown (unless `own`). */
  take(sender: string, accept: () => Ballot | Commit, own = false): void {
    try {
      const what = accept();
      this.emit("commit" in what ? { type: "committed", voter: sender } : { type: "accepted", voter: sender });
    } catch (err) {
      if (own || !isBallotRejected(err)) throw err;
      this.reject(sender, err.reason, err.message);
      return;
    }
    this.check();
  }

  /** @internal */
  reject(sender: string, reason: RejectReason, detail: string): void {
    if (this.finished) return;
    this.host.log.debug("vote message rejected", { proposal: this.proposal.id, sender, reason, detail });
    if (this.rejected.length < MAX_REJECTIONS) this.rejected.push({ sender, reason, detail });
    this.emit({ type: "rejected", sender, reason, detail });
  }

  private emit(e: VoteProgress): void {
    if (!this.events.push(e) && !this.events.closed) this.events.fail(new SlimError("SLOW_CONSUMER", "vote progress not read"));
  }

  private schedule(at: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onTimer(at), Math.max(0, at - this.host.now()));
  }

  private onTimer(at: number): void {
    if (this.finished) return;
    if (this.host.now() < at) return this.schedule(at); // the timer ran ahead of the clock
    if (this.box.state === "committing") this.startReveal();
    else void this.finish(false);
  }

  /** Close early when nothing that can still arrive would change the outcome. */
  private check(): void {
    if (this.finished) return;
    const pending = this.box.pending();
    if (this.box.state === "committing") {
      if (pending.length === 0) this.startReveal();
      return;
    }
    if (outcomeSettled(this.proposal, this.box.ballots(), pending)) void this.finish(true);
  }

  private startReveal(): void {
    const { commits, revealDeadline } = this.box.closeCommits();
    this.emit({ type: "reveal", commits: commits.length, revealDeadline });
    this.host
      .send({ v: 1, type: "commits", proposalId: this.proposal.id, commits, revealDeadline })
      .catch((err: unknown) => this.host.log.warn("could not announce the reveal phase", { proposal: this.proposal.id, error: String(err) }));
    const reveal = this.ownReveal;
    if (reveal !== undefined) {
      try {
        this.take(this.host.self, () => this.box.reveal(this.host.self, reveal), true);
        void this.host.send({ v: 1, type: "reveal", proposalId: this.proposal.id, reveal }).catch(() => {});
      } catch (err) {
        this.host.log.warn("our own reveal was refused", { proposal: this.proposal.id, error: String(err) });
      }
    }
    if (this.finished) return;
    this.schedule(revealDeadline);
    this.check();
  }

  private async finish(early: boolean): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.box.close();
    const closedAt = this.host.now();
    const ballots = this.box.ballots();
    const commits = this.proposal.commitReveal === undefined ? undefined : this.box.committed();
    const outcome: VoteOutcome = {
      proposal: this.proposal,
      result: tally(this.proposal, ballots),
      ballots,
      ...(commits === undefined ? {} : { commits }),
      rejected: listedRejections(this.rejected),
      closedAt,
      closedEarly: early && closedAt < finalDeadline(this.proposal),
    };
    const { proposal: _p, ...body } = outcome;
    try {
      await this.host.send({ v: 1, type: "result", proposalId: this.proposal.id, ...body });
    } catch (err) {
      this.settle.reject(SlimError.from(err, "SEND"));
      return;
    } finally {
      this.emit({ type: "closed", outcome });
      this.events.end();
      this.host.done();
    }
    this.settle.resolve(outcome);
  }
}
