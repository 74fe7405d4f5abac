// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A graph served over SLIM and called from another graph: the remote tokens
// arrive in order in streamMode "messages", and failures come back as errors.

import { AIMessageChunk } from "@langchain/core/messages";
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ScriptedChatModel, serveGraph, SlimRemoteChatModel, slimRemoteGraph, type AgentServer } from "../src/index.js";
import { splitTokens } from "../src/core-agents.js";
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

function chatGraph(model: ScriptedChatModel) {
  return new StateGraph(MessagesAnnotation)
    .addNode("llm", async (s) => ({ messages: [await model.invoke(s.messages)] }))
    .addEdge(START, "llm")
    .addEdge("llm", END)
    .compile();
}

const ANSWER = "the remote graph streams these words one by one";

async function bobServing(script: ConstructorParameters<typeof ScriptedChatModel>[0]["script"]) {
  const { hub: bob } = await net.agent("org/ns/bob");
  servers.push(serveGraph(bob, chatGraph(new ScriptedChatModel({ script }))));
  const { hub: alice } = await net.agent("org/ns/alice", { allow: ["org/ns/bob"] });
  return alice;
}

describe("remote agents", () => {
  it("stream their tokens, in order, into the caller's streamMode messages", async () => {
    const alice = await bobServing([{ text: ANSWER }]);
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("bob", slimRemoteGraph({ hub: alice, to: "org/ns/bob", name: "bob" }))
      .addEdge(START, "bob")
      .addEdge("bob", END)
      .compile();
    const tokens: string[] = [];
    const nodes = new Set<string>();
    let final: unknown;
    for await (const [mode, chunk] of await graph.stream({ messages: [{ role: "user", content: "talk to me" }] }, { streamMode: ["messages", "values"] })) {
      if (mode === "values") {
        final = chunk;
        continue;
      }
      const [msg, meta] = chunk as [AIMessageChunk, { langgraph_node: string }];
      if (!AIMessageChunk.isInstance(msg)) continue;
      tokens.push(msg.content as string);
      nodes.add(meta.langgraph_node);
    }
    expect(tokens).toEqual(splitTokens(ANSWER));
    expect(tokens.length).toBeGreaterThan(5);
    expect([...nodes]).toEqual(["bob"]);
    const last = (final as { messages: Array<{ content: unknown; name?: string }> }).messages.at(-1)!;
    expect([last.content, last.name]).toEqual([ANSWER, "bob"]);
  });

  it("see the caller's transcript, and the model streams through .stream()", async () => {
    const alice = await bobServing([(history) => ({ text: `you said: ${history.at(-1)?.content}` })]);
    const model = new SlimRemoteChatModel({ hub: alice, to: "org/ns/bob" });
    const out: string[] = [];
    for await (const chunk of await model.stream([{ role: "user", content: "hello bob" }])) out.push(chunk.content as string);
    expect(out.join("")).toBe("you said: hello bob");
    expect(out.length).toBe(4);
  });

  it("report a failing remote graph as an error", async () => {
    const alice = await bobServing([{ text: "only one turn" }]);
    const model = new SlimRemoteChatModel({ hub: alice, to: "org/ns/bob", timeoutMs: 3_000 });
    await model.invoke("first");
    await expect(model.invoke("second")).rejects.toThrow(/failed at the sender: .*script has 1 turns/);
  });
});
