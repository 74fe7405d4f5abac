// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The OpenAI-compatible LLM driving a LlamaIndex agent against an in-process
// fake endpoint, and the environment switch.

import { tool } from "@llamaindex/core/tools";
import { agent, agentStreamEvent, stopAgentEvent } from "@llamaindex/workflow";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { llmFromEnv, OpenAILLM, ScriptedLLM } from "../src/index.js";

function fakeEndpoint(replies: unknown[][]) {
  const bodies: Array<Record<string, unknown>> = [];
  const f = (async (_url: string, init: RequestInit) => {
    bodies.push(JSON.parse(init.body as string) as Record<string, unknown>);
    const chunks = replies[bodies.length - 1] ?? [];
    return new Response(chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join("") + "data: [DONE]\n\n", { status: 200 });
  }) as unknown as typeof fetch;
  return { f, bodies };
}

describe("OpenAILLM", () => {
  it("drives an agent: a tool call, then a streamed answer", async () => {
    const { f, bodies } = fakeEndpoint([
      [{ choices: [{ delta: { tool_calls: [{ index: 0, id: "c1", function: { name: "double", arguments: '{"n":' } }] } }] }, { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: "21}" } }] } }] }],
      [{ choices: [{ delta: { content: "It is " } }] }, { choices: [{ delta: { content: "42" } }] }],
    ]);
    const double = tool({ name: "double", description: "double n", parameters: z.object({ n: z.number() }), execute: ({ n }) => String(n * 2) });
    const a = agent({ name: "calc", llm: new OpenAILLM({ baseURL: "http://127.0.0.1:1/v1", model: "fake", fetch: f }), tools: [double] });
    const deltas: string[] = [];
    let final = "";
    for await (const ev of a.runStream("double 21")) {
      if (agentStreamEvent.include(ev) && ev.data.delta !== "") deltas.push(ev.data.delta);
      if (stopAgentEvent.include(ev)) final = String(ev.data.result);
    }
    expect(deltas).toEqual(["It is ", "42"]);
    expect(final).toBe("It is 42");
    const second = bodies[1]!.messages as Array<Record<string, unknown>>;
    expect(second.at(-2)).toMatchObject({ role: "assistant", tool_calls: [{ id: "c1", function: { name: "double", arguments: '{"n":21}' } }] });
    expect(second.at(-1)).toEqual({ role: "tool", content: "42", tool_call_id: "c1" });
  });

  it("is chosen by the environment, else the script plays", () => {
    expect(llmFromEnv([{ text: "x" }], {})).toBeInstanceOf(ScriptedLLM);
    expect(llmFromEnv([{ text: "x" }], { OPENAI_BASE_URL: "http://127.0.0.1:11434/v1", OPENAI_MODEL: "llama3.2" })).toBeInstanceOf(OpenAILLM);
  });
});
