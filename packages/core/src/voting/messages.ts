// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The vote protocol's messages and their encoding: UTF-8 JSON objects with a
// version `v`, a `type` and the `proposalId` they belong to. The envelope is
// read first, so a malformed body can still be charged to its vote.

import { z } from "zod";
import { SlimError } from "../errors.js";
import { CommitSchema, RevealSchema } from "./ballot-box.js";
import { AcceptedBallotSchema, BallotSchema, ProposalSchema } from "./proposal.js";
import { VoteResultSchema } from "./tally.js";

export const VOTE_WIRE_VERSION = 1;
/** Payload type the session adapter marks vote messages with. */
export const VOTE_PAYLOAD_TYPE = "application/vnd.slim-ts.vote+json;v=1";
/** Larger payloads are refused before parsing. */
export const MAX_VOTE_MESSAGE_BYTES = 4 * 1024 * 1024;
const MAX_LISTED_REJECTIONS = 1_000;

const Envelope = {
  v: z.literal(VOTE_WIRE_VERSION),
  proposalId: z.string().min(1).max(128),
};

export const RejectionSchema = z.strictObject({
  sender: z.string().max(512),
  reason: z.string().max(64),
  detail: z.string().max(2_000),
});
export type Rejection = z.output<typeof RejectionSchema>;

/** Moderator → all: a vote is open. */
export const OpenMessageSchema = z.strictObject({ ...Envelope, type: z.literal("open"), proposal: ProposalSchema });
/** Voter → all: a plain ballot. */
export const BallotMessageSchema = z.strictObject({ ...Envelope, type: z.literal("ballot"), ballot: BallotSchema });
/** Voter → all: a commit to a hidden ballot. */
export const CommitMessageSchema = z.strictObject({ ...Envelope, type: z.literal("commit"), commit: CommitSchema });
/** Moderator → all: commits are closed; these voters must reveal before `revealDeadline`. */
export const CommitsMessageSchema = z.strictObject({
  ...Envelope,
  type: z.literal("commits"),
  commits: z.array(CommitSchema),
  revealDeadline: z.int().positive(),
});
/** Voter → all: a ballot and the salt that opens its commit. */
export const RevealMessageSchema = z.strictObject({ ...Envelope, type: z.literal("reveal"), reveal: RevealSchema });
/**
 * Moderator → all: the outcome, with every accepted ballot so each member can
 * recompute it; `commits` under commit–reveal; `rejected` is informational.
 */
export const ResultMessageSchema = z.strictObject({
  ...Envelope,
  type: z.literal("result"),
  result: VoteResultSchema,
  ballots: z.array(AcceptedBallotSchema),
  commits: z.array(CommitSchema).optional(),
  rejected: z.array(RejectionSchema).max(MAX_LISTED_REJECTIONS),
  closedAt: z.int().positive(),
  closedEarly: z.boolean(),
});

export const VoteMessageSchema = z.discriminatedUnion("type", [
  OpenMessageSchema,
  BallotMessageSchema,
  CommitMessageSchema,
  CommitsMessageSchema,
  RevealMessageSchema,
  ResultMessageSchema,
]);
export type VoteMessage = z.output<typeof VoteMessageSchema>;
export type VoteMessageType = VoteMessage["type"];
export type VoteMessageOf<T extends VoteMessageType> = Extract<VoteMessage, { type: T }>;

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

export function encodeVoteMessage(message: VoteMessage): Uint8Array {
  return enc.encode(JSON.stringify(message));
}

export type DecodedVoteMessage =
  | { ok: true; message: VoteMessage }
  /** `proposalId` is set when the envelope was readable, so the failure can be charged to that vote. */
  | { ok: false; error: SlimError; proposalId?: string };

const EnvelopeSchema = z.looseObject({ ...Envelope, type: z.string() });

/** Decode and validate one payload; never throws. */
export function decodeVoteMessage(payload: Uint8Array): DecodedVoteMessage {
  const fail = (detail: string, proposalId?: string): DecodedVoteMessage => ({
    ok: false,
    error: new SlimError("INVALID_ARGUMENT", `invalid vote message: ${detail}`),
    ...(proposalId === undefined ? {} : { proposalId }),
  });
  if (payload.byteLength > MAX_VOTE_MESSAGE_BYTES) return fail(`${payload.byteLength} bytes, more than ${MAX_VOTE_MESSAGE_BYTES}`);
  let json: unknown;
  try {
    json = JSON.parse(dec.decode(payload));
  } catch {
    return fail("not UTF-8 JSON");
  }
  const envelope = EnvelopeSchema.safeParse(json);
  if (!envelope.success) return fail(z.prettifyError(envelope.error));
  const message = VoteMessageSchema.safeParse(json);
  if (!message.success) return fail(z.prettifyError(message.error), envelope.data.proposalId);
  const m = message.data;
  const inner =
    m.type === "open" ? m.proposal.id : m.type === "ballot" ? m.ballot.proposalId : m.type === "commit" ? m.commit.proposalId : m.type === "reveal" ? m.reveal.ballot.proposalId : m.proposalId;
  if (inner !== m.proposalId) return fail(`body is for proposal ${inner}, envelope for ${m.proposalId}`, m.proposalId);
  return { ok: true, message: m };
}

/** Trim a rejection list to what a result message may carry. */
export function listedRejections(all: readonly Rejection[]): Rejection[] {
  return all.slice(0, MAX_LISTED_REJECTIONS).map((r) => ({ ...r, detail: r.detail.slice(0, 2_000) }));
}
