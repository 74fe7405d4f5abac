// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// examples/flagship as a user runs it: the program checks itself and exits 0 only on a correct result.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function runExample(name: string, timeoutMs: number): Promise<{ code: number | null; out: string; err: string }> {
  // scripted models (no endpoint from the environment), plain output (not a terminal)
  const env: Record<string, string | undefined> = { ...process.env, SLIM_TS_LLM: "scripted", DEMO_PLAIN: "1" };
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=@slim/source", `examples/${name}/main.ts`], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (err += b.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    }),
  );
}

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
