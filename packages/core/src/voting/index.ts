// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Voting and consensus over a session: the public surface.

export { createProposal, ProposalSchema, ProposalInputSchema, BallotSchema, AcceptedBallotSchema, VoteStrategySchema, TieBreakSchema } from "./proposal.js";
export type { Proposal, ProposalInput, Ballot, AcceptedBallot, VoteStrategy, TieBreak } from "./proposal.js";
export { tally, ballotDigest, VoteResultSchema } from "./tally.js";
export type { VoteResult, VoteStatus } from "./tally.js";
export { BallotBox, BallotRejectedError, isBallotRejected, commitFor } from "./ballot-box.js";
export type { RejectReason, Commit } from "./ballot-box.js";
export { VoteMessageSchema, encodeVoteMessage, decodeVoteMessage, VOTE_PAYLOAD_TYPE } from "./messages.js";
export type { VoteMessage, DecodedVoteMessage } from "./messages.js";
export { verifyOutcome } from "./outcome.js";
export type { VoteOutcome, VerifiedOutcome, VoteEvidence, VoteSend, InboundVoteMessage } from "./outcome.js";
export { VoteModerator, VoteRound } from "./moderator.js";
export type { VoteModeratorOptions, VoteProgress } from "./moderator.js";
export { VoteParticipant, VoteInvitation } from "./participant.js";
export type { VoteParticipantOptions } from "./participant.js";
export { attachVoting, SessionVoting } from "./session.js";
export type { VotingSession, SessionVotingOptions, SessionProposalInput } from "./session.js";
