// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The SLIM log as graph state: pure merging, dedupe by id, bounds, JSON
// checkpoints, and both ways of declaring it (Annotation.Root, StateSchema).

import { Annotation, END, MemorySaver, START, StateGraph, StateSchema } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import { appendUniqueById, SlimLogChannel, slimLog, slimLogValue } from "../src/index.js";
import type { SlimEnvelope } from "../src/core-agents.js";

const env = (id: string, text = id): SlimEnvelope => ({ id, dir: "in", from: "org/ns/bob/1", payloadType: "msg", text, at: 0 });

describe("SlimLogChannel", () => {
  it("appends unseen ids only and reports whether anything changed", () => {
    const c = new SlimLogChannel().fromCheckpoint();
    expect(c.update([env("a"), [env("b"), env("a")]])).toBe(true);
    expect(c.update([env("b"), env("a", "changed text")])).toBe(false);
    expect(c.update([])).toBe(false);
    expect(c.get().map((e) => e.id)).toEqual(["a", "b"]);
    expect(c.get()[0]!.text).toBe("a");
  });

  it("keeps the newest entries but remembers trimmed ids", () => {
    const c = new SlimLogChannel({ maxEntries: 2, dedupeWindow: 10 }).fromCheckpoint();
    c.update([env("1"), env("2"), env("3")]);
    expect(c.get().map((e) => e.id)).toEqual(["2", "3"]);
    expect(c.update([env("1")])).toBe(false);
  });

  it("checkpoints as plain JSON and restores to an equal, independent channel", () => {
    const c = new SlimLogChannel({ maxEntries: 5 }).fromCheckpoint();
    c.update([env("x"), env("y")]);
    const cp = JSON.parse(JSON.stringify(c.checkpoint()));
    const d = c.fromCheckpoint(cp);
    expect(d.get()).toEqual(c.get());
    d.update([env("z")]);
    expect(c.get()).toHaveLength(2);
    expect(d.update([env("x")])).toBe(false);
  });

  it("rejects writes that are not envelopes", () => {
    const c = new SlimLogChannel().fromCheckpoint();
    expect(() => c.update([{ nope: 1 } as unknown as SlimEnvelope])).toThrow(/SLIM envelopes/);
  });

  it("works as an Annotation.Root key across checkpointed runs", async () => {
    const State = Annotation.Root({ team: slimLog({ maxEntries: 10 }), n: Annotation<number>() });
    const graph = new StateGraph(State)
      .addNode("a", () => ({ team: [env("m1"), env("m2")] }))
      .addNode("b", (s) => ({ team: [env("m2"), env("m3")], n: s.team.length }))
      .addEdge(START, "a")
      .addEdge("a", "b")
      .addEdge("b", END)
      .compile({ checkpointer: new MemorySaver() });
    const cfg = { configurable: { thread_id: "t" } };
    const out = await graph.invoke({ n: 0 }, cfg);
    expect(out.team.map((e) => e.id)).toEqual(["m1", "m2", "m3"]);
    expect(out.n).toBe(2);
    // a second run on the same thread restores the log from the checkpoint and dedupes again
    const again = await graph.invoke({ n: 0 }, cfg);
    expect(again.team.map((e) => e.id)).toEqual(["m1", "m2", "m3"]);
  });

  it("works as a StateSchema field and as a plain reducer", async () => {
    const State = new StateSchema({ team: slimLogValue({ maxEntries: 2 }) });
    const graph = new StateGraph(State)
      .addNode("a", () => ({ team: [env("1"), env("2"), env("1")] }))
      .addNode("b", () => ({ team: env("3") }))
      .addEdge(START, "a")
      .addEdge("a", "b")
      .addEdge("b", END)
      .compile();
    const out = await graph.invoke({});
    expect(out.team.map((e: SlimEnvelope) => e.id)).toEqual(["2", "3"]);
    const reduce = appendUniqueById(3);
    const start: SlimEnvelope[] = [env("a")];
    expect(reduce(start, [env("a"), env("b")]).map((e) => e.id)).toEqual(["a", "b"]);
    expect(start).toHaveLength(1);
  });
});
