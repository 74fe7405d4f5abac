// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// examples/flagship as a user runs it: the program checks itself and exits 0 only on a correct result.

import { describe, expect, it } from "vitest";
import { runExample } from "../helpers/examples.js";

describe("examples/flagship (npm start)", () => {
  it("streams two writers side by side to an MLS group, then five judges vote; plain output off a terminal", async () => {
    const { code, out, err } = await runExample("flagship", 40_000);
    expect(code, `${out}\n${err}`).toBe(0);
    expect(out).toMatch(/MLS group demo\/flagship\/room: 8 members, epoch 7/);
    expect(out).toMatch(/\[LangGraph writer\]\nModel it as a graph:[\s\S]*-> done: 49 tokens/);
    expect(out).toMatch(/\[LlamaIndex writer\]\nLet every agent argue once, then vote\.[\s\S]*-> done: 44 tokens/);
    expect(out).toContain("Result: decided, 5/5 voted");
    expect(out).toMatch(/llamaindex +#{30} 3 ★ winner/);
    expect(out).not.toContain("\x1b["); // no ANSI when stdout is not a terminal
    expect(out).toMatch(/ok: 93 tokens streamed to 7 members in [\d.]+ s, all in order; vote closed in \d+ ms and all 5 judges verified digest/);
  }, 45_000);
});
