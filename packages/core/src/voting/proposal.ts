// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// What a vote is about and what a ballot looks like. A proposal is fixed when
// it opens: its voters are a snapshot, its deadline an absolute time, its
// quorum a count, so every member that receives it can check ballots and
// recompute the result without asking anyone.

import { randomUUID } from "node:crypto";
import { z } from "zod";
import { SlimError } from "../errors.js";

/**
 * How ballots become a winner.
 * - `plurality`: one choice per ballot; most votes wins.
 * - `majority`: one choice per ballot; the winner needs more than half of the
 *   ballots cast, otherwise the status is `no-majority`.
 * - `weighted`: one choice per ballot, counted with the voter's weight (1 when
 *   `weights` does not name the voter); highest total wins.
 * - `approval`: any non-empty set of choices; each approved choice gets 1.
 * - `ranked`: choices in order of preference, best first, possibly partial;
 *   Borda count: with m choices, place i (from 0) earns m - 1 - i, unranked 0.
 */
export const VoteStrategySchema = z.enum(["majority", "plurality", "weighted", "approval", "ranked"]);
export type VoteStrategy = z.infer<typeof VoteStrategySchema>;

/**
 * How choices with the same top score are ordered, so every member picks the
 * same winner without any shared randomness.
 * - `first-listed` (default): the choice listed earlier in `choices` wins, so
 *   put the status quo first to make it win ties.
 * - `seeded`: order by SHA-256(proposal id, NUL, choice) as lowercase hex,
 *   lowest first: arbitrary but fixed once the proposal id is chosen.
 * - `none`: no winner; the status is `tie`.
 */
export const TieBreakSchema = z.enum(["first-listed", "seeded", "none"]);
export type TieBreak = z.infer<typeof TieBreakSchema>;

export const MAX_CHOICES = 64;
export const MAX_VOTERS = 10_000;
/** Longest a vote (or its reveal window) may stay open: one day. */
export const MAX_VOTE_DURATION_MS = 86_400_000;
export const DEFAULT_REVEAL_WINDOW_MS = 10_000;

const IdSchema = z.string().min(1).max(128);
const ChoiceSchema = z.string().min(1).max(256);
const VoterSchema = z.string().min(1).max(512);
const distinct = (xs: readonly string[]): boolean => new Set(xs).size === xs.length;

/** A proposal as it travels in an `open` message: fully resolved, nothing left to default. */
export const ProposalSchema = z
  .strictObject({
    id: IdSchema,
    question: z.string().min(1).max(4_096),
    choices: z.array(ChoiceSchema).min(2).max(MAX_CHOICES).refine(distinct, "choices must be distinct"),
    strategy: VoteStrategySchema,
    /** Who may vote: names as the session authenticates senders, fixed at open. */
    voters: z.array(VoterSchema).min(1).max(MAX_VOTERS).refine(distinct, "voters must be distinct"),
    /** Accepted ballots needed for any result other than `no-quorum`. */
    quorum: z.int().min(1),
    /** Epoch ms; ballots (or commits) arriving later are rejected. */
    deadline: z.int().positive(),
    tieBreak: TieBreakSchema,
    /** Close before the deadline once the outcome can no longer change. */
    earlyClose: z.boolean(),
    /** Per-voter weight for the `weighted` strategy. */
    weights: z.record(VoterSchema, z.number().positive()).optional(),
    /** Blind voting: voters first send SHA-256(ballot ‖ salt), then reveal within the window. */
    commitReveal: z.strictObject({ revealWindowMs: z.int().min(1).max(MAX_VOTE_DURATION_MS) }).optional(),
  })
  .superRefine((p, ctx) => {
    if (p.quorum > p.voters.length) {
      ctx.addIssue({ code: "custom", path: ["quorum"], message: `quorum ${p.quorum} is more than the ${p.voters.length} voters` });
    }
    if (p.weights === undefined) return;
    if (p.strategy !== "weighted") ctx.addIssue({ code: "custom", path: ["weights"], message: "weights only apply to the weighted strategy" });
    const voters = new Set(p.voters);
    for (const v of Object.keys(p.weights)) {
      if (!voters.has(v)) ctx.addIssue({ code: "custom", path: ["weights", v], message: `${v} is not a voter` });
    }
  });
export type Proposal = z.output<typeof ProposalSchema>;

