// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A LlamaIndex agent served over SLIM, called as a tool from another agent
// (its tokens arrive as slimTokenEvents, in order) and from a LangGraph
// graph (its tokens arrive in streamMode "messages").

import { AIMessageChunk } from "@langchain/core/messages";
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { agent, stopAgentEvent } from "@llamaindex/workflow";
import { slimRemoteGraph } from "@slim-ts/langgraph";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ScriptedLLM, serveAgent, slimAgentTool, slimTokenEvent } from "../src/index.js";
import { splitTokens, type AgentServer } from "../src/core-agents.js";
import { testNet, type Net } from "./helpers.js";

let net: Net;
const servers: AgentServer[] = [];
beforeEach(async () => {
  net = await testNet();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await net.close();
});

const ANSWER = "bob the llamaindex agent answers in many small tokens";

async function bobServing() {
  const { hub: bob } = await net.agent("org/ns/bob");
  const llm = new ScriptedLLM([(h) => ({ text: `${ANSWER} (asked: ${h.at(-1)?.content})` })], { whenDone: "repeat-last" });
  servers.push(serveAgent(bob, agent({ name: "bob", llm })));
}

describe("serveAgent", () => {
  it("answers a LlamaIndex agent calling it as a tool, streaming tokens as events", async () => {
    await bobServing();
    const { hub: alice } = await net.agent("org/ns/alice", { allow: ["org/ns/bob"] });
    const askBob = slimAgentTool(alice, { to: "org/ns/bob", name: "ask_bob", description: "Ask Bob" });
    const llm = new ScriptedLLM([{ toolCalls: [{ name: "ask_bob", args: { input: "why?" } }] }, (h) => ({ text: `Bob said: ${h.at(-1)?.content}` })]);
    const a = agent({ name: "alice", llm, tools: [askBob] });
    const tokens: string[] = [];
    let final = "";
    for await (const ev of a.runStream("ask bob")) {
      if (slimTokenEvent.include(ev)) tokens.push(ev.data.delta);
      if (stopAgentEvent.include(ev)) final = String(ev.data.result);
    }
    const expected = `${ANSWER} (asked: why?)`;
    expect(tokens).toEqual(splitTokens(expected));
    expect(final).toBe(`Bob said: ${expected}`);
  });

  it("streams to a LangGraph graph in streamMode messages, in order", async () => {
    await bobServing();
    const { hub: alice } = await net.agent("org/ns/alice", { allow: ["org/ns/bob"] });
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("bob", slimRemoteGraph({ hub: alice, to: "org/ns/bob", name: "bob" }))
      .addEdge(START, "bob")
      .addEdge("bob", END)
      .compile();
    const tokens: string[] = [];
    for await (const [msg] of await graph.stream({ messages: [{ role: "user", content: "earlier" }, { role: "user", content: "now" }] }, { streamMode: "messages" })) {
      if (AIMessageChunk.isInstance(msg)) tokens.push(msg.content as string);
    }
    expect(tokens).toEqual(splitTokens(`${ANSWER} (asked: now)`));
  });
});
