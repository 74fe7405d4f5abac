// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// What every example shares: the secret, the model switch, checks that fail
// the program, a global deadline, and small helpers.

import { createHash, randomBytes } from "node:crypto";

/** One shared-secret identity for every app of a demo (use JWTs across organisations). */
export const SECRET = process.env.SLIM_SECRET ?? randomBytes(32).toString("hex");

/**
 * True when the agents play their scripts (the default, offline). An
 * OpenAI-compatible endpoint in the environment (OPENAI_BASE_URL and/or
 * OPENAI_API_KEY, plus OPENAI_MODEL) makes chatModelFromEnv/llmFromEnv use a
 * real model instead; SLIM_TS_LLM=scripted forces the scripts.
 */
export function scripted(env: Record<string, string | undefined> = process.env): boolean {
  if (env.SLIM_TS_LLM === "scripted") return true;
  return !env.OPENAI_BASE_URL && !env.OPENAI_API_KEY;
}

/** Pause between streamed tokens (ms), so a scripted answer streams visibly; DEMO_TOKEN_DELAY_MS overrides. */
export function tokenDelayMs(fallback: number): number {
  const v = Number(process.env.DEMO_TOKEN_DELAY_MS);
  return Number.isFinite(v) && v >= 0 && process.env.DEMO_TOKEN_DELAY_MS !== undefined ? v : fallback;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const sha256 = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

/** A failed self-check. */
export class CheckError extends Error {
  override name = "CheckError";
}

/** Throw a CheckError unless `cond` holds. */
export function check(cond: unknown, message: string): asserts cond {
  if (!cond) throw new CheckError(message);
}

/** Same as JSON equality, with both values in the message on failure. */
export function checkEqual(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  check(a === e, `${what}: expected ${e}, got ${a}`);
}

/**
 * Run `main` with a hard deadline: exit 0 on success, 1 on a failed check,
 * an error, or the deadline. Timers and sockets left open cannot keep the
 * program alive past the verdict.
 */
export function runExample(name: string, deadlineMs: number, main: () => Promise<void>): void {
  const timer = setTimeout(() => {
    process.stderr.write(`\n${name}: FAILED: no result after ${deadlineMs} ms\n`);
    process.exit(1);
  }, deadlineMs);
  main().then(
    () => {
      clearTimeout(timer);
      process.exit(0);
    },
    (err: unknown) => {
      clearTimeout(timer);
      const text = err instanceof CheckError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.stderr.write(`\n${name}: FAILED: ${text}\n`);
      process.exit(1);
    },
  );
}

/** The short form of a full SLIM name: `org/ns/service` without the instance id. */
export const service = (name: string): string => name.split("/").slice(0, 3).join("/");

/** The last component of a name, for display. */
export const shortName = (name: string): string => name.split("/")[2] ?? name;
