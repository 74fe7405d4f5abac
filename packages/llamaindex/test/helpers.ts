// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

export * from "../../../test/helpers/agent-net.js";
