// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// What a closed vote looks like, how any member checks a published result,
// and the small transport contract the coordinators share. The check is pure:
// it needs the proposal, the result message and (optionally) what this member
// saw on the channel itself.

import { SlimError } from "../errors.js";
import { withDeadline, type AbortOptions } from "../util/abort.js";
import { commitFor, type Commit } from "./ballot-box.js";
import type { Rejection, VoteMessage, VoteMessageOf } from "./messages.js";
import { encodeVoteMessage } from "./messages.js";
import type { AcceptedBallot, Proposal } from "./proposal.js";
import { canonicalJson, compareText, resultDifferences, tally, type VoteResult } from "./tally.js";

export const DEFAULT_VOTE_SEND_TIMEOUT_MS = 10_000;
/** How long after the last deadline a result is still waited for. */
export const DEFAULT_RESULT_GRACE_MS = 30_000;

/** Hands one encoded vote message to the group; must honour `signal`. */
export type VoteSend = (payload: Uint8Array, options: { signal: AbortSignal }) => Promise<void>;

/** One message off the channel: `sender` as the session authenticated it, never a name taken from the payload. */
export interface InboundVoteMessage {
  sender: string;
  payload: Uint8Array;
}

/** A closed vote as the moderator published it. */
export interface VoteOutcome {
  proposal: Proposal;
  result: VoteResult;
  ballots: AcceptedBallot[];
  /** Commit–reveal only: the commits the moderator took. */
  commits?: Commit[] | undefined;
  rejected: Rejection[];
  /** The moderator's clock when it closed the vote. */
  closedAt: number;
  /** Closed before its deadline: the outcome was settled, or the moderator called `closeNow()`. */
  closedEarly: boolean;
}

/** A result a member checked against its own recount. */
export interface VerifiedOutcome extends VoteOutcome {
  moderator: string;
  /**
   * Voters whose ballot (or commit) this member saw on the channel but the
   * moderator did not count: late at the moderator, or left out. Reported, not
   * judged, since arrival times differ between members.
   */
  unconfirmed: string[];
}

/** What a member saw for itself while a vote was open, to hold the result against. */
export interface VoteEvidence {
  /** Ballots (plain or revealed) by voter, each from its authenticated sender. */
  ballots?: ReadonlyMap<string, { selection: readonly string[] }>;
  /** Commits by voter, each from its authenticated sender. */
  commits?: ReadonlyMap<string, string>;
  /** The commit list the moderator announced when the reveal phase began. */
  announcedCommits?: readonly Commit[];
}

const integrity = (message: string, cause?: unknown): SlimError =>
  new SlimError("INTEGRITY", `vote result rejected: ${message}`, cause === undefined ? undefined : { cause });

const sortedCommits = (list: readonly Commit[]) => canonicalJson([...list].sort((a, b) => compareText(a.voter, b.voter)));

/**
 * Check a result message against `proposal`: the ballots must all be ones the
 * moderator could have accepted, a recount must reproduce the published result
 * and digest exactly, revealed ballots must open their commits, and nothing
 * this member saw may have been altered. Throws SlimError("INTEGRITY") naming
 * the first problem; returns the voters seen but not counted.
 */
export function verifyOutcome(proposal: Proposal, message: VoteMessageOf<"result">, evidence: VoteEvidence = {}): { unconfirmed: string[] } {
  if (message.proposalId !== proposal.id) throw integrity(`it is for proposal ${message.proposalId}, not ${proposal.id}`);
  let recount: VoteResult;
  try {
    recount = tally(proposal, message.ballots);
  } catch (err) {
    throw integrity(`its ballot list is invalid (${SlimError.from(err).message})`, err);
  }
  const diffs = resultDifferences(recount, message.result);
  if (diffs.length > 0) throw integrity(`the recount differs in ${diffs.join(", ")}`);

  const counted = new Map(message.ballots.map((b) => [b.voter, b]));
  if (proposal.commitReveal !== undefined) {
    const commits = message.commits;
    if (commits === undefined) throw integrity("a commit–reveal result without its commits");
    if (evidence.announcedCommits !== undefined && sortedCommits(evidence.announcedCommits) !== sortedCommits(commits)) {
      throw integrity("its commits differ from those announced for the reveal");
    }
    const byVoter = new Map(commits.map((c) => [c.voter, c.commit]));
    for (const b of message.ballots) {
      const c = byVoter.get(b.voter);
      if (c === undefined || b.salt === undefined || commitFor(b, b.salt) !== c) throw integrity(`the ballot of ${b.voter} does not open its commit`);
    }
    for (const [voter, seen] of evidence.commits ?? []) {
      const c = byVoter.get(voter);
      if (c !== undefined && c !== seen) throw integrity(`the commit of ${voter} was altered`);
    }
  }
  const unconfirmed = new Set<string>();
  for (const [voter, seen] of evidence.ballots ?? []) {
    const b = counted.get(voter);
    if (b === undefined) unconfirmed.add(voter);
    else if (canonicalJson(b.selection) !== canonicalJson(seen.selection)) throw integrity(`the ballot of ${voter} was altered`);
  }
  if (proposal.commitReveal !== undefined) {
    const listed = new Set((message.commits ?? []).map((c) => c.voter));
    for (const voter of evidence.commits?.keys() ?? []) if (!listed.has(voter)) unconfirmed.add(voter);
  }
  return { unconfirmed: [...unconfirmed].sort(compareText) };
}

/** Encode and send one message, bounded by `timeoutMs` (default {@link DEFAULT_VOTE_SEND_TIMEOUT_MS}) and `signal`. */
export function sendVoteMessage(send: VoteSend, message: VoteMessage, options: AbortOptions = {}): Promise<void> {
  const payload = encodeVoteMessage(message);
  return withDeadline(`vote ${message.type} send`, options, DEFAULT_VOTE_SEND_TIMEOUT_MS, (signal) => send(payload, { signal }));
}

/** The latest moment a vote's result can be due: its deadline plus the reveal window. */
export const finalDeadline = (p: Proposal): number => p.deadline + (p.commitReveal?.revealWindowMs ?? 0);
