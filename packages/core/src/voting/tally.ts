// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Counting. `tally` is a pure function of the proposal and the accepted
// ballots: the moderator runs it to decide, every member runs it again on the
// ballots the moderator published, and both must get the same result down to
// the digest. Nothing here depends on arrival order, the clock or randomness.

import { createHash } from "node:crypto";
import { z } from "zod";
import { SlimError } from "../errors.js";
import { selectionProblem, weightOf, type Ballot, type Proposal } from "./proposal.js";

export const VoteStatusSchema = z.enum(["decided", "tie", "no-majority", "no-quorum"]);
/**
 * - `decided`: `winner` is set.
 * - `tie`: several choices share the top score and the tie-break is `none`.
 * - `no-majority`: (majority strategy) no choice got more than half the ballots.
 * - `no-quorum`: fewer accepted ballots than the quorum.
 */
export type VoteStatus = z.infer<typeof VoteStatusSchema>;

export const VoteResultSchema = z.strictObject({
  proposalId: z.string().min(1).max(128),
  status: VoteStatusSchema,
  winner: z.string().nullable(),
  /** Choices that shared the top score (empty when one choice led alone). */
  tied: z.array(z.string()),
  /** Every choice, best first; equal scores in tie-break order. */
  ranking: z.array(z.string()),
  /** Score per choice, in the proposal's choice order. */
  scores: z.record(z.string(), z.number()),
  /** Accepted ballots. */
  turnout: z.int().min(0),
  quorum: z.int().min(1),
  /** Voters whose ballot counted, and those without one (both sorted). */
  voted: z.array(z.string()),
  missing: z.array(z.string()),
  /** Lowercase hex SHA-256 of the accepted ballots; see {@link ballotDigest}. */
  digest: z.string().regex(/^[0-9a-f]{64}$/),
});
export type VoteResult = z.output<typeof VoteResultSchema>;

/** Code-unit order: the same everywhere, unlike localeCompare. */
export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

/** The selection as it counts: approval sets are unordered, so they are sorted; rankings keep their order. */
function normalSelection(proposal: Proposal, selection: readonly string[]): readonly string[] {
  return proposal.strategy === "approval" ? [...selection].sort(compareText) : selection;
}

/**
 * SHA-256 (lowercase hex) over the UTF-8 JSON text
 * `["slim-vote-ballots/v1", proposalId, [[voter, selection], ...]]` with rows
 * sorted by voter and approval selections sorted, so neither arrival order nor
 * the order inside an approval set changes it.
 */
export function ballotDigest(proposal: Proposal, ballots: readonly Ballot[]): string {
  const rows = [...ballots]
    .sort((a, b) => compareText(a.voter, b.voter))
    .map((b) => [b.voter, normalSelection(proposal, b.selection)]);
  return sha256Hex(JSON.stringify(["slim-vote-ballots/v1", proposal.id, rows]));
}

/** Choices in tie-break preference order (see {@link TieBreakSchema}). */
function tieOrder(proposal: Proposal): Map<string, number> {
  const listed = proposal.choices.map((c, i) => ({ c, i, key: "" }));
  if (proposal.tieBreak === "seeded") {
    for (const x of listed) x.key = sha256Hex(`${proposal.id}\u0000${x.c}`);
    listed.sort((a, b) => compareText(a.key, b.key) || a.i - b.i);
  }
  return new Map(listed.map((x, rank) => [x.c, rank]));
}

function invalid(message: string): SlimError {
  return new SlimError("INVALID_ARGUMENT", `cannot tally: ${message}`);
}

/**
 * Count `ballots` for `proposal`. Throws SlimError("INVALID_ARGUMENT") when a
 * ballot could never have been accepted (wrong proposal, not a voter, second
 * ballot of a voter, choice not offered), so a tampered ballot list fails
 * loudly instead of producing a plausible result.
 */
