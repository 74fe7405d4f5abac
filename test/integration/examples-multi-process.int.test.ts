// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// examples/multi-process as a user runs it: the program checks itself and exits 0 only on a correct result.

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
