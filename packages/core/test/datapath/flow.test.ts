// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { describe, expect, it } from "vitest";
import { FlowControl } from "../../src/datapath/flow.js";
import type { Connection } from "../../src/datapath/types.js";

/** Connections that record whether they are being read. */
function setup() {
  const reading = new Map<number, boolean>();
  const conn = (id: number, kind: Connection["kind"]) => ({ id, kind, setReading: (on: boolean) => reading.set(id, on) });
  const conns = new Map([
    [1, conn(1, "remote")],
    [2, conn(2, "remote")],
    [3, conn(3, "remote")],
    [4, conn(4, "local")],
    [5, conn(5, "local")],
  ]);
  return { flow: new FlowControl(conns), conns, reading };
}

describe("FlowControl (per-destination backpressure)", () => {
  it("pauses only the links that wrote to a congested destination, and resumes each once all it wrote to drained", () => {
    const { flow, conns, reading } = setup();
    flow.set(2, true);
    flow.set(3, true);
    flow.sent(conns.get(1), 2); // link 1 wrote to congested 2
    flow.sent(conns.get(1), 3); // and to congested 3
    flow.sent(conns.get(3), 4); // link 3 wrote to a local app that is fine
    expect(reading.get(1)).toBe(false);
    expect(reading.has(3)).toBe(false);
    expect(flow.isBlocked(1)).toBe(true);
    flow.set(2, false);
    expect(reading.get(1)).toBe(false); // still waits for 3
    flow.set(3, false);
    expect(reading.get(1)).toBe(true);
    expect(flow.isBlocked(1)).toBe(false);
  });

  it("local senders are never paused; they wait (runWhenWritable) for congestion, in call order, but not for held input", () => {
    const { flow, conns, reading } = setup();
    const ran: string[] = [];
    flow.hold(5, true); // a local app whose session is behind
    flow.sent(conns.get(4), 5); // a local sender: nothing to pause
    flow.sent(conns.get(2), 5); // a link feeding it pauses
    expect(reading.get(2)).toBe(false);
    expect(reading.has(4)).toBe(false);
    flow.runWhenWritable(() => ran.push("a")); // held input does not make local senders wait
    expect(ran).toEqual(["a"]);
    flow.set(1, true); // a congested link does
    flow.runWhenWritable(() => ran.push("b"));
    flow.runWhenWritable(() => ran.push("c"));
    expect(ran).toEqual(["a"]);
    flow.set(1, false);
    expect(ran).toEqual(["a", "b", "c"]);
    flow.hold(5, false);
    expect(reading.get(2)).toBe(true);
  });

  it("a destination that goes away releases the links waiting on it; a source that goes away is forgotten", () => {
    const { flow, conns, reading } = setup();
    flow.set(3, true);
    flow.sent(conns.get(1), 3);
    flow.sent(conns.get(2), 3);
    flow.gone(2);
    expect(flow.isBlocked(2)).toBe(false);
    flow.gone(3);
    expect(reading.get(1)).toBe(true);
    expect(flow.isBlocked(1)).toBe(false);
    // writing to a healthy destination or to itself never pauses
    flow.set(1, true);
    flow.sent(conns.get(1), 1);
    flow.sent(conns.get(2), 4);
    expect(flow.isBlocked(1)).toBe(false);
    expect(flow.isBlocked(2)).toBe(false);
  });
});
