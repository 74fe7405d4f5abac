// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The OpenAI-compatible chat model against an in-process fake endpoint: tokens
// stream through streamMode "messages", tool calls come back parsed, and the
// environment picks the model.

import { AIMessageChunk, ToolMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { chatModelFromEnv, OpenAIChatModel, ScriptedChatModel } from "../src/index.js";

/** Answers each request with the next list of SSE chunks; keeps the request bodies. */
function fakeEndpoint(replies: unknown[][]) {
  const bodies: Array<Record<string, unknown>> = [];
  const f = (async (_url: string, init: RequestInit) => {
    bodies.push(JSON.parse(init.body as string) as Record<string, unknown>);
    const chunks = replies[bodies.length - 1] ?? [];
    const text = chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join("") + "data: [DONE]\n\n";
    return new Response(text, { status: 200, headers: { "content-type": "text/event-stream" } });
  }) as unknown as typeof fetch;
  return { f, bodies };
}

const text = (t: string) => ({ choices: [{ delta: { content: t } }] });
const call = (args: string, id?: string) => ({ choices: [{ delta: { tool_calls: [{ index: 0, ...(id === undefined ? {} : { id, function: { name: "add" } }), function: { ...(id === undefined ? {} : { name: "add" }), arguments: args } }] } }] });

describe("OpenAIChatModel", () => {
  it("runs a tool loop and streams its answer token by token", async () => {
    const { f, bodies } = fakeEndpoint([[call('{"a":2,', "c1"), call('"b":3}')], [text("The "), text("sum "), text("is 5")]]);
    const add = tool(async ({ a, b }: { a: number; b: number }) => String(a + b), { name: "add", description: "add", schema: z.object({ a: z.number(), b: z.number() }) });
    const model = new OpenAIChatModel({ baseURL: "http://127.0.0.1:1/v1", model: "fake", fetch: f });
    const bound = model.bindTools([add]);
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("llm", async (s) => ({ messages: [await bound.invoke(s.messages)] }))
      .addNode("tools", async (s) => {
        const last = s.messages.at(-1) as AIMessageChunk;
        return { messages: await Promise.all(last.tool_calls!.map(async (c) => new ToolMessage({ content: await add.invoke(c.args as { a: number; b: number }), tool_call_id: c.id! }))) };
      })
      .addEdge(START, "llm")
      .addConditionalEdges("llm", (s) => ((s.messages.at(-1) as AIMessageChunk).tool_calls?.length ? "tools" : END), ["tools", END])
      .addEdge("tools", "llm")
      .compile();
    const tokens: string[] = [];
    for await (const [msg] of await graph.stream({ messages: [{ role: "user", content: "2+3?" }] }, { streamMode: "messages" })) {
      if (AIMessageChunk.isInstance(msg) && msg.content !== "") tokens.push(msg.content as string);
    }
    expect(tokens).toEqual(["The ", "sum ", "is 5"]);
    expect(bodies[0]!.tools).toEqual([expect.objectContaining({ type: "function", function: expect.objectContaining({ name: "add" }) })]);
    const second = bodies[1]!.messages as Array<Record<string, unknown>>;
    expect(second.map((m) => m.role)).toEqual(["user", "assistant", "tool"]);
    expect(second[1]!.tool_calls).toEqual([{ id: "c1", type: "function", function: { name: "add", arguments: '{"a":2,"b":3}' } }]);
    expect(second[2]).toEqual({ role: "tool", content: "5", tool_call_id: "c1" });
  });

  it("is chosen by the environment, else the script plays", () => {
    expect(chatModelFromEnv([{ text: "x" }], {})).toBeInstanceOf(ScriptedChatModel);
    const real = chatModelFromEnv([{ text: "x" }], { OPENAI_BASE_URL: "http://127.0.0.1:11434/v1", OPENAI_MODEL: "llama3.2" });
    expect(real).toBeInstanceOf(OpenAIChatModel);
    expect((real as OpenAIChatModel).config).toEqual({ baseURL: "http://127.0.0.1:11434/v1", model: "llama3.2" });
    expect(chatModelFromEnv([{ text: "x" }], { OPENAI_API_KEY: "k", OPENAI_MODEL: "m", SLIM_TS_LLM: "scripted" })).toBeInstanceOf(ScriptedChatModel);
  });
});
