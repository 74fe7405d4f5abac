// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The SLIM tools as LangChain tools, for ToolNode or any agent loop. LangChain
// checks arguments against the zod schema before the call (a mismatch throws
// ToolInputParsingException with zod's report); the tool checks them again and
// enforces the hub's allow-list, failing with a SlimError a model can read.

import { tool, type DynamicStructuredTool } from "@langchain/core/tools";
import { agentTools, type AgentHub, type AgentToolsOptions } from "./core-agents.js";

/** slim_send, slim_request, slim_broadcast, slim_read_inbox, slim_open_vote, slim_cast_ballot over `hub`. */
export function createSlimTools(hub: AgentHub, options: AgentToolsOptions = {}): DynamicStructuredTool[] {
  return agentTools(hub, options).map(
    (spec) =>
      tool(async (args: unknown, config) => spec.call(args, config?.signal === undefined ? {} : { signal: config.signal }), {
        name: spec.name,
        description: spec.description,
        schema: spec.schema as never,
      }) as unknown as DynamicStructuredTool,
  );
}
