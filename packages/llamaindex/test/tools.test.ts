// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// SLIM tools in LlamaIndex: every call is validated (LlamaIndex itself would
// run the tool on bad input), names are checked against the allow-list, and
// a scripted agent drives them over real sessions.

import { agent, agentToolCallResultEvent, stopAgentEvent } from "@llamaindex/workflow";
import { isSlimError } from "@slim-ts/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ScriptedLLM, slimTools } from "../src/index.js";
import type { AgentHub } from "../src/core-agents.js";
import { testNet, type Net } from "./helpers.js";

let net: Net;
beforeEach(async () => {
  net = await testNet();
});
afterEach(async () => {
  await net.close();
});

const byName = (hub: AgentHub, name: string) => slimTools(hub).find((t) => t.metadata.name === name)!;

describe("SLIM tools for LlamaIndex", () => {
  it("describe their arguments as JSON Schema", async () => {
    const { hub } = await net.agent("org/ns/alice", { allow: ["org/ns/bob"] });
    const params = byName(hub, "slim_send").metadata.parameters as { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean };
    expect(Object.keys(params.properties).sort()).toEqual(["text", "to"]);
    expect(params.required.sort()).toEqual(["text", "to"]);
    expect(params.additionalProperties).toBe(false);
  });

  it("reject malformed arguments themselves, with zod's report", async () => {
    const { hub } = await net.agent("org/ns/alice", { allow: ["org/ns/bob"] });
    const err = await byName(hub, "slim_send")
      .call({ to: "org/ns/bob", text: 7, extra: true })
      .catch((e: unknown) => e);
    expect(isSlimError(err, "INVALID_ARGUMENT")).toBe(true);
    expect((err as Error).message).toMatch(/^slim_send: invalid arguments:\n/);
    expect((err as Error).message).toMatch(/text/);
    expect((err as Error).message).toMatch(/extra/);
    await expect(byName(hub, "slim_open_vote").call({ group: "org/ns/room", question: "q", choices: ["only one"] })).rejects.toThrow(/choices/);
  });

  it("refuse names off the allow-list", async () => {
    const { hub } = await net.agent("org/ns/alice", { allow: ["org/ns/bob"] });
    await expect(byName(hub, "slim_request").call({ to: "org/ns/mallory", text: "hi" })).rejects.toThrow('peer "org/ns/mallory" is not on the allow-list; allowed: org/ns/bob');
  });

  it("run inside an agent: allowed sends go out once, refused ones come back to the model", async () => {
    const { hub: bob } = await net.agent("org/ns/bob");
    const { hub: alice } = await net.agent("org/ns/alice", { allow: ["org/ns/bob"] });
    const llm = new ScriptedLLM([
      {
        toolCalls: [
          { name: "slim_send", args: { to: "org/ns/bob", text: "hello bob" } },
          { name: "slim_send", args: { to: "org/ns/mallory", text: "hello mallory" } },
          { name: "slim_send", args: { to: "org/ns/bob", text: { not: "text" } } },
        ],
      },
      { text: "sent what I could" },
    ]);
    const a = agent({ name: "alice", llm, tools: slimTools(alice) });
    const results: Array<{ output: unknown; isError: boolean }> = [];
    let final = "";
    for await (const ev of a.runStream("greet everyone")) {
      if (agentToolCallResultEvent.include(ev)) results.push({ output: ev.data.toolOutput.result, isError: ev.data.toolOutput.isError });
      if (stopAgentEvent.include(ev)) final = String(ev.data.result);
    }
    expect(final).toBe("sent what I could");
    expect(results.map((r) => r.isError)).toEqual([false, true, true]);
    expect(String(results[1]!.output)).toMatch(/not on the allow-list/);
    expect(String(results[2]!.output)).toMatch(/slim_send: invalid arguments/);
    expect(llm.offeredTools).toContain("slim_cast_ballot");
    const got = await bob.inbox.collect({ timeoutMs: 30 });
    expect(got.map((e) => e.text)).toEqual(["hello bob"]);
  });
});
