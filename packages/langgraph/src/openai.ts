// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A LangChain chat model over any OpenAI-compatible endpoint (core's small
// fetch client: no OpenAI SDK is installed), and the switch that picks it or a
// scripted model from the environment, so examples need no code change to
// run against a real model.

import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import { BaseChatModel, type BaseChatModelCallOptions, type BaseChatModelParams, type BindToolsInput } from "@langchain/core/language_models/chat_models";
import { AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import type { Runnable } from "@langchain/core/runnables";
import { convertToOpenAITool } from "@langchain/core/utils/function_calling";
import { openAIConfigFromEnv, streamChatCompletion, type OpenAIChatConfig, type OpenAIMessage, type OpenAIToolSpec, type ScriptStep } from "./core-agents.js";
import { messageText } from "./messages.js";
import { ScriptedChatModel } from "./scripted.js";

export interface OpenAIChatCallOptions extends BaseChatModelCallOptions {
  tools?: OpenAIToolSpec[];
}

function toOpenAI(messages: readonly BaseMessage[]): OpenAIMessage[] {
  return messages.map((m): OpenAIMessage => {
    switch (m.getType()) {
      case "system":
        return { role: "system", content: messageText(m) };
      case "ai": {
        const calls = (m as unknown as { tool_calls?: Array<{ id?: string; name: string; args: unknown }> }).tool_calls ?? [];
        return {
          role: "assistant",
          content: messageText(m) || null,
          ...(calls.length === 0
            ? {}
            : { tool_calls: calls.map((c, i) => ({ id: c.id ?? `call_${i}`, type: "function" as const, function: { name: c.name, arguments: JSON.stringify(c.args) } })) }),
        };
      }
      case "tool":
        return { role: "tool", content: messageText(m), tool_call_id: (m as unknown as { tool_call_id: string }).tool_call_id };
      default:
        return { role: "user", content: messageText(m) };
    }
  });
}

export class OpenAIChatModel extends BaseChatModel<OpenAIChatCallOptions> {
  readonly config: OpenAIChatConfig;

  constructor(fields: OpenAIChatConfig & BaseChatModelParams) {
    const { baseURL, apiKey, model, temperature, fetch: f, ...rest } = fields;
    super(rest);
    this.config = { baseURL, model, ...(apiKey === undefined ? {} : { apiKey }), ...(temperature === undefined ? {} : { temperature }), ...(f === undefined ? {} : { fetch: f }) };
  }

  _llmType(): string {
    return "openai-compatible";
  }

  override bindTools(tools: BindToolsInput[], kwargs?: Partial<OpenAIChatCallOptions>): Runnable<Parameters<BaseChatModel["invoke"]>[0], AIMessageChunk, OpenAIChatCallOptions> {
    const specs = tools.map((t) => {
      const f = convertToOpenAITool(t).function;
      return { name: f.name, description: f.description ?? "", parameters: (f.parameters ?? {}) as Record<string, unknown> };
    });
    return this.withConfig({ ...kwargs, tools: specs }) as never;
  }

  override async *_streamResponseChunks(messages: BaseMessage[], options: this["ParsedCallOptions"], runManager?: CallbackManagerForLLMRun): AsyncGenerator<ChatGenerationChunk> {
    const deltas = streamChatCompletion(this.config, {
      messages: toOpenAI(messages),
      ...(options.tools === undefined ? {} : { tools: options.tools }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    for await (const d of deltas) {
      if (d.type === "text") {
        const chunk = new ChatGenerationChunk({ text: d.text, message: new AIMessageChunk({ content: d.text }) });
        yield chunk;
        await runManager?.handleLLMNewToken(d.text, undefined, undefined, undefined, undefined, { chunk });
      } else if (d.type === "tool-call") {
        const message = new AIMessageChunk({
          content: "",
          tool_call_chunks: [{ type: "tool_call_chunk", index: d.index, ...(d.id === undefined ? {} : { id: d.id }), ...(d.name === undefined ? {} : { name: d.name }), args: d.arguments ?? "" }],
        });
        yield new ChatGenerationChunk({ text: "", message });
      }
    }
  }

  async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"], runManager?: CallbackManagerForLLMRun): Promise<ChatResult> {
    let all: ChatGenerationChunk | undefined;
    for await (const chunk of this._streamResponseChunks(messages, options, runManager)) all = all === undefined ? chunk : all.concat(chunk);
    return { generations: [{ text: all?.text ?? "", message: all?.message ?? new AIMessageChunk({ content: "" }) }] };
  }
}

/**
 * An OpenAI-compatible model when the environment names an endpoint
 * (OPENAI_BASE_URL and/or OPENAI_API_KEY, plus OPENAI_MODEL), else a scripted
 * model playing `script`. SLIM_TS_LLM=scripted forces the script.
 */
export function chatModelFromEnv(script: readonly ScriptStep[], env: Record<string, string | undefined> = process.env): BaseChatModel {
  const config = env.SLIM_TS_LLM === "scripted" ? undefined : openAIConfigFromEnv(env);
  return config === undefined ? new ScriptedChatModel({ script }) : new OpenAIChatModel(config);
}
