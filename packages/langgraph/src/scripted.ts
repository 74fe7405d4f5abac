// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A chat model that plays a script (see ChatScript): text answers stream
// word by word through the callbacks (so `streamMode: "messages"` sees
// tokens), tool calls come as one chunk. bindTools() keeps the script in
// charge: the tools are recorded, not consulted.

import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import { BaseChatModel, type BaseChatModelCallOptions, type BaseChatModelParams, type BindToolsInput } from "@langchain/core/language_models/chat_models";
import { AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import { ChatScript, splitTokens, type ChatScriptOptions, type ScriptStep } from "./core-agents.js";
import { toChatTurns } from "./messages.js";

export interface ScriptedChatModelFields extends BaseChatModelParams, ChatScriptOptions {
  script: readonly ScriptStep[] | ChatScript;
}

export class ScriptedChatModel extends BaseChatModel {
  readonly script: ChatScript;
  /** Names of the tools last bound, for assertions. */
  boundTools: string[] = [];

  constructor(fields: ScriptedChatModelFields) {
    const { script, whenDone, ...rest } = fields;
    super(rest);
    this.script = script instanceof ChatScript ? script : new ChatScript(script, whenDone === undefined ? {} : { whenDone });
  }

  _llmType(): string {
    return "scripted";
  }

  /** Record the tools; the script decides which calls are made. */
  override bindTools(tools: BindToolsInput[]): this {
    this.boundTools = tools.map((t) => String((t as { name?: unknown }).name ?? ""));
    return this;
  }

  override async *_streamResponseChunks(messages: BaseMessage[], _options: BaseChatModelCallOptions, runManager?: CallbackManagerForLLMRun): AsyncGenerator<ChatGenerationChunk> {
    const turn = this.script.next(toChatTurns(messages));
    for (const token of splitTokens(turn.text)) {
      const chunk = new ChatGenerationChunk({ text: token, message: new AIMessageChunk({ content: token }) });
      yield chunk;
      await runManager?.handleLLMNewToken(token, undefined, undefined, undefined, undefined, { chunk });
    }
    if (turn.toolCalls.length > 0) {
      const message = new AIMessageChunk({
        content: "",
        tool_call_chunks: turn.toolCalls.map((c, index) => ({ type: "tool_call_chunk" as const, id: c.id, name: c.name, args: JSON.stringify(c.args), index })),
      });
      yield new ChatGenerationChunk({ text: "", message });
    }
  }

  async _generate(messages: BaseMessage[], options: BaseChatModelCallOptions, runManager?: CallbackManagerForLLMRun): Promise<ChatResult> {
    let all: ChatGenerationChunk | undefined;
    for await (const chunk of this._streamResponseChunks(messages, options, runManager)) all = all === undefined ? chunk : all.concat(chunk);
    const message = all?.message ?? new AIMessageChunk({ content: "" });
    return { generations: [{ text: all?.text ?? "", message }] };
  }
}
