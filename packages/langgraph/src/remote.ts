// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A remote agent, reached over SLIM, used like a local model or subgraph. The
// chat model streams the remote agent's tokens through LangChain callbacks,
// so they show up in `streamMode: "messages"` of the calling graph exactly as
// a local model's would; the remote graph wraps it as a named runnable that
// fits where a node or a supervisor's agent goes.

import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import { BaseChatModel, type BaseChatModelCallOptions, type BaseChatModelParams } from "@langchain/core/language_models/chat_models";
import { AIMessage, AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import { RunnableLambda, type RunnableConfig } from "@langchain/core/runnables";
import { askAgent, type AgentHub } from "./core-agents.js";
import { messageText, toChatTurns } from "./messages.js";

export interface SlimRemoteChatModelFields extends BaseChatModelParams {
  hub: AgentHub;
  /** The remote agent, `org/ns/service` (must be on the hub's allow-list). */
  to: string;
  timeoutMs?: number;
}

export interface SlimRemoteCallOptions extends BaseChatModelCallOptions {
  /** Conversation id passed to the remote side (its checkpoint thread). */
  threadId?: string;
}

/** A chat model whose answers come from an agent served over SLIM (serveGraph, serveAgent). */
export class SlimRemoteChatModel extends BaseChatModel<SlimRemoteCallOptions> {
  private readonly hub: AgentHub;
  readonly to: string;
  private readonly timeoutMs: number | undefined;

  constructor(fields: SlimRemoteChatModelFields) {
    const { hub, to, timeoutMs, ...rest } = fields;
    super(rest);
    this.hub = hub;
    this.to = to;
    this.timeoutMs = timeoutMs;
  }

  _llmType(): string {
    return "slim-remote";
  }

  override async *_streamResponseChunks(messages: BaseMessage[], options: this["ParsedCallOptions"], runManager?: CallbackManagerForLLMRun): AsyncGenerator<ChatGenerationChunk> {
    const port = await this.hub.peer(this.to, options.signal === undefined ? {} : { signal: options.signal });
    const tokens = askAgent(port, toChatTurns(messages), {
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(this.timeoutMs === undefined ? {} : { timeoutMs: this.timeoutMs }),
      ...(options.threadId === undefined ? {} : { threadId: options.threadId }),
    });
    let streamed = false;
    const emit = async function* (text: string) {
      const chunk = new ChatGenerationChunk({ text, message: new AIMessageChunk({ content: text }) });
      yield chunk;
      await runManager?.handleLLMNewToken(text, undefined, undefined, undefined, undefined, { chunk });
    };
    for (;;) {
      const r = await tokens.next();
      if (r.done === true) {
        // a remote side that answered without streaming still answers
        if (!streamed && r.value.text !== "") yield* emit(r.value.text);
        return;
      }
      streamed = true;
      yield* emit(r.value);
    }
  }

  async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"], runManager?: CallbackManagerForLLMRun): Promise<ChatResult> {
    let text = "";
    for await (const chunk of this._streamResponseChunks(messages, options, runManager)) text += chunk.text;
    return { generations: [{ text, message: new AIMessage({ content: text }) }] };
  }
}

export interface SlimRemoteGraphOptions {
  hub: AgentHub;
  to: string;
  /** Node / agent name (supervisors route by it). */
  name: string;
  description?: string;
  timeoutMs?: number;
}

/**
 * `{ messages }` in, `{ messages: [answer] }` out, with the remote agent's
 * tokens streamed to the caller's callbacks. The caller's thread id, if any,
 * is passed on so the remote side can keep per-conversation state.
 */
export function slimRemoteGraph(options: SlimRemoteGraphOptions) {
  const model = new SlimRemoteChatModel({ hub: options.hub, to: options.to, ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) });
  const run = RunnableLambda.from(async (input: { messages: BaseMessage[] }, config?: RunnableConfig) => {
    const thread = config?.configurable?.thread_id as string | undefined;
    const answer = await model.invoke(input.messages, { ...config, ...(thread === undefined ? {} : { threadId: `${thread}:${options.name}` }) });
    return { messages: [new AIMessage({ content: messageText(answer), name: options.name })] };
  }).withConfig({ runName: options.name });
  return Object.assign(run, { name: options.name, description: options.description });
}
