// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// examples/official-agent as a user runs it: the program checks itself and exits 0 only on a correct result.

import { describe, expect, it } from "vitest";
import { runExample } from "../helpers/examples.js";

describe("examples/official-agent", () => {
  it("an agent on @agntcy/slim-bindings gets the streamed draft over MLS, reviews it, votes and recounts", async () => {
    const { code, out, err } = await runExample("official-agent", 40_000);
    expect(code, `${out}\n${err}`).toBe(0);
    expect(out).toContain("the official agent joined demo/official/room with MLS on");
    expect(out).toContain("official agent reassembled 70 tokens (sha256 8a34c6513b6e244a");
    expect(out).toContain("agent: Read all 70 tokens through the official bindings.");
    expect(out).toContain("ballot accepted from demo/official/agent");
    expect(out).toMatch(/✓ demo\/official\/agent recounted it with its own code: digest [0-9a-f]{12}/);
    expect(out).toContain("result: decided, winner publish");
    expect(out).toContain("ok: the official agent got all 70 tokens in order over MLS, voted, and verified the same digest as ours");
  }, 45_000);
});