export function tally(proposal: Proposal, ballots: readonly Ballot[]): VoteResult {
  const voters = new Set(proposal.voters);
  const seen = new Set<string>();
  for (const b of ballots) {
    if (b.proposalId !== proposal.id) throw invalid(`ballot of ${b.voter} is for proposal ${b.proposalId}, not ${proposal.id}`);
    if (!voters.has(b.voter)) throw invalid(`${b.voter} is not a voter`);
    if (seen.has(b.voter)) throw invalid(`${b.voter} has more than one ballot`);
    seen.add(b.voter);
    const problem = selectionProblem(proposal, b.selection);
    if (problem !== undefined) throw invalid(`ballot of ${b.voter}: ${problem}`);
  }
  // a fixed summation order keeps weighted (floating point) totals identical everywhere
  const sorted = [...ballots].sort((a, b) => compareText(a.voter, b.voter));
  const score = new Map(proposal.choices.map((c) => [c, 0]));
  const add = (c: string, n: number) => score.set(c, (score.get(c) as number) + n);
  const m = proposal.choices.length;
  for (const b of sorted) {
    switch (proposal.strategy) {
      case "majority":
      case "plurality":
      case "weighted":
        add(b.selection[0] as string, weightOf(proposal, b.voter));
        break;
      case "approval":
        for (const c of b.selection) add(c, 1);
        break;
      case "ranked":
        b.selection.forEach((c, place) => add(c, m - 1 - place));
        break;
    }
  }
  const order = tieOrder(proposal);
  const s = (c: string) => score.get(c) as number;
  const ranking = [...proposal.choices].sort((a, b) => s(b) - s(a) || (order.get(a) as number) - (order.get(b) as number));
  const leader = ranking[0] as string;
  const top = ranking.filter((c) => s(c) === s(leader));
  const turnout = ballots.length;

  let status: VoteStatus;
  if (turnout < proposal.quorum) status = "no-quorum";
  else if (proposal.strategy === "majority") status = s(leader) * 2 > turnout ? "decided" : "no-majority";
  else if (top.length > 1 && proposal.tieBreak === "none") status = "tie";
  else status = "decided";

  return {
    proposalId: proposal.id,
    status,
    winner: status === "decided" ? leader : null,
    tied: top.length > 1 ? top : [],
    ranking,
    scores: Object.fromEntries(proposal.choices.map((c) => [c, s(c)])),
    turnout,
    quorum: proposal.quorum,
    voted: sorted.map((b) => b.voter),
    missing: proposal.voters.filter((v) => !seen.has(v)).sort(compareText),
    digest: ballotDigest(proposal, ballots),
  };
}

/**
 * True when waiting longer cannot change the outcome: nobody is left to vote,
 * quorum is out of reach, or (with `earlyClose`) the leader stays ahead even if
 * every remaining voter backs the strongest rival. `pending` are the voters who
 * can still send a ballot that counts.
 */
export function outcomeSettled(proposal: Proposal, accepted: readonly Ballot[], pending: readonly string[]): boolean {
  if (pending.length === 0) return true;
  if (!proposal.earlyClose) return false;
  if (accepted.length + pending.length < proposal.quorum) return true;
  if (accepted.length < proposal.quorum) return false;
  const r = tally(proposal, accepted);
  const leader = r.ranking[0] as string;
  const lead = r.scores[leader] as number;
  if (proposal.strategy === "majority") return lead * 2 > accepted.length + pending.length;
  // the most a rival can gain from the remaining voters while the leader gains nothing
  let swing: number;
  switch (proposal.strategy) {
    case "weighted":
      swing = pending.reduce((sum, v) => sum + weightOf(proposal, v), 0);
      break;
    case "ranked":
      swing = pending.length * (proposal.choices.length - 1);
      break;
    default:
      swing = pending.length;
  }
  return r.ranking.slice(1).every((c) => (r.scores[c] as number) + swing < lead);
}

/** JSON text with object keys sorted at every level: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => compareText(a, b)))
      : v,
  );
}

/** Names of the result fields where `published` differs from `expected` (empty when they agree). */
export function resultDifferences(expected: VoteResult, published: VoteResult): string[] {
  const keys = Object.keys(VoteResultSchema.shape) as Array<keyof VoteResult>;
  return keys.filter((k) => canonicalJson(expected[k]) !== canonicalJson(published[k]));
}
