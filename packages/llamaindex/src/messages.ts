// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// LlamaIndex chat messages to and from the chat turns that cross SLIM.

import type { ChatMessage, MessageContent } from "@llamaindex/core/llms";
import type { ChatTurn } from "./core-agents.js";

/** The text of message content, whatever shape it has. */
export function contentText(content: MessageContent): string {
  if (typeof content === "string") return content;
  return content.map((part) => (part.type === "text" ? part.text : "")).join("");
}

export function toChatTurns(messages: readonly ChatMessage[]): ChatTurn[] {
  return messages.map((m) => {
    const options = (m.options ?? {}) as Record<string, unknown>;
    if ("toolResult" in options) return { role: "tool", content: contentText(m.content) };
    const role = m.role === "assistant" ? "assistant" : m.role === "user" ? "user" : "system";
    return { role, content: contentText(m.content) };
  });
}

/** Turns as LlamaIndex messages (tool turns become user messages, as LlamaIndex records tool results). */
export function fromChatTurns(turns: readonly ChatTurn[]): ChatMessage[] {
  return turns.map((t) => ({ role: t.role === "tool" ? "user" : t.role, content: t.content }));
}
