// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// LangChain messages to and from the chat turns that cross SLIM.

import { AIMessage, HumanMessage, SystemMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatTurn, SlimEnvelope } from "./core-agents.js";

/** The text of a message, whatever shape its content has. */
export function messageText(m: BaseMessage): string {
  if (typeof m.content === "string") return m.content;
  return m.content.map((part) => (typeof part === "string" ? part : part.type === "text" && typeof part.text === "string" ? part.text : "")).join("");
}

export function toChatTurns(messages: readonly BaseMessage[]): ChatTurn[] {
  return messages.map((m) => {
    const type = m.getType();
    const role = type === "human" ? "user" : type === "ai" ? "assistant" : type === "system" ? "system" : type === "tool" ? "tool" : "user";
    return { role, content: messageText(m), ...(typeof m.name === "string" ? { name: m.name } : {}) };
  });
}

export function fromChatTurns(turns: readonly ChatTurn[]): BaseMessage[] {
  return turns.map((t) => {
    const fields = { content: t.content, ...(t.name === undefined ? {} : { name: t.name }) };
    switch (t.role) {
      case "system":
        return new SystemMessage(fields);
      case "assistant":
        return new AIMessage(fields);
      case "tool":
        return new ToolMessage({ ...fields, tool_call_id: t.name ?? "tool" });
      default:
        return new HumanMessage(fields);
    }
  });
}

/** A received envelope as a human message named after its sender's service. */
export function envelopeToMessage(e: SlimEnvelope): HumanMessage {
  const service = e.from.split("/").slice(0, 3).join("/");
  return new HumanMessage({ content: e.text ?? "", name: service.replace(/[^A-Za-z0-9_-]/g, "_"), id: e.id });
}
