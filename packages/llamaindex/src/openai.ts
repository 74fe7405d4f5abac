// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A LlamaIndex LLM over any OpenAI-compatible endpoint (core's small fetch
// client: no OpenAI SDK is installed), and the switch that picks it or a
// scripted LLM from the environment, so examples need no code change to run
// against a real model.

import type { JSONObject } from "@llamaindex/core/global";
import {
  ToolCallLLM,
  type ChatMessage,
  type ChatResponse,
  type ChatResponseChunk,
  type LLMChatParamsNonStreaming,
  type LLMChatParamsStreaming,
  type LLMMetadata,
  type ToolCallLLMMessageOptions,
} from "@llamaindex/core/llms";
import { openAIConfigFromEnv, streamChatCompletion, ToolCallAccumulator, type OpenAIChatConfig, type OpenAIMessage, type ScriptStep } from "./core-agents.js";
import { contentText } from "./messages.js";
import { ScriptedLLM } from "./scripted.js";

type Options = ToolCallLLMMessageOptions;

function toOpenAI(messages: readonly ChatMessage<Options>[]): OpenAIMessage[] {
  return messages.map((m): OpenAIMessage => {
    const o = (m.options ?? {}) as Record<string, unknown>;
    if ("toolResult" in o) {
      const r = o.toolResult as { id: string; result: string };
      return { role: "tool", content: typeof r.result === "string" ? r.result : JSON.stringify(r.result), tool_call_id: r.id };
    }
    if (m.role === "assistant") {
      const calls = ("toolCall" in o ? (o.toolCall as Array<{ id: string; name: string; input: unknown }>) : []).map((c) => ({
        id: c.id,
        type: "function" as const,
        function: { name: c.name, arguments: typeof c.input === "string" ? c.input : JSON.stringify(c.input) },
      }));
      return { role: "assistant", content: contentText(m.content) || null, ...(calls.length === 0 ? {} : { tool_calls: calls }) };
    }
    return { role: m.role === "user" ? "user" : "system", content: contentText(m.content) };
  });
}

export class OpenAILLM extends ToolCallLLM {
  supportToolCall = true;
  metadata: LLMMetadata;

  constructor(readonly config: OpenAIChatConfig & { contextWindow?: number }) {
    super();
    this.metadata = { model: config.model, temperature: config.temperature ?? 1, topP: 1, contextWindow: config.contextWindow ?? 32_768, tokenizer: undefined, structuredOutput: false };
  }

  chat(params: LLMChatParamsStreaming<object, Options>): Promise<AsyncIterable<ChatResponseChunk<Options>>>;
  chat(params: LLMChatParamsNonStreaming<object, Options>): Promise<ChatResponse<Options>>;
  async chat(params: LLMChatParamsStreaming<object, Options> | LLMChatParamsNonStreaming<object, Options>): Promise<AsyncIterable<ChatResponseChunk<Options>> | ChatResponse<Options>> {
    const tools = (params.tools ?? []).map((t) => ({ name: t.metadata.name, description: t.metadata.description, parameters: (t.metadata.parameters ?? {}) as Record<string, unknown> }));
    const deltas = streamChatCompletion(this.config, { messages: toOpenAI(params.messages), tools });
    const stream = (async function* (): AsyncGenerator<ChatResponseChunk<Options>> {
      const calls = new ToolCallAccumulator();
      let any = false;
      for await (const d of deltas) {
        if (d.type === "text") yield { delta: d.text, raw: d };
        else if (d.type === "tool-call") {
          calls.add(d);
          any = true;
        }
      }
      // tool calls go out whole, once their argument fragments are joined
      if (any) yield { delta: "", raw: null, options: { toolCall: calls.done().map((c) => ({ id: c.id, name: c.name, input: c.args as JSONObject })) } };
    })();
    if (params.stream === true) return stream;
    let text = "";
    let options: Options | undefined;
    for await (const c of stream) {
      text += c.delta;
      if (c.options !== undefined) options = c.options;
    }
    return { message: { role: "assistant", content: text, ...(options === undefined ? {} : { options }) }, raw: null };
  }
}

/**
 * An OpenAI-compatible LLM when the environment names an endpoint
 * (OPENAI_BASE_URL and/or OPENAI_API_KEY, plus OPENAI_MODEL), else a scripted
 * LLM playing `script`. SLIM_TS_LLM=scripted forces the script.
 */
export function llmFromEnv(script: readonly ScriptStep[], env: Record<string, string | undefined> = process.env): ToolCallLLM {
  const config = env.SLIM_TS_LLM === "scripted" ? undefined : openAIConfigFromEnv(env);
  return config === undefined ? new ScriptedLLM(script) : new OpenAILLM(config);
}
