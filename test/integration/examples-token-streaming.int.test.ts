// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// examples/token-streaming as a user runs it: the program checks itself and exits 0 only on a correct result.

import { describe, expect, it } from "vitest";
import { runExample } from "../helpers/examples.js";

describe("examples/token-streaming", () => {
  it("streams a LangGraph draft to a LangGraph and a LlamaIndex reviewer over MLS, every token in order", async () => {
    const { code, out, err } = await runExample("token-streaming", 40_000);
    expect(code, `${out}\n${err}`).toBe(0);
    expect(out).toContain("MLS epoch 2, members: 3");
    expect(out).toMatch(/\n {2}-> 70 tokens from writer\n[\s\S]*\n {2}-> 70 tokens from writer\n/);
    expect(out).toContain("reviewer-lg: Clear link between agent context and the threat.");
    expect(out).toContain("reviewer-li: Good explanation of epochs and signatures.");
    expect(out).toMatch(/ok: 70 tokens streamed in \d+ ms over MLS; both reviewers got every token in order/);
  }, 45_000);
});
