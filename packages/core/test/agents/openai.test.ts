// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The OpenAI-compatible streaming client against an in-process fake endpoint.

import { describe, expect, it } from "vitest";
import { openAIConfigFromEnv, streamChatCompletion, ToolCallAccumulator, type OpenAIDelta } from "../../src/agents/openai.js";
import { isSlimError } from "../../src/errors.js";

/** A fetch answering with these SSE chunks, recording the request. */
function fakeFetch(chunks: unknown[], status = 200) {
  const seen: { url?: string; body?: Record<string, unknown>; headers?: Record<string, string> } = {};
  const f = (async (url: string, init: RequestInit) => {
    seen.url = url;
    seen.body = JSON.parse(init.body as string) as Record<string, unknown>;
    seen.headers = init.headers as Record<string, string>;
    if (status !== 200) return new Response("model not found", { status });
    // split the events across reads at odd places, as a network would
    const text = chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join("") + "data: [DONE]\n\n";
    const bytes = new TextEncoder().encode(text);
    const body = new ReadableStream<Uint8Array>({
      start(ctl) {
        for (let i = 0; i < bytes.length; i += 7) ctl.enqueue(bytes.slice(i, i + 7));
        ctl.close();
      },
    });
    return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
  }) as unknown as typeof fetch;
  return { f, seen };
}

const text = (t: string) => ({ choices: [{ delta: { content: t } }] });

describe("streamChatCompletion", () => {
  it("streams text and joins tool call fragments", async () => {
    const { f, seen } = fakeFetch([
      text("Hel"),
      text("lo"),
      { choices: [{ delta: { tool_calls: [{ index: 0, id: "c1", function: { name: "slim_send", arguments: '{"to":"org/' } }] } }] },
      { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: 'ns/bob","text":"hi"}' } }] }, finish_reason: "tool_calls" }] },
    ]);
    const out: OpenAIDelta[] = [];
    const calls = new ToolCallAccumulator();
    for await (const d of streamChatCompletion(
      { baseURL: "http://127.0.0.1:11434/v1/", model: "llama3.2", apiKey: "k", fetch: f },
      { messages: [{ role: "user", content: "hi" }], tools: [{ name: "slim_send", description: "send", parameters: { type: "object" } }] },
    )) {
      out.push(d);
      if (d.type === "tool-call") calls.add(d);
    }
    expect(out.filter((d) => d.type === "text").map((d) => (d as { text: string }).text)).toEqual(["Hel", "lo"]);
    expect(out.at(-1)).toEqual({ type: "finish", reason: "tool_calls" });
    expect(calls.done()).toEqual([{ id: "c1", name: "slim_send", args: { to: "org/ns/bob", text: "hi" } }]);
    expect(seen.url).toBe("http://127.0.0.1:11434/v1/chat/completions");
    expect(seen.body).toMatchObject({ model: "llama3.2", stream: true, tools: [{ type: "function", function: { name: "slim_send" } }] });
    expect(seen.headers?.authorization).toBe("Bearer k");
  });

  it("reports HTTP errors with the status and body", async () => {
    const { f } = fakeFetch([], 404);
    const err = await (async () => {
      for await (const _ of streamChatCompletion({ baseURL: "http://x/v1", model: "m", fetch: f }, { messages: [{ role: "user", content: "hi" }] }));
    })().catch((e: unknown) => e);
    expect(isSlimError(err, "CONNECTION")).toBe(true);
    expect((err as Error).message).toBe("chat completion failed: HTTP 404 model not found");
  });
});

describe("openAIConfigFromEnv", () => {
  it("reads the endpoint, key and model, or says nothing is configured", () => {
    expect(openAIConfigFromEnv({})).toBeUndefined();
    expect(openAIConfigFromEnv({ OPENAI_BASE_URL: "http://127.0.0.1:11434/v1", OPENAI_MODEL: "llama3.2" })).toEqual({ baseURL: "http://127.0.0.1:11434/v1", model: "llama3.2" });
    expect(openAIConfigFromEnv({ OPENAI_API_KEY: "sk", SLIM_TS_MODEL: "gpt-4o-mini" })).toEqual({ baseURL: "https://api.openai.com/v1", apiKey: "sk", model: "gpt-4o-mini" });
    expect(() => openAIConfigFromEnv({ OPENAI_API_KEY: "sk" })).toThrow(/set OPENAI_MODEL/);
  });
});
