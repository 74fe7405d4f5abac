// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A small OpenAI-compatible chat-completions client (streaming, with tool
// calls) on fetch, for OpenAI, Ollama, vLLM, LM Studio and the like. No
// OpenAI SDK is installed here, and both adapters need the same thing, so
// their chat models wrap this. Configured from the environment:
// OPENAI_BASE_URL, OPENAI_API_KEY and OPENAI_MODEL (or SLIM_TS_MODEL).

import { SlimError } from "../errors.js";

export const DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1";

export interface OpenAIChatConfig {
  /** e.g. `http://127.0.0.1:11434/v1` for Ollama. */
  baseURL: string;
  /** Sent as a Bearer token when set (Ollama takes any string or none). */
  apiKey?: string;
  model: string;
  temperature?: number;
  /** For tests or proxies; default the global fetch. */
  fetch?: typeof fetch;
}

/**
 * The client configuration the environment describes, or undefined when it
 * names no endpoint (neither OPENAI_BASE_URL nor OPENAI_API_KEY is set).
 */
export function openAIConfigFromEnv(env: Record<string, string | undefined> = process.env): OpenAIChatConfig | undefined {
  const baseURL = env.OPENAI_BASE_URL;
  const apiKey = env.OPENAI_API_KEY;
  if (!baseURL && !apiKey) return undefined;
  const model = env.OPENAI_MODEL || env.SLIM_TS_MODEL;
  if (!model) throw new SlimError("CONFIG", "set OPENAI_MODEL (or SLIM_TS_MODEL) to the model name, e.g. gpt-4o-mini or llama3.2");
  return { baseURL: baseURL || DEFAULT_OPENAI_BASE_URL, model, ...(apiKey ? { apiKey } : {}) };
}

export interface OpenAIToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export type OpenAIMessage =
  | { role: "system" | "user"; content: string }
  | { role: "assistant"; content: string | null; tool_calls?: OpenAIToolCall[] }
  | { role: "tool"; content: string; tool_call_id: string };

export interface OpenAIToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
}

/** One streamed piece: text, part of a tool call (arguments arrive in fragments), or the end. */
export type OpenAIDelta =
  | { type: "text"; text: string }
  | { type: "tool-call"; index: number; id?: string; name?: string; arguments?: string }
  | { type: "finish"; reason: string };

interface StreamChunk {
  choices?: Array<{
    delta?: { content?: string | null; tool_calls?: Array<{ index?: number; id?: string; function?: { name?: string; arguments?: string } }> };
    finish_reason?: string | null;
  }>;
}

function* deltasOf(chunk: StreamChunk): Generator<OpenAIDelta> {
  for (const choice of chunk.choices ?? []) {
    const d = choice.delta;
    if (typeof d?.content === "string" && d.content !== "") yield { type: "text", text: d.content };
    for (const [k, tc] of (d?.tool_calls ?? []).entries()) {
      yield {
        type: "tool-call",
        index: tc.index ?? k,
        ...(tc.id === undefined ? {} : { id: tc.id }),
        ...(tc.function?.name === undefined ? {} : { name: tc.function.name }),
        ...(tc.function?.arguments === undefined ? {} : { arguments: tc.function.arguments }),
      };
    }
    if (choice.finish_reason) yield { type: "finish", reason: choice.finish_reason };
  }
}

/** POST /chat/completions with `stream: true` and yield the deltas of its server-sent events. */
export async function* streamChatCompletion(
  config: OpenAIChatConfig,
  request: { messages: readonly OpenAIMessage[]; tools?: readonly OpenAIToolSpec[]; signal?: AbortSignal },
): AsyncGenerator<OpenAIDelta> {
  const body = {
    model: config.model,
    messages: request.messages,
    stream: true,
    ...(config.temperature === undefined ? {} : { temperature: config.temperature }),
    ...(request.tools === undefined || request.tools.length === 0
      ? {}
      : { tools: request.tools.map((t) => ({ type: "function", function: { name: t.name, description: t.description, parameters: t.parameters } })) }),
  };
  const doFetch = config.fetch ?? fetch;
  const res = await doFetch(`${config.baseURL.replace(/\/+$/, "")}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", ...(config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {}) },
    body: JSON.stringify(body),
    ...(request.signal === undefined ? {} : { signal: request.signal }),
  }).catch((err: unknown) => {
    throw new SlimError("CONNECTION", `cannot reach ${config.baseURL}: ${String(err)}`, { cause: err });
  });
  if (!res.ok || res.body === null) {
    const detail = await res.text().catch(() => "");
    throw new SlimError("CONNECTION", `chat completion failed: HTTP ${res.status} ${detail.slice(0, 500)}`);
  }
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const bytes of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(bytes, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (!line.startsWith("data:")) continue;
      const data = line.slice(5).trim();
      if (data === "[DONE]") return;
      let chunk: StreamChunk;
      try {
        chunk = JSON.parse(data) as StreamChunk;
      } catch (err) {
        throw new SlimError("PROTOCOL", `unreadable event from ${config.baseURL}: ${data.slice(0, 200)}`, { cause: err });
      }
      yield* deltasOf(chunk);
    }
  }
}

/** Joins the fragments of streamed tool calls by index. */
export class ToolCallAccumulator {
  private readonly calls = new Map<number, { id: string; name: string; arguments: string }>();

  add(d: Extract<OpenAIDelta, { type: "tool-call" }>): void {
    const c = this.calls.get(d.index) ?? { id: "", name: "", arguments: "" };
    if (d.id !== undefined) c.id = d.id;
    if (d.name !== undefined) c.name += d.name;
    if (d.arguments !== undefined) c.arguments += d.arguments;
    this.calls.set(d.index, c);
  }

  /** The complete calls in index order; arguments parsed (a parse failure keeps the raw text under `_raw`). */
  done(): Array<{ id: string; name: string; args: Record<string, unknown> }> {
    return [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([i, c]) => {
        let args: Record<string, unknown>;
        try {
          const v: unknown = c.arguments === "" ? {} : JSON.parse(c.arguments);
          args = typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : { _raw: c.arguments };
        } catch {
          args = { _raw: c.arguments };
        }
        return { id: c.id || `call_${i}`, name: c.name, args };
      });
  }
}
