// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Expose a compiled graph as an agent on SLIM. Each request runs the graph on
// the transcript it carries; the tokens of the graph's chat models stream back
// in order (SessionMux.sendStream), then the final answer, the text of the
// last message in the `messages` key, goes back as the reply.

import { randomUUID } from "node:crypto";
import { AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { serveAgentRun, type AgentEvent, type AgentRequest, type AgentRun, type AgentServer, type ServeTarget } from "./core-agents.js";
import { fromChatTurns, messageText } from "./messages.js";

/** The part of a compiled graph serveGraph uses. */
export interface StreamableGraph {
  stream(input: unknown, options: LangGraphRunnableConfig & { streamMode: ["messages", "values"] }): Promise<AsyncIterable<unknown>>;
}

export interface ServeGraphOptions {
  /** State key holding the conversation; default "messages". */
  messagesKey?: string;
  /**
   * Checkpoint thread per request: `request` uses the caller's thread id when it
   * sends one (the caller then sends only new turns), `fresh` (default) a new one
   * every time, as callers send the whole transcript.
   */
  threads?: "fresh" | "request";
  /** Only stream tokens produced in these nodes; default every node. */
  nodes?: readonly string[];
  /** Extra run config (recursion limit, context, ...). */
  config?: LangGraphRunnableConfig;
}

function graphRun(graph: StreamableGraph, options: ServeGraphOptions): AgentRun {
  const key = options.messagesKey ?? "messages";
  const wanted = options.nodes === undefined ? undefined : new Set(options.nodes);
  return async function* (request: AgentRequest, ctx): AsyncGenerator<AgentEvent> {
    const base = options.config ?? {};
    const thread = options.threads === "request" && request.threadId !== undefined ? request.threadId : randomUUID();
    const stream = await graph.stream(
      { [key]: fromChatTurns(request.messages) },
      { ...base, signal: ctx.signal, streamMode: ["messages", "values"], configurable: { ...base.configurable, thread_id: thread } },
    );
    let last: Record<string, unknown> | undefined;
    for await (const item of stream) {
      const [mode, chunk] = item as [string, unknown];
      if (mode === "values") {
        last = chunk as Record<string, unknown>;
        continue;
      }
      const [msg, meta] = chunk as [BaseMessage, { langgraph_node?: string }];
      if (!AIMessageChunk.isInstance(msg)) continue;
      if (wanted !== undefined && !wanted.has(meta?.langgraph_node ?? "")) continue;
      const text = messageText(msg);
      if (text !== "") yield text;
    }
    const messages = last?.[key];
    const final = Array.isArray(messages) && messages.length > 0 ? messageText(messages[messages.length - 1] as BaseMessage) : "";
    yield { final };
  };
}

/**
 * Serve `graph` on every session other apps open with `app` (an accept loop
 * runs until close()), on the sessions of a hub, or on one session.
 */
export function serveGraph(target: ServeTarget, graph: StreamableGraph, options: ServeGraphOptions = {}): AgentServer {
  return serveAgentRun(target, graphRun(graph, options));
}
