// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Another agent, served over SLIM (by serveAgent or serveGraph), as a tool:
// the LlamaIndex way to call an agent. A tool must return JSON, not a stream,
// so the remote tokens are sent into the running workflow as slimTokenEvents
// (when there is one) while the tool waits for the final answer.

import { tool, type FunctionTool } from "@llamaindex/core/tools";
import type { JSONValue } from "@llamaindex/core/global";
import { getContext } from "@llamaindex/workflow";
import { z } from "zod";
import { askAgent, parseToolArgs, type AgentHub } from "./core-agents.js";
import { slimTokenEvent } from "./events.js";

export interface SlimAgentToolOptions {
  /** The remote agent, `org/ns/service` (must be on the hub's allow-list). */
  to: string;
  name: string;
  description: string;
  timeoutMs?: number;
  /** Send the remote tokens into the calling workflow as slimTokenEvents; default true. */
  emitTokens?: boolean;
}

const AskSchema = z.strictObject({ input: z.string().min(1).max(64_000).describe("what to ask the agent") });

function currentContext(): ReturnType<typeof getContext> | undefined {
  try {
    return getContext();
  } catch {
    return undefined;
  }
}

export function slimAgentTool(hub: AgentHub, options: SlimAgentToolOptions): FunctionTool<{ input: string }, Promise<JSONValue>> {
  const parameters = z.toJSONSchema(AskSchema, { io: "input" }) as Record<string, unknown>;
  delete parameters.$schema;
  return tool(
    async (raw: { input: string }) => {
      const { input } = parseToolArgs(options.name, AskSchema, raw);
      const port = await hub.peer(options.to);
      const ctx = options.emitTokens === false ? undefined : currentContext();
      const tokens = askAgent(port, [{ role: "user", content: input }], options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
      for (;;) {
        const r = await tokens.next();
        if (r.done === true) return r.value.text;
        ctx?.sendEvent(slimTokenEvent.with({ from: options.to, delta: r.value }));
      }
    },
    { name: options.name, description: options.description, parameters: parameters as never },
  ) as unknown as FunctionTool<{ input: string }, Promise<JSONValue>>;
}
