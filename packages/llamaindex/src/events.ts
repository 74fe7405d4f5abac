// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Workflow events for SLIM traffic. Their uniqueIds double as wire names in
// the event bridge, so both ends must use the same ones.

import { workflowEvent } from "@llamaindex/workflow";
import type { SlimEnvelope } from "./core-agents.js";

/** A plain SLIM message that reached the workflow. */
export const slimMessageEvent = workflowEvent<SlimEnvelope>({ debugLabel: "slimMessage", uniqueId: "slim.message" });

/** A token of a remote agent's answer, while a tool waits for it. */
export const slimTokenEvent = workflowEvent<{ from: string; delta: string }>({ debugLabel: "slimToken", uniqueId: "slim.token" });
