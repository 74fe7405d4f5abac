// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The SLIM tools in LangChain: schema and allow-list errors a model can read,
// and a scripted agent loop (model -> ToolNode -> model) over real sessions.

import { ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { ToolNode, toolsCondition } from "@langchain/langgraph/prebuilt";
import { isSlimError } from "@slim-ts/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSlimTools, ScriptedChatModel, serveGraph, type AgentServer } from "../src/index.js";
import { agentTools, type AgentHub } from "../src/core-agents.js";
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

const byName = (hub: AgentHub, name: string) => createSlimTools(hub).find((t) => t.name === name)!;

describe("SLIM tools for LangChain", () => {
  it("reject malformed arguments with zod's report", async () => {
    const { hub } = await net.agent("org/ns/alice", { allow: ["org/ns/bob"] });
    const send = byName(hub, "slim_send");
    await expect(send.invoke({ to: 42, text: "hi" })).rejects.toThrow(/did not match expected schema[\s\S]*to/);
    await expect(send.invoke({ to: "org/ns/bob" })).rejects.toThrow(/text/);
    // the framework-neutral tool checks again, whatever called it
    const spec = agentTools(hub).find((t) => t.name === "slim_cast_ballot")!;
    const err = await spec.call({ proposalId: "p", choice: "yes", choices: ["yes"] }).catch((e: unknown) => e);
    expect(isSlimError(err, "INVALID_ARGUMENT")).toBe(true);
    expect((err as Error).message).toMatch(/^slim_cast_ballot: invalid arguments:\n.*exactly one of `choice` or `choices`/);
  });

  it("refuse names off the allow-list and names that are not SLIM names", async () => {
    const { hub } = await net.agent("org/ns/alice", { allow: ["org/ns/bob", "org/team/*"] });
    const send = byName(hub, "slim_send");
    await expect(send.invoke({ to: "org/ns/mallory", text: "hi" })).rejects.toThrow('peer "org/ns/mallory" is not on the allow-list; allowed: org/ns/bob, org/team/*');
    await expect(send.invoke({ to: "mallory", text: "hi" })).rejects.toThrow('"mallory" is not a SLIM name');
    await expect(byName(hub, "slim_broadcast").invoke({ group: "org/ns/room", text: "hi" })).rejects.toThrow(/"org\/ns\/room" is not a group this agent is in/);
    expect(send.description).toContain("Allowed agents: org/ns/bob, org/team/*");
  });

  it("send, read the inbox, and ask through a scripted agent loop", async () => {
    const { hub: bob } = await net.agent("org/ns/bob", { allow: ["org/ns/alice"] });
    const bobModel = new ScriptedChatModel({ script: [(h) => ({ text: `bob got ${JSON.stringify(h.at(-1)?.content)}` })], whenDone: "repeat-last" });
    servers.push(
      serveGraph(
        bob,
        new StateGraph(MessagesAnnotation)
          .addNode("llm", async (s) => ({ messages: [await bobModel.invoke(s.messages)] }))
          .addEdge(START, "llm")
          .addEdge("llm", END)
          .compile(),
      ),
    );
    const { hub: alice } = await net.agent("org/ns/alice", { allow: ["org/ns/bob"] });
    const tools = createSlimTools(alice);
    const model = new ScriptedChatModel({
      script: [
        { toolCalls: [{ name: "slim_request", args: { to: "org/ns/bob", text: "2+2?" } }, { name: "slim_send", args: { to: "org/ns/mallory", text: "psst" } }] },
        { text: "done" },
      ],
    });
    const agent = new StateGraph(MessagesAnnotation)
      .addNode("agent", async (s) => ({ messages: [await model.bindTools(tools).invoke(s.messages)] }))
      .addNode("tools", new ToolNode(tools))
      .addEdge(START, "agent")
      .addConditionalEdges("agent", toolsCondition, ["tools", END])
      .addEdge("tools", "agent")
      .compile();
    const out = await agent.invoke({ messages: [{ role: "user", content: "go" }] });
    const results = out.messages.filter((m: BaseMessage) => ToolMessage.isInstance(m)) as ToolMessage[];
    expect(results.map((m) => m.content)).toEqual(['bob got "2+2?"', expect.stringMatching(/not on the allow-list/)]);
    expect(out.messages.at(-1)!.content).toBe("done");
    expect(model.boundTools).toContain("slim_read_inbox");

    // bob writes to alice; her inbox tool hands the message over once
    await (await bob.peer("org/ns/alice")).publish("hello alice");
    const read = byName(alice, "slim_read_inbox");
    let got: { messages: Array<{ from: string; text: string }> } = { messages: [] };
    for (let i = 0; i < 50 && got.messages.length === 0; i++) {
      got = JSON.parse((await read.invoke({ from: "org/ns/bob" })) as string);
      if (got.messages.length === 0) await new Promise((r) => setTimeout(r, 10));
    }
    expect(got.messages.map((m) => [m.from.split("/").slice(0, 3).join("/"), m.text])).toEqual([["org/ns/bob", "hello alice"]]);
    expect(JSON.parse((await read.invoke({})) as string).messages).toEqual([]);
  });
});
