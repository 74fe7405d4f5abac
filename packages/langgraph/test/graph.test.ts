// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Graphs talking over real sessions on an embedded node: sends survive an
// interrupt and resume without repeating, the pump resumes a parked graph when
// the answer arrives, and send/receive nodes fill the log and the messages.

import { Annotation, END, MemorySaver, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { awaitSlim, slimLog, SlimGraphPump, slimReceiveNode, slimSendNode, slimTasks } from "../src/index.js";
import type { AgentHub, SlimEnvelope } from "../src/core-agents.js";
import { testNet, type Net } from "./helpers.js";

let net: Net;
beforeEach(async () => {
  net = await testNet();
});
afterEach(async () => {
  await net.close();
});

/** Bob answers every message from alice with `answer`, counting what he got. */
function answering(bob: AgentHub, answer: string, signal: AbortSignal): { got: SlimEnvelope[] } {
  const state = { got: [] as SlimEnvelope[] };
  void (async () => {
    for (;;) {
      const m = await bob.inbox.next({ from: "org/ns/alice" }, { signal, timeoutMs: 5_000 });
      state.got.push(m);
      await (await bob.peer("org/ns/alice")).publish(answer);
    }
  })().catch(() => undefined);
  return state;
}

/** A graph that asks bob, parks until he answers, and records both messages. */
function askGraph(send: (text: string) => Promise<SlimEnvelope>) {
  const State = Annotation.Root({ answer: Annotation<string>(), team: slimLog() });
  return new StateGraph(State)
    .addNode("ask", async () => {
      const sent = await send("what is 6*7?");
      const reply = awaitSlim({ from: "org/ns/bob" });
      return { answer: reply.text ?? "", team: [sent, reply] };
    })
    .addEdge(START, "ask")
    .addEdge("ask", END)
    .compile({ checkpointer: new MemorySaver() });
}

async function runAsk(alice: AgentHub, graph: ReturnType<typeof askGraph>) {
  const done = new Promise<Record<string, unknown>>((resolve) => {
    const pump = new SlimGraphPump(graph, {
      inbox: alice.inbox,
      thread: "t1",
      filter: { from: "org/ns/bob" },
      onResult: (_t, out) => {
        if (typeof (out as { answer?: unknown }).answer === "string") resolve(out as Record<string, unknown>);
      },
    });
    void pump.run({ signal: stop.signal });
    void pump.start("t1", {});
  });
  return done;
}

let stop: AbortController;
beforeEach(() => {
  stop = new AbortController();
});
afterEach(() => stop.abort());

describe("durable sends and the pump", () => {
  it("sends once across interrupt and resume, and resumes on arrival", async () => {
    const { hub: alice } = await net.agent("org/ns/alice", { allow: ["org/ns/bob"] });
    const { hub: bob } = await net.agent("org/ns/bob", { allow: ["org/ns/alice"] });
    const seen = answering(bob, "42", stop.signal);
    const tasks = slimTasks(alice);
    const graph = askGraph((text) => tasks.send({ to: "org/ns/bob", text }));
    const out = await runAsk(alice, graph);
    expect(out.answer).toBe("42");
    await new Promise((r) => setTimeout(r, 30));
    expect(seen.got.map((e) => e.text)).toEqual(["what is 6*7?"]);
    // the log holds our send under the id bob saw, and his answer
    const team = out.team as SlimEnvelope[];
    expect(team.map((e) => e.dir)).toEqual(["out", "in"]);
    expect(team[0]!.id).toBe(seen.got[0]!.id);
  });

  it("(control) a send outside task() is repeated when the node resumes", async () => {
    const { hub: alice } = await net.agent("org/ns/alice", { allow: ["org/ns/bob"] });
    const { hub: bob } = await net.agent("org/ns/bob", { allow: ["org/ns/alice"] });
    const seen = answering(bob, "42", stop.signal);
    const graph = askGraph(async (text) => (await alice.peer("org/ns/bob")).publish(text));
    const out = await runAsk(alice, graph);
    expect(out.answer).toBe("42");
    await new Promise((r) => setTimeout(r, 30));
    expect(seen.got).toHaveLength(2);
  });
});

describe("send and receive nodes", () => {
  it("log the exchange and add the answer to the messages", async () => {
    const { hub: alice } = await net.agent("org/ns/alice", { allow: ["org/ns/bob"] });
    const { hub: bob } = await net.agent("org/ns/bob", { allow: ["org/ns/alice"] });
    answering(bob, "pong", stop.signal);
    const State = Annotation.Root({ ...MessagesAnnotation.spec, team: slimLog() });
    const graph = new StateGraph(State)
      .addNode("send", slimSendNode({ hub: alice, to: "org/ns/bob" }, { text: () => "ping", logKey: "team" }))
      .addNode("receive", slimReceiveNode(alice, { filter: { from: "org/ns/bob" }, max: 1, timeoutMs: 3_000, logKey: "team", messagesKey: "messages" }))
      .addEdge(START, "send")
      .addEdge("send", "receive")
      .addEdge("receive", END)
      .compile();
    const custom: unknown[] = [];
    let last: Record<string, unknown> = {};
    for await (const [mode, chunk] of await graph.stream({ messages: [] }, { streamMode: ["custom", "values"] })) {
      if (mode === "custom") custom.push(chunk);
      else last = chunk as Record<string, unknown>;
    }
    const team = last.team as SlimEnvelope[];
    expect(team.map((e) => `${e.dir}:${e.text}`)).toEqual(["out:ping", "in:pong"]);
    const messages = last.messages as Array<{ content: unknown; name?: string }>;
    expect(messages.map((m) => [m.content, m.name])).toEqual([["pong", "org_ns_bob"]]);
    expect(custom).toEqual([{ slim: "received", id: team[1]!.id, from: team[1]!.from }]);
  });

  it("refuses a peer that is not on the allow-list", async () => {
    const { hub: alice } = await net.agent("org/ns/alice", { allow: ["org/ns/bob"] });
    await net.agent("org/ns/mallory");
    const State = Annotation.Root({ team: slimLog() });
    const graph = new StateGraph(State)
      .addNode("send", slimSendNode({ hub: alice, to: "org/ns/mallory" }, { text: () => "secrets", logKey: "team" }))
      .addEdge(START, "send")
      .addEdge("send", END)
      .compile();
    await expect(graph.invoke({})).rejects.toThrow(/"org\/ns\/mallory" is not on the allow-list; allowed: org\/ns\/bob/);
  });
});
