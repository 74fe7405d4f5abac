// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The SLIM tools as LlamaIndex tools. LlamaIndex only logs a failed schema
// check and runs the tool with the raw input anyway, so the tools here give
// LlamaIndex the JSON Schema alone and validate every call themselves (with
// the same zod schemas), enforcing the hub's allow-list. A rejected call throws
// a SlimError; inside an agent, LlamaIndex hands its message to the model.

import { tool, type FunctionTool } from "@llamaindex/core/tools";
import type { JSONValue } from "@llamaindex/core/global";
import { z } from "zod";
import { agentTools, type AgentHub, type AgentTool, type AgentToolsOptions, type JsonValue } from "./core-agents.js";

export type SlimTool = FunctionTool<Record<string, unknown>, Promise<JSONValue>>;

/** LlamaIndex's JSONValue has no null: drop null members, spell out null items. */
function withoutNulls(v: JsonValue): JSONValue {
  if (v === null) return "null";
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (typeof v !== "object") return v;
  const out: Record<string, JSONValue> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = withoutNulls(x);
  return out;
}

/** One framework-neutral tool as a LlamaIndex tool. */
/** JSON Schema per zod schema: the conversion costs about a millisecond, and tool sets are built per run. */
const jsonSchemas = new WeakMap<z.ZodType, Record<string, unknown>>();

function parametersOf(schema: z.ZodType): Record<string, unknown> {
  let parameters = jsonSchemas.get(schema);
  if (parameters === undefined) {
    parameters = z.toJSONSchema(schema, { io: "input" }) as Record<string, unknown>;
    delete parameters.$schema;
    jsonSchemas.set(schema, parameters);
  }
  // each tool gets its own copy: LlamaIndex or a caller may annotate it
  return structuredClone(parameters);
}

export function toLlamaTool(spec: AgentTool): SlimTool {
  const parameters = parametersOf(spec.schema);
  // a JSON value, not JSON text: LlamaIndex formats tool output itself (and strips its quotes)
  return tool(async (input: Record<string, unknown>) => withoutNulls(await spec.invoke(input)), {
    name: spec.name,
    description: spec.description,
    parameters: parameters as never,
  }) as unknown as SlimTool;
}

/** slim_send, slim_request, slim_broadcast, slim_read_inbox, slim_open_vote, slim_cast_ballot over `hub`. */
export function slimTools(hub: AgentHub, options: AgentToolsOptions = {}): SlimTool[] {
  return agentTools(hub, options).map(toLlamaTool);
}
