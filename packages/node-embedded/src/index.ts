// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

export { startNode } from "./node.js";
export type { SlimNode, StartNodeOptions } from "./node.js";
export { NodeConfigSchema, LinkConfigSchema, TlsServerSchema, parseNodeConfig, loadNodeConfigFile } from "./config.js";
export type { NodeConfig, NodeConfigInput } from "./config.js";
export type { NodeStatus, LinkStatus, SubscriptionStatus } from "./status.js";
