// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A vote across frameworks on one SLIM group: a LangGraph graph opens it, a
// LangGraph tool-calling agent, a LlamaIndex agent and a LangGraph ballot node
// vote, and every member ends up with a result it recounted itself.

import { ToolMessage } from "@langchain/core/messages";
import { Annotation, END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { ToolNode, toolsCondition } from "@langchain/langgraph/prebuilt";
import { agent, stopAgentEvent } from "@llamaindex/workflow";
import { tally, type VerifiedOutcome } from "@slim-ts/core";
import { createSlimTools, ScriptedChatModel, slimBallotNode, slimVoteNode, type VoteRecord } from "@slim-ts/langgraph";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ScriptedLLM, slimTools } from "../src/index.js";
import type { ChatTurn, ScriptStep } from "../src/core-agents.js";
import { testNet, type Net } from "./helpers.js";

let net: Net;
beforeEach(async () => {
  net = await testNet();
});
afterEach(async () => {
  await net.close();
});

const COUNCIL = "org/ns/council";

/**
 * Read the inbox, then cast `choice` on the first open vote it lists, then say
 * so. The listing is JSON in LangChain and quote-stripped JSON in LlamaIndex,
 * so the id is picked out by pattern.
 */
function voterScript(choice: string): ScriptStep[] {
  return [
    { toolCalls: [{ name: "slim_read_inbox", args: {} }] },
    (history: readonly ChatTurn[]) => {
      const proposalId = /proposalId"?:\s*"?([0-9a-f-]{36})/.exec(history.at(-1)!.content)?.[1] ?? "missing";
      return { toolCalls: [{ name: "slim_cast_ballot", args: { proposalId, choice } }] };
    },
    { text: `voted ${choice}` },
  ];
}

describe("a vote between LangGraph and LlamaIndex agents", () => {
  it("is tallied by the moderator and verified by every member", async () => {
    const { hub: chair } = await net.agent("org/ns/chair");
    const { hub: carol } = await net.agent("org/ns/carol");
    const { hub: dave } = await net.agent("org/ns/dave");
    const { hub: erin } = await net.agent("org/ns/erin");
    const group = await chair.createGroup(COUNCIL, ["org/ns/carol", "org/ns/dave", "org/ns/erin"]);

    // the moderator: a LangGraph node opens the vote and waits for the result
    const Chair = Annotation.Root({ vote: Annotation<VoteRecord>() });
    const chairGraph = new StateGraph(Chair)
      .addNode("open_vote", slimVoteNode(group, { proposal: () => ({ question: "ship v2?", choices: ["yes", "no"], strategy: "majority", durationMs: 5_000 }), resultKey: "vote" }))
      .addEdge(START, "open_vote")
      .addEdge("open_vote", END)
      .compile();
    const chairRun = chairGraph.invoke({});
    chairRun.catch(() => undefined); // awaited below; this keeps an early failure from going unhandled

    // erin: a LangGraph ballot node
    const Erin = Annotation.Root({ outcome: Annotation<VerifiedOutcome>() });
    const erinPort = await erin.port(COUNCIL);
    const erinRun = new StateGraph(Erin)
      .addNode("ballot", slimBallotNode(erinPort, { decide: () => ["no"], resultKey: "outcome", timeoutMs: 3_000 }))
      .addEdge(START, "ballot")
      .addEdge("ballot", END)
      .compile()
      .invoke({});
    erinRun.catch(() => undefined);

    // carol (LangGraph) and dave (LlamaIndex) vote through their tools once the vote reached them
    const carolVote = await (await carol.port(COUNCIL)).nextVote({ timeoutMs: 3_000 });
    const daveVote = await (await dave.port(COUNCIL)).nextVote({ timeoutMs: 3_000 });
    const carolTools = createSlimTools(carol);
    const carolModel = new ScriptedChatModel({ script: voterScript("yes") });
    const carolRun = new StateGraph(MessagesAnnotation)
      .addNode("agent", async (s) => ({ messages: [await carolModel.bindTools(carolTools).invoke(s.messages)] }))
      .addNode("tools", new ToolNode(carolTools))
      .addEdge(START, "agent")
      .addConditionalEdges("agent", toolsCondition, ["tools", END])
      .addEdge("tools", "agent")
      .compile()
      .invoke({ messages: [{ role: "user", content: "vote" }] });
    carolRun.catch(() => undefined);
    const daveAgent = agent({ name: "dave", llm: new ScriptedLLM(voterScript("yes")), tools: slimTools(dave) });
    let daveSaid = "";
    for await (const ev of daveAgent.runStream("vote")) if (stopAgentEvent.include(ev)) daveSaid = String(ev.data.result);

    const carolOut = await carolRun;
    const carolResults = carolOut.messages.filter((m) => ToolMessage.isInstance(m)).map((m) => String(m.content));
    expect(carolResults[1]).toContain('"cast":["yes"]');
    expect(carolOut.messages.at(-1)!.content).toBe("voted yes");
    expect(daveSaid).toBe("voted yes");

    const { vote } = await chairRun;
    expect(vote.result.status).toBe("decided");
    expect(vote.result.winner).toBe("yes");
    expect(vote.result.scores).toEqual({ yes: 2, no: 1 });
    expect(vote.result.voted).toEqual([carol.self, dave.self, erin.self].sort());
    // the moderator's published result is exactly the pure recount of the ballots it published
    expect(tally(vote.proposal, vote.ballots)).toEqual(vote.result);

    const verified = [await carolVote.result(), await daveVote.result(), (await erinRun).outcome];
    for (const v of verified) {
      expect(v.moderator).toBe(chair.self);
      expect(v.result).toEqual(vote.result);
      expect(v.unconfirmed).toEqual([]);
      expect(tally(v.proposal, v.ballots).digest).toBe(vote.result.digest);
    }
  });
});
