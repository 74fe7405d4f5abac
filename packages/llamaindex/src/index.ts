// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// @slim-ts/llamaindex: SLIM tools for LlamaIndex agents, remote agents as
// tools, workflow events across SLIM, agents served over SLIM.

export { slimTools, toLlamaTool } from "./tools.js";
export type { SlimTool } from "./tools.js";
export { slimAgentTool } from "./agent-tool.js";
export type { SlimAgentToolOptions } from "./agent-tool.js";
export { slimMessageEvent, slimTokenEvent } from "./events.js";
export { bridgeWorkflow, WORKFLOW_EVENT_TYPE } from "./bridge.js";
export type { BridgeOptions } from "./bridge.js";
export { serveAgent } from "./serve.js";
export type { RunnableAgent } from "./serve.js";
export type { AgentServer } from "./core-agents.js";
export { ScriptedLLM } from "./scripted.js";
export { OpenAILLM, llmFromEnv } from "./openai.js";
export { toChatTurns, fromChatTurns, contentText } from "./messages.js";
