// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The framework-neutral agent pieces (inbox, allow-list, session ports, tools,
// the remote-agent protocol, scripted scripts) live in @slim-ts/core.
export * from "@slim-ts/core";
