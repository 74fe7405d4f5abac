// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// What the flagship's scripted writers say. A real model ignores these.

export const QUESTION = "Two agents disagree on a plan. How should a team of AI agents settle it?";

export const WRITER_SYSTEM = "You are one of several AI agents in a group chat. Answer in about 50 words, plain prose.";

export const ANSWER_LG =
  "Model it as a graph: each agent drafts its plan in its own node, a critic node scores both against the goal, " +
  "and a router edge picks the higher score. Keep the state checkpointed so the decision can be replayed, " +
  "audited, and resumed if an agent drops out halfway.";

export const ANSWER_LI =
  "Let every agent argue once, then vote. Independent first drafts avoid herding, a short debate surfaces " +
  "facts, and a majority ballot ends it. With signed ballots and a published tally, each member can recount " +
  "the result itself instead of trusting the one who counted.";
