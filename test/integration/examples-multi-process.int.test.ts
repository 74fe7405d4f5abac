// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// examples/multi-process as a user runs it: the program checks itself and exits 0 only on a correct result.

import { describe, expect, it } from "vitest";
import { runExample } from "../helpers/examples.js";

describe("examples/multi-process", () => {
  it("runs a standalone slim-ts-node and six agent processes: streaming and a verified vote", async () => {
    const { code, out, err } = await runExample("multi-process", 55_000);
    expect(code, `${out}\n${err}`).toBe(0);
    expect(out).toMatch(/slim-ts-node {3}pid \d+, http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toContain("MLS group demo/multi/room: 6 members, MLS on");
    expect(out.match(/got 70 tokens, sha256 8a34c6513b6e244a/g)).toHaveLength(5);
    expect(out.match(/✓ \S+ +verified digest/g)).toHaveLength(5);
    expect(out).toContain("result: decided, winner publish");
    expect(out).toMatch(/ok: 7 processes; 70 tokens reached all 5 voters in order over MLS/);
  }, 60_000);
});
