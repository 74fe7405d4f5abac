// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// What the scripted models say. A real model (see common.ts) ignores these.

export const TOPIC = "Why should agents that talk to each other encrypt end to end?";

export const WRITER_SYSTEM = "You are a concise technical writer. Answer in about 60 words, plain prose, no lists.";

export const DRAFT =
  "Agents pass each other prompts, tool results and credentials, and every hop through a broker is a place where " +
  "that context can leak or be altered. With MLS, each SLIM group shares keys only among its members: nodes route " +
  "ciphertext they cannot read, every message is signed by its sender, and a member who leaves loses the keys at " +
  "the next epoch. Trust moves from the network to the group.";

export const REVIEW_LG = "Clear link between agent context and the threat. Suggest naming one concrete leak, such as a tool token.";
export const REVIEW_LI = "Good explanation of epochs and signatures. Suggest a closing line on what the operator can still see.";

export const PROPOSAL = "Publish the draft as it stands?";
export const PROPOSAL_CHOICES = ["publish", "revise"] as const;
