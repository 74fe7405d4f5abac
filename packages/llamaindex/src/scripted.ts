// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// An LLM that plays a script (see ChatScript) for LlamaIndex agents: text
// streams word by word as deltas (agentStreamEvents), tool calls come in one
// chunk. Unlike MockLLM it does not repeat a tool call forever: the script
// ends, and by default asking for more is an error.

import type { JSONObject } from "@llamaindex/core/global";
import {
  ToolCallLLM,
  type ChatResponse,
  type ChatResponseChunk,
  type LLMChatParamsNonStreaming,
  type LLMChatParamsStreaming,
  type LLMMetadata,
  type ToolCallLLMMessageOptions,
} from "@llamaindex/core/llms";
import { ChatScript, splitTokens, type ChatScriptOptions, type ScriptStep } from "./core-agents.js";
import { toChatTurns } from "./messages.js";

type Options = ToolCallLLMMessageOptions;

export class ScriptedLLM extends ToolCallLLM {
  supportToolCall = true;
  metadata: LLMMetadata = { model: "scripted", temperature: 0, topP: 1, contextWindow: 128_000, tokenizer: undefined, structuredOutput: false };
  readonly script: ChatScript;
  /** Names of the tools offered on the last call, for assertions. */
  offeredTools: string[] = [];

  constructor(script: readonly ScriptStep[] | ChatScript, options: ChatScriptOptions = {}) {
    super();
    this.script = script instanceof ChatScript ? script : new ChatScript(script, options);
  }

  chat(params: LLMChatParamsStreaming<object, Options>): Promise<AsyncIterable<ChatResponseChunk<Options>>>;
  chat(params: LLMChatParamsNonStreaming<object, Options>): Promise<ChatResponse<Options>>;
  async chat(params: LLMChatParamsStreaming<object, Options> | LLMChatParamsNonStreaming<object, Options>): Promise<AsyncIterable<ChatResponseChunk<Options>> | ChatResponse<Options>> {
    this.offeredTools = (params.tools ?? []).map((t) => t.metadata.name);
    const turn = this.script.next(toChatTurns(params.messages));
    const toolCall = turn.toolCalls.map((c) => ({ id: c.id, name: c.name, input: c.args as JSONObject }));
    const options = toolCall.length === 0 ? undefined : { toolCall };
    if (params.stream !== true) return { message: { role: "assistant", content: turn.text, ...(options === undefined ? {} : { options }) }, raw: null };
    return (async function* (): AsyncGenerator<ChatResponseChunk<Options>> {
      for (const delta of splitTokens(turn.text)) yield { delta, raw: null };
      if (options !== undefined) yield { delta: "", raw: null, options };
    })();
  }
}
