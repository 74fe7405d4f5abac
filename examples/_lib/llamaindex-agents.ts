// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The LlamaIndex side of the demo agents (see agents.ts).

import { agent, agentStreamEvent, stopAgentEvent } from "@llamaindex/workflow";
import type { AgentHub, ScriptStep, SessionPort, VerifiedOutcome } from "@slim-ts/core";
import { llmFromEnv, slimTools } from "@slim-ts/llamaindex";
import { REVIEW_SYSTEM, VOTER_TOOLS, voterPrompt, voterScript, type VoterSpec } from "./agents.js";
import { sleep } from "./common.js";

/** A LlamaIndex agent; its agentStreamEvent deltas are the tokens. `delayMs` paces them. */
export function llamaindexWriter(script: readonly ScriptStep[], options: { name: string; system: string; delayMs?: number }): (prompt: string) => AsyncIterable<string> {
  const a = agent({ name: options.name, llm: llmFromEnv(script), systemPrompt: options.system });
  return async function* (prompt: string) {
    for await (const ev of a.runStream(prompt)) {
      if (agentStreamEvent.include(ev) && ev.data.delta !== "") {
        yield ev.data.delta;
        if (options.delayMs) await sleep(options.delayMs);
      }
    }
  };
}

/** A LlamaIndex review: an agent without tools. */
export async function llamaindexReview(script: readonly ScriptStep[], name: string, draft: string): Promise<string> {
  const a = agent({ name, llm: llmFromEnv(script), systemPrompt: REVIEW_SYSTEM });
  let said = "";
  for await (const ev of a.runStream(`Draft:\n${draft}`)) if (stopAgentEvent.include(ev)) said = String(ev.data.result);
  return said;
}

/** A LlamaIndex voter: an agent with slim_read_inbox and slim_cast_ballot. */
export async function runLlamaIndexVoter(hub: AgentHub, port: SessionPort, spec: VoterSpec, context: string, options: { timeoutMs: number }): Promise<VerifiedOutcome> {
  const vote = await port.nextVote({ timeoutMs: options.timeoutMs });
  const a = agent({ name: spec.name.split("/")[2]?.replace(/[^A-Za-z0-9_]/g, "_") ?? "voter", llm: llmFromEnv(voterScript(spec.choice)), tools: slimTools(hub, { include: VOTER_TOOLS }) });
  for await (const ev of a.runStream(voterPrompt(spec, context))) if (stopAgentEvent.include(ev)) break;
  return vote.result({ timeoutMs: options.timeoutMs });
}
