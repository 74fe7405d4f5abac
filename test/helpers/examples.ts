// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Running an example program as a user would, for the examples' integration tests.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** `examples/<name>/main.ts` with scripted models and plain output; killed after `timeoutMs`. */
export function runExample(name: string, timeoutMs: number, extraEnv: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  // scripted models (no endpoint from the environment), plain output (not a terminal)
  const env: Record<string, string | undefined> = { ...process.env, SLIM_TS_LLM: "scripted", DEMO_PLAIN: "1", ...extraEnv };
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
