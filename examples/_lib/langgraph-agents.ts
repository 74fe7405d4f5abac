// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The LangGraph side of the demo agents (see agents.ts).

import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, AIMessageChunk, HumanMessage, SystemMessage } from "@langchain/core/messages";
import { Annotation, END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { ToolNode, toolsCondition } from "@langchain/langgraph/prebuilt";
import type { AgentHub, ScriptStep, SessionPort, VerifiedOutcome } from "@slim-ts/core";
import { chatModelFromEnv, createSlimTools, messageText, slimBallotNode } from "@slim-ts/langgraph";
import { pickChoice, REVIEW_SYSTEM, VOTER_TOOLS, voterPrompt, voterScript, type VoterSpec } from "./agents.js";
import { sleep } from "./common.js";

/**
 * A LangGraph graph with one node that asks its model; the tokens come out of
 * `graph.stream(..., { streamMode: "messages" })`, as any LangGraph app sees
 * them. `delayMs` paces the model (a scripted one answers instantly).
 */
export function langgraphWriter(script: readonly ScriptStep[], options: { system: string; delayMs?: number }): (prompt: string) => AsyncIterable<string> {
  const model: BaseChatModel = chatModelFromEnv(script);
  const graph = new StateGraph(MessagesAnnotation)
    .addNode("write", async (state, config) => {
      let text = "";
      for await (const chunk of await model.stream(state.messages, config)) {
        text += messageText(chunk);
        if (options.delayMs) await sleep(options.delayMs);
      }
      return { messages: [new AIMessage(text)] };
    })
    .addEdge(START, "write")
    .addEdge("write", END)
    .compile();
  return async function* (prompt: string) {
    const stream = await graph.stream({ messages: [new SystemMessage(options.system), new HumanMessage(prompt)] }, { streamMode: "messages" });
    for await (const [msg] of stream) {
      if (!AIMessageChunk.isInstance(msg)) continue; // the node's final AIMessage repeats the chunks
      const t = messageText(msg);
      if (t !== "") yield t;
    }
  };
}

/** A LangGraph review: one model call in a one-node graph. */
export async function langgraphReview(script: readonly ScriptStep[], draft: string): Promise<string> {
  const model = chatModelFromEnv(script);
  const graph = new StateGraph(MessagesAnnotation)
    .addNode("review", async (state, config) => ({ messages: [await model.invoke(state.messages, config)] }))
    .addEdge(START, "review")
    .addEdge("review", END)
    .compile();
  const out = await graph.invoke({ messages: [new SystemMessage(REVIEW_SYSTEM), new HumanMessage(`Draft:\n${draft}`)] });
  return messageText(out.messages.at(-1)!);
}

/** A LangGraph voter: a ballot node, or a tool-calling agent (ToolNode loop) with the SLIM tools. */
export async function runLangGraphVoter(hub: AgentHub, port: SessionPort, spec: VoterSpec, context: string, options: { timeoutMs: number }): Promise<VerifiedOutcome> {
  if (spec.style === "ballot-node") {
    // the ballot node waits for the vote, asks the model, casts, and verifies the result
    const model = chatModelFromEnv([{ text: spec.choice }]);
    const State = Annotation.Root({ outcome: Annotation<VerifiedOutcome>() });
    const graph = new StateGraph(State)
      .addNode(
        "ballot",
        slimBallotNode(port, {
          resultKey: "outcome",
          timeoutMs: options.timeoutMs,
          decide: async (proposal) => {
            const answer = await model.invoke([
              new SystemMessage(`You are ${spec.name}. ${context}`),
              new HumanMessage(`${proposal.question}\nAnswer with exactly one of: ${proposal.choices.join(", ")}.`),
            ]);
            return [pickChoice(messageText(answer), proposal.choices)];
          },
        }),
      )
      .addEdge(START, "ballot")
      .addEdge("ballot", END)
      .compile();
    return (await graph.invoke({})).outcome;
  }
  const vote = await port.nextVote({ timeoutMs: options.timeoutMs });
  const tools = createSlimTools(hub, { include: VOTER_TOOLS });
  const model = chatModelFromEnv(voterScript(spec.choice));
  const bound = model.bindTools?.(tools) ?? model;
  const graph = new StateGraph(MessagesAnnotation)
    .addNode("agent", async (s, config) => ({ messages: [await bound.invoke(s.messages, config)] }))
    .addNode("tools", new ToolNode(tools))
    .addEdge(START, "agent")
    .addConditionalEdges("agent", toolsCondition, ["tools", END])
    .addEdge("tools", "agent")
    .compile();
  await graph.invoke({ messages: [new HumanMessage(voterPrompt(spec, context))] }, { recursionLimit: 12 });
  return vote.result({ timeoutMs: options.timeoutMs });
}
