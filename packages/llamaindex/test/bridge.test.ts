// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Two workflows in two apps exchanging events over a SLIM session.

import { createWorkflow, workflowEvent } from "@llamaindex/workflow";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bridgeWorkflow, slimMessageEvent, WORKFLOW_EVENT_TYPE } from "../src/index.js";
import type { SlimEnvelope } from "../src/core-agents.js";
import { testNet, type Net } from "./helpers.js";

let net: Net;
beforeEach(async () => {
  net = await testNet();
});
afterEach(async () => {
  await net.close();
});

const questionEvent = workflowEvent<{ n: number }>({ uniqueId: "demo.question" });
const answerEvent = workflowEvent<{ n: number; square: number }>({ uniqueId: "demo.answer" });
const startEvent = workflowEvent<{ n: number }>();
const doneEvent = workflowEvent<{ square: number; note: string }>();

describe("bridgeWorkflow", () => {
  it("sends chosen events out and takes accepted ones in", async () => {
    const { hub: alice } = await net.agent("org/ns/alice", { allow: ["org/ns/bob"] });
    const { hub: bob } = await net.agent("org/ns/bob");
    const toBob = await alice.peer("org/ns/bob");

    // bob's workflow squares whatever question arrives
    const bobWf = createWorkflow();
    bobWf.handle([questionEvent], (_ctx, ev) => answerEvent.with({ n: ev.data.n, square: ev.data.n * ev.data.n }));
    const bobCtx = bobWf.createContext();
    // bob bridges the session alice opened with him
    const bobSide = await bob.port("org/ns/alice", { timeoutMs: 2_000 });
    const errors: unknown[] = [];
    const stopBob = bridgeWorkflow(bobCtx, bob, bobSide, { inbound: [questionEvent], outbound: [answerEvent], onError: (e) => errors.push(e) });

    // alice's workflow asks, waits for the answer, and also sees a plain message
    const aliceWf = createWorkflow();
    const seen: SlimEnvelope[] = [];
    aliceWf.handle([startEvent], (_ctx, ev) => questionEvent.with({ n: ev.data.n }));
    aliceWf.handle([slimMessageEvent], (_ctx, ev) => {
      seen.push(ev.data);
    });
    aliceWf.handle([answerEvent], (_ctx, ev) => doneEvent.with({ square: ev.data.square, note: seen.map((e) => e.text).join() }));
    const aliceCtx = aliceWf.createContext();
    const stopAlice = bridgeWorkflow(aliceCtx, alice, toBob, { outbound: [questionEvent], inbound: [answerEvent], messages: true });
    await toBob.publish(JSON.stringify({ uniqueId: "demo.unknown", data: 1 }), { payloadType: WORKFLOW_EVENT_TYPE });
    await bobSide.publish("plain hello");
    aliceCtx.sendEvent(startEvent.with({ n: 7 }));
    const events = await aliceCtx.stream.until(doneEvent).toArray();
    expect(events.at(-1)!.data).toEqual({ square: 49, note: "plain hello" });
    expect(errors.map(String)).toEqual([expect.stringMatching(/"demo.unknown" .* is not accepted here/)]);
    stopAlice();
    stopBob();
  });
});
