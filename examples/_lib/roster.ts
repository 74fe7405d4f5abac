// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Who takes part in the demos. The writer moderates the group; the two
// reviewers read its draft as it streams; five agents of both frameworks vote.

import type { VoterSpec } from "./agents.js";

export const roster = (ns: string) => {
  const name = (s: string) => `demo/${ns}/${s}`;
  const reviewerLg: VoterSpec = { name: name("reviewer-lg"), framework: "langgraph", choice: "publish" };
  const reviewerLi: VoterSpec = { name: name("reviewer-li"), framework: "llamaindex", choice: "publish" };
  const voters: VoterSpec[] = [
    reviewerLg,
    reviewerLi,
    { name: name("editor-lg"), framework: "langgraph", style: "ballot-node", choice: "revise" },
    { name: name("critic-li"), framework: "llamaindex", choice: "publish" },
    { name: name("analyst-lg"), framework: "langgraph", choice: "revise" },
  ];
  return { writer: name("writer"), channel: name("room"), reviewerLg, reviewerLi, voters };
};

/** Display label of a voter: its service and framework (and style). */
export const label = (v: VoterSpec) => `${v.name.split("/")[2]} (${v.framework === "langgraph" ? `LangGraph${v.style === "ballot-node" ? " ballot node" : " agent"}` : "LlamaIndex agent"})`;
