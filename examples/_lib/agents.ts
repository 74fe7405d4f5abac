// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The demo agents, in both frameworks. Each takes its model from the
// environment (chatModelFromEnv / llmFromEnv): scripted by default, a real
// OpenAI-compatible model when one is configured, with no code change.
//
// - writers produce an answer as a token stream (LangGraph graph, or LlamaIndex agent);
// - reviewers turn a draft into a short review (both frameworks);
// - voters cast a ballot in an open vote: a LangGraph tool-calling agent, a
//   LangGraph ballot node, or a LlamaIndex agent with the SLIM tools.
//
// The framework code lives in langgraph-agents.ts and llamaindex-agents.ts;
// runVoter loads only the one it needs (a process with one agent then loads
// one framework).

import type { AgentHub, ChatTurn, ScriptStep, SessionPort, VerifiedOutcome } from "@slim-ts/core";

export type Framework = "langgraph" | "llamaindex";
export type VoterStyle = "tools" | "ballot-node";

export interface VoterSpec {
  /** `org/ns/service` */
  name: string;
  framework: Framework;
  /** LangGraph only: a tool-calling agent (default) or a ballot node. */
  style?: VoterStyle;
  /** What the scripted model picks. */
  choice: string;
}

export const REVIEW_SYSTEM = "You review drafts written by another agent. Answer with two short sentences: one strength, one suggestion.";

/** The SLIM tools a voter gets. */
export const VOTER_TOOLS = ["slim_read_inbox", "slim_cast_ballot"] as const;

/**
 * The script of a tool-calling voter: read the inbox (which lists the open
 * votes), cast `choice` on the first one listed, then say so. The listing is
 * JSON in LangChain and quote-stripped JSON in LlamaIndex, so the id is
 * picked out by pattern.
 */
export function voterScript(choice: string): ScriptStep[] {
  return [
    { toolCalls: [{ name: "slim_read_inbox", args: { max: 5 } }] },
    (history: readonly ChatTurn[]) => {
      const proposalId = /proposalId"?:\s*"?([0-9a-f-]{36})/.exec(history.at(-1)?.content ?? "")?.[1] ?? "missing";
      return { toolCalls: [{ name: "slim_cast_ballot", args: { proposalId, choice } }] };
    },
    { text: `I voted ${choice}.` },
  ];
}

/** What a tool-calling voter is told (a real model needs it; a script ignores it). */
export function voterPrompt(spec: VoterSpec, context: string): string {
  return [
    `You are ${spec.name}, a member of a SLIM group where a vote is open.`,
    context,
    "Call slim_read_inbox to see the open vote (its proposalId, question and choices), then call slim_cast_ballot once",
    "with that proposalId and exactly one of the listed choices. Then reply in one short sentence.",
  ].join("\n");
}

/** The choice named in a model's free-text answer (the first listed one it mentions), or the first choice. */
export function pickChoice(text: string, choices: readonly string[]): string {
  const lower = text.toLowerCase();
  return choices.find((c) => lower.includes(c.toLowerCase())) ?? (choices[0] as string);
}

/**
 * Take part in the next vote opened on `port` as `spec` says, and return the
 * result this member verified (recounted from the published ballots and held
 * against what it saw on the channel).
 */
export async function runVoter(hub: AgentHub, port: SessionPort, spec: VoterSpec, context: string, options: { timeoutMs: number }): Promise<VerifiedOutcome> {
  if (spec.framework === "langgraph") return (await import("./langgraph-agents.js")).runLangGraphVoter(hub, port, spec, context, options);
  return (await import("./llamaindex-agents.js")).runLlamaIndexVoter(hub, port, spec, context, options);
}
