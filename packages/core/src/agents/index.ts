// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Framework-neutral building blocks of the agent adapters (LangGraph,
// LlamaIndex): envelopes, the inbox, allow-lists, session ports and hubs,
// the remote-agent protocol, tool specs, scripted turns and an
// OpenAI-compatible streaming client.

export { SlimEnvelopeSchema, ENVELOPE_ID_KEY, DEFAULT_MAX_ENVELOPES, envelopeOf, outboundEnvelope, envelopePayload, mergeEnvelopes } from "./envelope.js";
export type { SlimEnvelope } from "./envelope.js";
export { Inbox, matches as envelopeMatches, DEFAULT_INBOX_ENTRIES, DEFAULT_DEDUPE_WINDOW } from "./inbox.js";
export type { InboxOptions, EnvelopeFilter } from "./inbox.js";
export { AllowList } from "./allow-list.js";
export type { AllowInput } from "./allow-list.js";
export { SessionPort } from "./port.js";
export type { SessionPortOptions } from "./port.js";
export { AgentHub, DEFAULT_AGENT_RELIABILITY } from "./hub.js";
export type { AgentHubOptions } from "./hub.js";
export {
  AGENT_REQUEST_TYPE,
  AGENT_REPLY_TYPE,
  AGENT_TOKEN_TYPE,
  DEFAULT_AGENT_TIMEOUT_MS,
  ChatTurnSchema,
  AgentRequestSchema,
  AgentReplySchema,
  agentRequestHandler,
  askAgent,
  callAgent,
} from "./remote.js";
export type { ChatTurn, AgentRequest, AgentReply, AgentEvent, AgentRun } from "./remote.js";
export {
  AGENT_TOOL_NAMES,
  SendArgsSchema,
  RequestArgsSchema,
  BroadcastArgsSchema,
  ReadInboxArgsSchema,
  OpenVoteArgsSchema,
  CastBallotArgsSchema,
  agentTools,
  parseToolArgs,
} from "./tools.js";
export type { AgentTool, AgentToolName, AgentToolsOptions, JsonValue } from "./tools.js";
export { ChatScript, splitTokens } from "./scripted.js";
export type { ScriptedTurn, ScriptedToolCall, ScriptStep, ChatScriptOptions } from "./scripted.js";
export { streamChatCompletion, openAIConfigFromEnv, ToolCallAccumulator, DEFAULT_OPENAI_BASE_URL } from "./openai.js";
export type { OpenAIChatConfig, OpenAIMessage, OpenAIToolCall, OpenAIToolSpec, OpenAIDelta } from "./openai.js";
export { serveAgentRun } from "./serve.js";
export type { AgentServer, ServeTarget } from "./serve.js";
