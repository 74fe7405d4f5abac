// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Where a round trip between two of our apps through our node spends its time:
// three processes (node CLI, receiver, sender) with bench/socket-trace.mjs
// preloaded; the sender awaits N reliable publishes, then does N echo round
// trips; each step from the sender's call to its next socket read is taken
// from the three processes' socket timestamps. `tsx bench/awaited-legs.ts [N]`.

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createApp } from "@slim-ts/core";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SECRET = "an-awaited-legs-benchmark-secret-of-enough-length";
const N = Number(process.argv[2] ?? 2_000);
const role = process.env.SLIM_TRACE_ROLE;
const mark = (tag: string) => (globalThis as { __traceMark?: (t: string) => void }).__traceMark?.(tag);

type Event = [number, string];
const STEPS = [
  "sender: publish called → its socket write",
  "loopback: sender → node",
  "node: read → write (forward)",
  "loopback: node → receiver",
  "receiver: read → write (ack or echo)",
  "loopback: receiver → node",
  "node: read → write (forward)",
  "loopback: node → sender",
  "sender: read → its next publish call",
];

function legs(dir: string, tag: string): number[] {
  const load = (r: string) => JSON.parse(readFileSync(path.join(dir, `${r}.json`), "utf8")) as Event[];
  const [tx, rx, node] = [load("tx"), load("rx"), load("node")];
  const next = (arr: Event[], t: number, kind: string) => {
    let lo = 0;
    let hi = arr.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (arr[m]![0] <= t) lo = m + 1;
      else hi = m;
    }
    for (let i = lo; i < arr.length; i++) if (arr[i]![1] === kind) return arr[i]![0];
    return undefined;
  };
  const per: number[][] = STEPS.map(() => []);
  const totals: number[] = [];
  for (const [t] of tx.filter((e) => e[1] === tag).slice(N / 4, -5)) {
    const chain: Array<[Event[], string]> = [[tx, "W"], [node, "R"], [node, "W"], [rx, "R"], [rx, "W"], [node, "R"], [node, "W"], [tx, "R"], [tx, tag]];
    const times = [t];
    for (const [arr, kind] of chain) {
      const v = next(arr, times.at(-1)!, kind);
      if (v === undefined) break;
      times.push(v);
    }
    if (times.length !== chain.length + 1) continue;
    for (let i = 0; i < STEPS.length; i++) per[i]!.push(times[i + 1]! - times[i]!);
    totals.push(times.at(-1)! - t);
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]! * 1000;
  return [...per.map(med), med(totals)];
}

if (role === undefined) {
  const dir = mkdtempSync(path.join(tmpdir(), "slim-legs-"));
  const trace = ["--import", path.join(ROOT, "bench/socket-trace.mjs")];
  const env = (r: string) => ({ ...process.env, SLIM_TRACE_ROLE: r, SLIM_TRACE_DIR: dir });
  const node = spawn(process.execPath, [...trace, path.join(ROOT, "packages/node-embedded/bin/slim-ts-node.mjs"), "--listen", "127.0.0.1:0"], { env: env("node"), stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve) => {
    let out = "";
    node.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!.startsWith("http") ? m[1]! : `http://${m[1]}`);
    });
  });
  const peer = (r: string) => spawn(process.execPath, [...trace, "--conditions=@slim/source", "--import", "tsx", fileURLToPath(import.meta.url), String(N)], { env: { ...env(r), LEGS_URL: url }, stdio: ["ignore", "inherit", "inherit"] });
  const rx = peer("rx");
  await new Promise((r) => setTimeout(r, 1_500));
  const tx = peer("tx");
  await new Promise((r) => tx.on("exit", r));
  rx.kill("SIGTERM");
  node.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 1_000));
  const awaited = legs(dir, "P");
  const echo = legs(dir, "E");
  console.log(`| step | awaited publish (µs) | echo round trip (µs) |\n|---|---:|---:|`);
  for (let i = 0; i <= STEPS.length; i++) console.log(`| ${STEPS[i] ?? "total"} | ${awaited[i]!.toFixed(0)} | ${echo[i]!.toFixed(0)} |`);
  process.exit(0);
}

const app = await createApp({ name: `bench/legs/${role}`, secret: SECRET, connect: process.env.LEGS_URL! });
if (role === "rx") {
  for await (const s of app.listen({ kind: "p2p" })) {
    void (async () => {
      for await (const m of s) if (s.reliable === undefined) await s.publish(m.payload);
    })();
  }
} else {
  const payload = new Uint8Array(64);
  for (const reliable of [true, false]) {
    const s = await app.createSession({ type: "p2p", peer: "bench/legs/rx" }, reliable ? { reliable: { intervalMs: 1_000, maxRetries: 5 } } : {});
    const it = s[Symbol.asyncIterator]();
    for (let i = 0; i < N; i++) {
      mark(reliable ? "P" : "E");
      await s.publish(payload);
      if (!reliable) await it.next();
    }
    await s.close();
  }
  process.exit(0);
}
