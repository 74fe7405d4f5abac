// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The 5-voter vote with every agent in its own process (bench/vote-peer.ts),
// through a standalone slim-ts-node process, as examples/multi-process runs
// them; the chair (moderator) is this process. Time: from just before the
// chair opens the proposal to the last voter's verified result, on
// CLOCK_MONOTONIC (the voters report theirs).

import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { AgentHub, createApp } from "@slim-ts/core";
import type { VoterSpec } from "../examples/_lib/agents.js";
import { createMlsGroup } from "../examples/_lib/group.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const NODE_CLI = path.join(ROOT, "packages/node-embedded/bin/slim-ts-node.mjs");
const PEER = path.join(ROOT, "bench/vote-peer.ts");
const TS_NODE_OPTIONS = `--import=${import.meta.resolve("tsx")} --conditions=@slim/source`;

interface Line {
  ready?: boolean;
  joined?: boolean;
  verified?: string;
  atNs?: string;
  digest?: string;
}

interface Child {
  proc: ChildProcess;
  /** Resolves with the next line matching `pick`. */
  next(pick: (l: Line) => boolean, timeoutMs: number): Promise<Line>;
}

function child(args: string[], env: Record<string, string>, label: string): Child {
  const proc = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
  let err = "";
  proc.stderr!.setEncoding("utf8").on("data", (d: string) => (err = (err + d).slice(-4000)));
  const lines: Line[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: proc.stdout! }).on("line", (text) => {
    try {
      lines.push(JSON.parse(text) as Line);
    } catch {
      lines.push({});
    }
    for (const w of waiters.splice(0)) w();
  });
  const next = async (pick: (l: Line) => boolean, timeoutMs: number): Promise<Line> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = lines.findIndex(pick);
      if (i >= 0) return lines.splice(i, 1)[0]!;
      if (proc.exitCode !== null) throw new Error(`${label} exited (${proc.exitCode}): ${err}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${label}: no expected line within ${timeoutMs} ms: ${err}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  };
  return { proc, next };
}

async function startNodeProcess(): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [NODE_CLI, "--listen", "127.0.0.1:0"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("node: not listening after 15 s")), 15_000);
    proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.once("exit", () => reject(new Error(`node exited (${proc.exitCode})`)));
  });
  return { url, proc };
}

export interface MultiProcessVoteOptions {
  voters: VoterSpec[];
  secret: string;
  mls: boolean;
  direct: boolean;
  votes: number;
  warmup: number;
}

/** Run `votes` votes (after `warmup`) and return each one's end-to-end milliseconds. */
export async function multiProcessVotes(o: MultiProcessVoteOptions): Promise<number[]> {
  const node = await startNodeProcess();
  const ns = `bench/mp${o.mls ? "mls" : "plain"}${o.direct ? "d" : "a"}`;
  const room = `${ns}/room`;
  const voters = o.voters.map((v) => ({ ...v, name: v.name.replace(/^[^/]+\/[^/]+\//, `${ns}/`) }));
  const peers = voters.map((spec) =>
    child([PEER, JSON.stringify({ url: node.url, secret: o.secret, spec, room, direct: o.direct, timeoutMs: 20_000 })], { NODE_OPTIONS: TS_NODE_OPTIONS }, spec.name),
  );
  const app = await createApp({ name: `${ns}/chair`, secret: o.secret, connect: node.url });
  const chair = new AgentHub(app);
  try {
    await Promise.all(peers.map((p) => p.next((l) => l.ready === true, 60_000)));
    const group = o.mls ? await createMlsGroup(chair, room, voters.map((v) => v.name)) : await chair.createGroup(room, voters.map((v) => v.name));
    await Promise.all(peers.map((p) => p.next((l) => l.joined === true, 30_000)));
    const ms: number[] = [];
    for (let i = 0; i < o.warmup + o.votes; i++) {
      const t0 = process.hrtime.bigint();
      const round = await group.voting!.open({ question: "ship?", choices: ["yes", "no"], strategy: "majority", durationMs: 20_000, earlyClose: false });
      const outcome = await round.result();
      const id = outcome.result.proposalId;
      const seen = await Promise.all(peers.map((p) => p.next((l) => l.verified === id, 30_000)));
      if (outcome.result.turnout !== voters.length || seen.some((l) => l.digest !== outcome.result.digest)) throw new Error("vote did not verify");
      const last = seen.reduce((m, l) => (BigInt(l.atNs!) > m ? BigInt(l.atNs!) : m), 0n);
      if (i >= o.warmup) ms.push(Number(last - t0) / 1e6);
    }
    return ms;
  } finally {
    for (const p of peers) p.proc.stdin!.end();
    await Promise.all(
      peers.map(async (p) => {
        if (p.proc.exitCode !== null) return;
        const exited = new Promise((r) => p.proc.once("exit", r));
        const timer = setTimeout(() => p.proc.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    await chair.close();
    await app.close();
    node.proc.kill("SIGTERM");
  }
}