/** What a caller gives to open a vote; {@link createProposal} resolves it into a {@link Proposal}. */
export const ProposalInputSchema = z.strictObject({
  /** Defaults to a random UUID. Also the idempotency key of the vote. */
  id: IdSchema.optional(),
  question: z.string().min(1).max(4_096),
  choices: z.array(ChoiceSchema).min(2).max(MAX_CHOICES),
  strategy: VoteStrategySchema,
  /** Duplicates are collapsed. */
  voters: z.array(VoterSchema).min(1).max(MAX_VOTERS),
  /** A count of ballots, or a fraction of the voters (rounded up). Default: more than half the voters. */
  quorum: z.union([z.int().min(1), z.strictObject({ fraction: z.number().gt(0).max(1) })]).optional(),
  /** Absolute deadline (epoch ms); give this or `durationMs`. */
  deadline: z.int().positive().optional(),
  /** Deadline relative to opening; give this or `deadline`. */
  durationMs: z.int().min(1).max(MAX_VOTE_DURATION_MS).optional(),
  tieBreak: TieBreakSchema.default("first-listed"),
  earlyClose: z.boolean().default(true),
  weights: z.record(VoterSchema, z.number().positive()).optional(),
  /** `true` for the default reveal window. */
  commitReveal: z
    .union([z.boolean(), z.strictObject({ revealWindowMs: z.int().min(1).max(MAX_VOTE_DURATION_MS).default(DEFAULT_REVEAL_WINDOW_MS) })])
    .default(false),
});
export type ProposalInput = z.input<typeof ProposalInputSchema>;

/** A voter's ballot. `selection` holds one choice, the approved set, or the ranking (best first) per strategy. */
export const BallotSchema = z.strictObject({
  proposalId: IdSchema,
  voter: VoterSchema,
  selection: z.array(ChoiceSchema).min(1).max(MAX_CHOICES),
});
export type Ballot = z.output<typeof BallotSchema>;

/** A ballot as the tallier accepted it; `salt` is present under commit–reveal. */
export const AcceptedBallotSchema = BallotSchema.extend({ salt: z.string().min(1).max(128).optional() });
export type AcceptedBallot = z.output<typeof AcceptedBallotSchema>;

/** Parse `value` or throw SlimError("INVALID_ARGUMENT") with zod's readable report. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new SlimError("INVALID_ARGUMENT", `invalid ${what}:\n${z.prettifyError(r.error)}`);
  return r.data;
}

/** Resolve caller input into a proposal: snapshot the voters, fix the deadline and quorum. */
export function createProposal(input: ProposalInput, now: number = Date.now()): Proposal {
  const i = parseWith(ProposalInputSchema, input, "proposal");
  if ((i.deadline === undefined) === (i.durationMs === undefined)) {
    throw new SlimError("INVALID_ARGUMENT", "invalid proposal: give exactly one of `deadline` or `durationMs`");
  }
  const deadline = i.deadline ?? now + (i.durationMs as number);
  if (deadline <= now) throw new SlimError("INVALID_ARGUMENT", `invalid proposal: deadline ${deadline} is not after now (${now})`);
  const voters = [...new Set(i.voters)];
  const quorum =
    i.quorum === undefined
      ? Math.floor(voters.length / 2) + 1
      : typeof i.quorum === "number"
        ? i.quorum
        : Math.max(1, Math.ceil(i.quorum.fraction * voters.length));
  const commitReveal =
    i.commitReveal === false ? undefined : i.commitReveal === true ? { revealWindowMs: DEFAULT_REVEAL_WINDOW_MS } : i.commitReveal;
  return parseWith(
    ProposalSchema,
    {
      id: i.id ?? randomUUID(),
      question: i.question,
      choices: i.choices,
      strategy: i.strategy,
      voters,
      quorum,
      deadline,
      tieBreak: i.tieBreak,
      earlyClose: i.earlyClose,
      ...(i.weights === undefined ? {} : { weights: i.weights }),
      ...(commitReveal === undefined ? {} : { commitReveal }),
    },
    "proposal",
  );
}

/** Why `selection` is not a valid ballot for `proposal`, or undefined when it is. */
export function selectionProblem(proposal: Proposal, selection: readonly string[]): string | undefined {
  const offered = new Set(proposal.choices);
  for (const c of selection) {
    if (!offered.has(c)) return `${JSON.stringify(c)} is not one of the choices`;
  }
  if (!distinct(selection)) return "a choice appears more than once";
  if (selection.length === 0) return "nothing selected";
  switch (proposal.strategy) {
    case "majority":
    case "plurality":
    case "weighted":
      return selection.length === 1 ? undefined : `the ${proposal.strategy} strategy takes exactly one choice, got ${selection.length}`;
    case "approval":
    case "ranked":
      return undefined;
  }
}

/** The weight of `voter`'s ballot: its configured weight under `weighted`, otherwise 1. */
export function weightOf(proposal: Proposal, voter: string): number {
  if (proposal.strategy !== "weighted" || proposal.weights === undefined) return 1;
  return Object.hasOwn(proposal.weights, voter) ? (proposal.weights[voter] as number) : 1;
}
