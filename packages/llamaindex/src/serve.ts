// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Expose a LlamaIndex agent (an AgentWorkflow) on SLIM. Each request runs the
// agent on the transcript it carries: the last turn is the input, the rest the
// chat history. agentStreamEvent deltas stream back in order, then the final
// answer is the reply. Same protocol as the LangGraph adapter's serveGraph.

import { agentStreamEvent, stopAgentEvent, type AgentWorkflow } from "@llamaindex/workflow";
import { SlimError } from "@slim-ts/core";
import { serveAgentRun, type AgentEvent, type AgentRequest, type AgentRun, type AgentServer, type ServeTarget } from "./core-agents.js";
import { contentText, fromChatTurns } from "./messages.js";

/** The part of an AgentWorkflow serveAgent uses. */
export type RunnableAgent = Pick<AgentWorkflow, "runStream">;

function agentRun(agent: RunnableAgent): AgentRun {
  return async function* (request: AgentRequest, ctx): AsyncGenerator<AgentEvent> {
    const history = fromChatTurns(request.messages);
    const input = history.pop()!;
    const stream = agent.runStream(input.content, { chatHistory: history });
    for await (const ev of stream) {
      if (ctx.signal.aborted) throw new SlimError("ABORTED", "agent run aborted");
      if (agentStreamEvent.include(ev)) {
        if (ev.data.delta !== "") yield ev.data.delta;
      } else if (stopAgentEvent.include(ev)) {
        yield { final: contentText(ev.data.result) };
        return;
      }
    }
  };
}

/**
 * Serve `agent` on every session other apps open with `app` (an accept loop
 * runs until close()), on the sessions of a hub, or on one session.
 */
export function serveAgent(target: ServeTarget, agent: RunnableAgent): AgentServer {
  return serveAgentRun(target, agentRun(agent));
}
