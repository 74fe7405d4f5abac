// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Shared builders for the voting tests.

import { createProposal, type Ballot, type Proposal, type ProposalInput } from "../../src/voting/proposal.js";

export const T0 = 1_700_000_000_000;
export const VOTERS = ["org/ns/alice", "org/ns/bob", "org/ns/carol", "org/ns/dave", "org/ns/erin"] as const;

export function proposal(over: Partial<ProposalInput> = {}): Proposal {
  return createProposal(
    {
      id: "p1",
      question: "which?",
      choices: ["a", "b", "c"],
      strategy: "plurality",
      voters: [...VOTERS],
      quorum: 1,
      deadline: T0 + 1_000,
      ...over,
    },
    T0,
  );
}

export const ballot = (p: Proposal, voter: string, ...selection: string[]): Ballot => ({ proposalId: p.id, voter, selection });
