// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The tallier's acceptance rules. A ballot counts only if it names this
// proposal, comes from a voter in the snapshot whose authenticated name is the
// one the ballot claims, offers valid choices, arrives before the deadline and
// is that voter's first. Under commit–reveal the same checks run on the
// revealed ballot, which must also hash to the voter's commit.

import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { SlimError, type SlimErrorOptions } from "../errors.js";
import { BallotSchema, selectionProblem, type AcceptedBallot, type Ballot, type Proposal } from "./proposal.js";

export type RejectReason =
  | "malformed"
  | "wrong-proposal"
  | "not-a-voter"
  | "voter-mismatch"
  | "duplicate"
  | "late"
  | "invalid-choice"
  | "wrong-phase"
  | "commit-mismatch";

/** A ballot, commit or reveal the box refused; `reason` says which rule it broke. */
export class BallotRejectedError extends SlimError {
  readonly reason: RejectReason;

  constructor(reason: RejectReason, message: string, options?: SlimErrorOptions) {
    super("INVALID_ARGUMENT", `${reason}: ${message}`, options);
    this.reason = reason;
  }
}

export function isBallotRejected(value: unknown, reason?: RejectReason): value is BallotRejectedError {
  return (
    value instanceof SlimError &&
    value.code === "INVALID_ARGUMENT" &&
    typeof (value as { reason?: unknown }).reason === "string" &&
    (reason === undefined || (value as BallotRejectedError).reason === reason)
  );
}

export const CommitSchema = z.strictObject({
  proposalId: z.string().min(1).max(128),
  voter: z.string().min(1).max(512),
  /** Lowercase hex SHA-256, see {@link commitFor}. */
  commit: z.string().regex(/^[0-9a-f]{64}$/),
});
export type Commit = z.output<typeof CommitSchema>;

/** 32 random bytes, base64url: the secret that keeps a committed ballot unguessable. */
export const newSalt = (): string => randomBytes(32).toString("base64url");

/**
 * The commit for `ballot` with `salt`: SHA-256 over the UTF-8 JSON text
 * `["slim-vote-ballot/v1", proposalId, voter, selection]` followed by the
 * salt's bytes, as lowercase hex. The JSON text ends unambiguously, so the
 * concatenation cannot be split two ways.
 */
export function commitFor(ballot: Ballot, salt: string): string {
  const text = JSON.stringify(["slim-vote-ballot/v1", ballot.proposalId, ballot.voter, ballot.selection]);
  return createHash("sha256").update(text, "utf8").update(Buffer.from(salt, "base64url")).digest("hex");
}

const SaltSchema = z.string().regex(/^[A-Za-z0-9_-]{22,128}$/, "salt must be at least 16 bytes, base64url");
export const RevealSchema = z.strictObject({ ballot: BallotSchema, salt: SaltSchema });
export type Reveal = z.output<typeof RevealSchema>;

type Phase = "voting" | "committing" | "revealing" | "closed";
const PHASE_RANK: Record<Phase, number> = { voting: 0, committing: 0, revealing: 1, closed: 2 };

/**
 * Collects one proposal's ballots (or commits, then reveals). Each method takes
 * the sender's name as the session authenticated it, and either returns what
 * it accepted or throws {@link BallotRejectedError}. `now` is read on every
 * call, so tests can drive it.
 */
export class BallotBox {
  private phase: Phase;
  private readonly voters: Set<string>;
  private readonly accepted = new Map<string, AcceptedBallot>();
  private readonly commits = new Map<string, string>();
  /** Set when the commit phase closes. */
  revealDeadline: number | undefined;

  constructor(
    readonly proposal: Proposal,
    private readonly now: () => number = Date.now,
  ) {
    this.phase = proposal.commitReveal === undefined ? "voting" : "committing";
    this.voters = new Set(proposal.voters);
  }

  get state(): Phase {
    return this.phase;
  }

  /** Accepted ballots, in arrival order. */
  ballots(): AcceptedBallot[] {
    return [...this.accepted.values()];
  }

  /** Commits taken in the commit phase, in arrival order. */
  committed(): Commit[] {
    return [...this.commits].map(([voter, commit]) => ({ proposalId: this.proposal.id, voter, commit }));
  }

