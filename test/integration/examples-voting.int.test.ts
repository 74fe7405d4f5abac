// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// examples/voting as a user runs it: the program checks itself and exits 0 only on a correct result.

import { describe, expect, it } from "vitest";
import { runExample } from "../helpers/examples.js";

describe("examples/voting", () => {
  it("five LangGraph and LlamaIndex agents vote over MLS and every voter verifies the tally", async () => {
    const { code, out, err } = await runExample("voting", 40_000);
    expect(code, `${out}\n${err}`).toBe(0);
    for (const v of ["reviewer-lg", "reviewer-li", "editor-lg", "critic-li", "analyst-lg"]) {
      expect(out).toContain(`ballot accepted from demo/voting/${v}`);
      expect(out).toMatch(new RegExp(`✓ ${v} \\(.*\\) verified the result`));
    }
    expect(out).toContain("result: decided, winner publish (5/5 voted)");
    expect(out).toMatch(/ok: 5 ballots over MLS, closed \d+ ms after the vote opened; all 5 voters verified digest [0-9a-f]{16}/);
  }, 45_000);
});
