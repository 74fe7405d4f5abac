// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// @slim-ts/langgraph: SLIM conversations as LangGraph state, nodes and tools
// that talk SLIM, remote agents as models and subgraphs, graphs served over SLIM.

export { SlimLogChannel, slimLog, slimLogValue, appendUniqueById, DEFAULT_LOG_DEDUPE_WINDOW } from "./channel.js";
export type { SlimLogOptions, SlimLogCheckpoint, SlimLogUpdate } from "./channel.js";
export { slimSendNode, slimReceiveNode, slimVoteNode, slimBallotNode, slimTasks } from "./nodes.js";
export type { SlimNode, SlimTarget, ReceiveNodeOptions, VoteRecord } from "./nodes.js";
export { awaitSlim, SlimGraphPump, SLIM_AWAIT_KEY } from "./pump.js";
export type { PumpableGraph, SlimGraphPumpOptions } from "./pump.js";
export { createSlimTools } from "./tools.js";
export { SlimRemoteChatModel, slimRemoteGraph } from "./remote.js";
export type { SlimRemoteChatModelFields, SlimRemoteCallOptions, SlimRemoteGraphOptions } from "./remote.js";
export { serveGraph } from "./serve.js";
export type { ServeGraphOptions, StreamableGraph } from "./serve.js";
export type { AgentServer } from "./core-agents.js";
export { ScriptedChatModel } from "./scripted.js";
export type { ScriptedChatModelFields } from "./scripted.js";
export { OpenAIChatModel, chatModelFromEnv } from "./openai.js";
export type { OpenAIChatCallOptions } from "./openai.js";
export { toChatTurns, fromChatTurns, envelopeToMessage, messageText } from "./messages.js";