  /** Voters who can still send something that counts in the current phase. */
  pending(): string[] {
    switch (this.phase) {
      case "voting":
        return this.proposal.voters.filter((v) => !this.accepted.has(v));
      case "committing":
        return this.proposal.voters.filter((v) => !this.commits.has(v));
      case "revealing":
        return [...this.commits.keys()].filter((v) => !this.accepted.has(v));
      case "closed":
        return [];
    }
  }

  /** Accept a plain ballot (proposals without commit–reveal). */
  cast(sender: string, input: unknown): Ballot {
    const ballot = this.parse(BallotSchema, input, "ballot");
    this.checkSender(sender, ballot);
    this.expectPhase("voting", "ballots");
    this.checkTime(this.proposal.deadline);
    if (this.accepted.has(sender)) throw new BallotRejectedError("duplicate", `${sender} has voted already`);
    this.checkSelection(ballot);
    this.accepted.set(sender, ballot);
    return ballot;
  }

  /** Accept a commit (commit–reveal proposals, before the deadline). */
  commit(sender: string, input: unknown): Commit {
    const c = this.parse(CommitSchema, input, "commit");
    this.checkSender(sender, c);
    this.expectPhase("committing", "commits");
    this.checkTime(this.proposal.deadline);
    if (this.commits.has(sender)) throw new BallotRejectedError("duplicate", `${sender} has committed already`);
    this.commits.set(sender, c.commit);
    return c;
  }

  /** End the commit phase; reveals are then taken until the returned deadline. */
  closeCommits(): { commits: Commit[]; revealDeadline: number } {
    const window = this.proposal.commitReveal?.revealWindowMs;
    if (this.phase !== "committing" || window === undefined) throw new SlimError("INVALID_ARGUMENT", `no commit phase to close (${this.phase})`);
    this.phase = "revealing";
    this.revealDeadline = this.now() + window;
    return { commits: this.committed(), revealDeadline: this.revealDeadline };
  }

  /** Accept a reveal: a committed voter's ballot and salt, checked against the commit. */
  reveal(sender: string, input: unknown): AcceptedBallot {
    const r = this.parse(RevealSchema, input, "reveal");
    this.checkSender(sender, r.ballot);
    this.expectPhase("revealing", "reveals");
    this.checkTime(this.revealDeadline as number);
    const commit = this.commits.get(sender);
    if (commit === undefined) throw new BallotRejectedError("wrong-phase", `${sender} did not commit before the deadline`);
    if (this.accepted.has(sender)) throw new BallotRejectedError("duplicate", `${sender} has revealed already`);
    if (commitFor(r.ballot, r.salt) !== commit) throw new BallotRejectedError("commit-mismatch", `the reveal of ${sender} does not match its commit`);
    this.checkSelection(r.ballot);
    const accepted = { ...r.ballot, salt: r.salt };
    this.accepted.set(sender, accepted);
    return accepted;
  }

  /** Take nothing more. */
  close(): void {
    this.phase = "closed";
  }

  private parse<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
    const r = schema.safeParse(input);
    if (!r.success) throw new BallotRejectedError("malformed", `invalid ${what}:\n${z.prettifyError(r.error)}`);
    return r.data;
  }

  private checkSender(sender: string, claim: { proposalId: string; voter: string }): void {
    if (claim.proposalId !== this.proposal.id) {
      throw new BallotRejectedError("wrong-proposal", `for proposal ${claim.proposalId}, not ${this.proposal.id}`);
    }
    if (claim.voter !== sender) throw new BallotRejectedError("voter-mismatch", `claims to be from ${claim.voter} but was sent by ${sender}`);
    if (!this.voters.has(sender)) throw new BallotRejectedError("not-a-voter", `${sender} is not among the proposal's voters`);
  }

  private expectPhase(phase: Phase, what: string): void {
    if (this.phase === phase) return;
    if (PHASE_RANK[this.phase] > PHASE_RANK[phase]) throw new BallotRejectedError("late", `${what} are no longer taken (${this.phase})`);
    throw new BallotRejectedError("wrong-phase", `${what} are not taken while ${this.phase}`);
  }

  private checkTime(deadline: number): void {
    const now = this.now();
    if (now > deadline) throw new BallotRejectedError("late", `arrived ${now - deadline} ms after the deadline`);
  }

  private checkSelection(ballot: Ballot): void {
    const problem = selectionProblem(this.proposal, ballot.selection);
    if (problem !== undefined) throw new BallotRejectedError("invalid-choice", problem);
  }
}
