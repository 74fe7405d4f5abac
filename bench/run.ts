// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// `npm run bench`: slim-ts against the official SLIM bindings, all measured in ONE run, every
// scenario with fresh processes, repeated and interleaved (rep 1 of every scenario, then rep 2, ...)
// so that drift on this shared 2-core machine hits all of them alike.
//
//   npm run bench                      full run (3 reps), table to stdout, .bench-out/bench/latest.json,
//                                      table section of BENCHMARKS.md rewritten
//   npm run bench -- --quick           small counts, 1 rep, BENCHMARKS.md untouched (development)
//   npm run bench -- --reps 5          more repetitions
//   npm run bench -- --only ts,inproc  some scenarios: inproc, ts, off-ours, off-off, floor, nats
//   npm run bench -- --profile         no table: CPU-profile our node and both clients during a
//                                      64 B burst (and an RTT run), print the top self-time frames
//
// Method (that of shared/bench and test/helpers/official/official-work.mjs): probe payload =
// [f64 LE send time (CLOCK_MONOTONIC ms, comparable across processes)][u32 LE seq] padded to the
// size; one-way rate = received / (last receive - first send); RTT = publish, then wait for the
// echo, after a warm-up. Each process set is warmed up (10% burst) before it is measured.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ChildHandle } from "../test/helpers/official/child.js";
import { topFrames } from "./profile-util.js";
import {
  oneWayRate,
  startOfficialApp,
  startOfficialNode,
  type BurstResult,
  type EchoResult,
  type OfficialApp,
  type RttResult,
  type SinkResult,
} from "../test/helpers/official/index.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT_DIR = path.join(ROOT, ".bench-out", "bench");
const NODE_CLI = path.join(ROOT, "packages/node-embedded/bin/slim-ts-node.mjs");
const INPROC = path.join(ROOT, "bench/inproc.ts");
const TSX_LOADER = import.meta.resolve("tsx");
const TS_NODE_OPTIONS = `--import=${TSX_LOADER} --conditions=@slim/source`;

// ---------------------------------------------------------------- options

const argv = process.argv.slice(2);
const flag = (f: string) => argv.includes(f);
const opt = (f: string) => {
  const i = argv.indexOf(f);
  return i >= 0 ? argv[i + 1] : undefined;
};
const QUICK = flag("--quick");
const PROFILE = flag("--profile");
const REPS = Number(opt("--reps") ?? (QUICK ? 1 : 3));
const ONLY = new Set((opt("--only") ?? "inproc,ts,off-ours,off-off,floor,nats").split(","));
/** Dev knob: extra burst arguments for our client, e.g. --ts-burst '{"maxQueued":1024}'. */
const TS_BURST_ARGS = JSON.parse(opt("--ts-burst") ?? "{}") as { yieldEvery?: number; maxQueued?: number; maxBufferedBytes?: number };
const WATCHDOG_MS = Number(opt("--max-seconds") ?? 420) * 1000;

const scale = QUICK ? 0.1 : 1;
const N = {
  inproc1: Math.round(1_000_000 * scale),
  inproc8: Math.round(200_000 * scale),
  tsBurst64: Math.round(200_000 * scale),
  tsBurst1k: Math.round(100_000 * scale),
  offBurst: Math.round(5_000 * scale),
  rtt: Math.round(1_000 * scale),
  rttWarmup: 100,
  /** Our processes have no aging problem, only a JIT to warm up: more warm-up rounds. */
  tsRttWarmup: QUICK ? 100 : 1_000,
  setupSamples: QUICK ? 3 : 6,
  /** Setups before the measured ones, the same for both nodes: a node in service has run (and our node's JIT has compiled) this path. */
  setupWarmup: QUICK ? 3 : 30,
};
const warm = (n: number) => Math.max(100, Math.round(n / 10));

// ---------------------------------------------------------------- small utilities

const hrms = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (...parts: unknown[]) => process.stderr.write(`[bench ${((hrms() - T0) / 1000).toFixed(1)}s] ${parts.join(" ")}\n`);
const T0 = hrms();

function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** utime+stime of a process in ms (/proc, CLK_TCK 100). */
function cpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

function cpuSnapshot(pids: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpuMs(p)]));
}

function cpuPer1k(before: Record<string, number>, after: Record<string, number>, msgs: number): Record<string, number> {
  const out: Record<string, number> = {};
  let total = 0;
  for (const k of Object.keys(before)) {
    const d = after[k]! - before[k]!;
    out[k] = (d / msgs) * 1000;
    total += d;
  }
  out.total = (total / msgs) * 1000;
  return out;
}

// ---------------------------------------------------------------- process bookkeeping

/** Everything started, so that it is all stopped at the end, on error and on a signal. */
const running = new Set<{ close(): Promise<void> }>();
const rawChildren = new Set<ChildProcess>();

function track<T extends { close(): Promise<void> }>(x: T): T {
  running.add(x);
  const close = x.close.bind(x);
  x.close = async () => {
    running.delete(x);
    await close();
  };
  return x;
}

async function stopAll(): Promise<void> {
  await Promise.allSettled([...running].map((x) => x.close()));
  for (const c of rawChildren) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}

process.on("exit", () => {
  for (const c of rawChildren) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    log(`${sig}: stopping children`);
    void stopAll().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------- our node (CLI process)

interface OurNode {
  url: string;
  pid: number;
  close(): Promise<void>;
}

async function startOurNode(nodeArgs: string[] = []): Promise<OurNode> {
  const child = spawn(process.execPath, [...nodeArgs, NODE_CLI, "--listen", "127.0.0.1:0"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  rawChildren.add(child);
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  let out = "";
  let err = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err = (err + d).slice(-4000)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`our node: not listening after 15 s\n${err}`)), 15_000);
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`our node exited before listening (code ${child.exitCode})\n${err}`));
    });
  });
  return track({
    url,
    pid: child.pid!,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const done = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
        if (!done) {
          child.kill("SIGKILL");
          await exited;
        }
      }
      rawChildren.delete(child);
    },
  });
}

// ---------------------------------------------------------------- our client (bench/ts-peer.ts)

interface TsBurstResult extends BurstResult {
  maxQueue: number;
  yields: number;
}

interface TsPeer {
  name: string;
  pid: number;
  route(name: string): Promise<unknown>;
  sink(args: { count: number; timeoutMs?: number; idleMs?: number }): Promise<SinkResult>;
  echo(args: { count: number; timeoutMs?: number; idleMs?: number }): Promise<EchoResult>;
  burst(args: { count: number; size?: number; yieldEvery?: number; maxQueued?: number; maxBufferedBytes?: number }): Promise<TsBurstResult>;
  rtt(args: { count: number; size?: number; warmup?: number; timeoutMs?: number }): Promise<RttResult>;
  stats(): Promise<unknown>;
  close(): Promise<void>;
}

async function startTsPeer(name: string, url: string, extraEnv: Record<string, string> = {}): Promise<TsPeer> {
  // The official harness's child plumbing, pointed at our program and run under tsx.
  const child = new ChildHandle({
    label: `ts peer "${name}"`,
    script: "../../../bench/ts-peer.ts",
    env: { SLIM_PEER_NAME: name, SLIM_PEER_URL: url, NODE_OPTIONS: TS_NODE_OPTIONS, ...extraEnv },
  });
  const ready = await child.ready<{ name: string }>(30_000);
  const call = <T>(cmd: string, args: object, timeoutMs: number) => child.call<T>(cmd, args, timeoutMs);
  const peer: TsPeer = {
    name: ready.name,
    pid: child.pid,
    route: (n) => call("route", { name: n }, 15_000),
    sink: (a) => call("sink", a, (a.timeoutMs ?? 30_000) + 5_000),
    echo: (a) => call("echo", a, (a.timeoutMs ?? 10_000) + 5_000),
    burst: (a) => call("burst", a, 60_000),
    rtt: (a) => call("rtt", a, 60_000),
    stats: () => call("stats", {}, 5_000),
    close: () => child.close(),
  };
  return track(peer);
}

// ---------------------------------------------------------------- scenarios

type Metrics = Record<string, number>;
type Extra = Record<string, unknown>;
interface RunRecord {
  scenario: string;
  rep: number;
  metrics: Metrics;
  extra: Extra;
  load1: number;
  error?: string;
}

function checkSink(what: string, sink: SinkResult, count: number): void {
  if (sink.got !== count || sink.unique !== count) {
    throw new Error(`${what}: received ${sink.got}/${count} (unique ${sink.unique}, dup ${sink.dup}): ${sink.error ?? ""}`);
  }
}

async function inproc(): Promise<{ metrics: Metrics; extra: Extra }> {
  const child = spawn(process.execPath, [...TS_NODE_OPTIONS.split(" "), INPROC], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  rawChildren.add(child);
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err = (err + d).slice(-4000)));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.once("exit", (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  rawChildren.delete(child);
  if (code !== 0) throw new Error(`inproc exited with ${code}\n${err}`);
  const rows = out.trim().split("\n").map((l) => JSON.parse(l) as { subscribers: number; msgsPerSec: number; deliveriesPerSec: number; messages: number; deliveries: number });
  const one = rows.find((r) => r.subscribers === 1);
  const eight = rows.find((r) => r.subscribers === 8);
  if (!one || !eight) throw new Error(`inproc: unexpected output ${out}`);
  if (one.deliveries !== one.messages || eight.deliveries !== eight.messages * 8) throw new Error(`inproc: lost deliveries ${out}`);
  return {
    metrics: { sub1: one.msgsPerSec, sub8: eight.msgsPerSec, sub8Deliveries: eight.deliveriesPerSec },
    extra: { rows },
  };
}

interface Peer {
  pid: number;
  close(): Promise<void>;
}

/**
 * A fresh process set: a node (ours or official) and two apps (ours or official), each in its own
 * process; `fn` runs against it and everything is stopped afterwards.
 */
async function withProcesses<A extends Peer, T>(
  nodeKind: "ours" | "official",
  startApp: (name: string, url: string) => Promise<A>,
  tag: string,
  fn: (alice: A, bob: A, pids: Record<string, number>) => Promise<T>,
): Promise<T> {
  const node = nodeKind === "ours" ? await startOurNode() : track(await startOfficialNode());
  let alice: A | undefined;
  let bob: A | undefined;
  try {
    [alice, bob] = await Promise.all([startApp(`bench/${tag}/alice`, node.url), startApp(`bench/${tag}/bob`, node.url)]);
    return await fn(alice, bob, { sender: alice.pid, node: node.pid, receiver: bob.pid });
  } finally {
    await Promise.allSettled([alice?.close(), bob?.close()]);
    await node.close();
  }
}

interface BurstOutcome {
  rate: number;
  burst: BurstResult;
  sink: SinkResult;
  cpuPer1k: Record<string, number>;
}

/** Sink on bob, burst from alice, CPU of the three processes around it; every message must arrive. */
async function measureBurst(
  what: string,
  count: number,
  pids: Record<string, number>,
  sink: (count: number) => Promise<SinkResult>,
  burst: (count: number) => Promise<BurstResult>,
): Promise<BurstOutcome> {
  const sinking = sink(count);
  const c0 = cpuSnapshot(pids);
  const b = await burst(count);
  const s = await sinking;
  const c1 = cpuSnapshot(pids);
  checkSink(what, s, count);
  return { rate: oneWayRate(b, s), burst: b, sink: s, cpuPer1k: cpuPer1k(c0, c1, count) };
}

const burstExtra = (o: BurstOutcome) => ({ ...o.burst, sinkLatency: o.sink.latency, cpuPer1k: o.cpuPer1k });

/**
 * Our client -> our node (CLI process) -> our client. Like shared/bench's fresh method, every
 * workload gets its own process set (64 B burst, 1 KiB burst, RTT), warmed up first.
 */
async function tsStack(rep: number): Promise<{ metrics: Metrics; extra: Extra }> {
  const start = (name: string, url: string) => startTsPeer(`${name}${rep}`, url);
  const routed = async (alice: TsPeer, bob: TsPeer) => {
    await alice.route(bob.name);
    await bob.route(alice.name);
  };
  const burstSet = (size: number, count: number) =>
    withProcesses("ours", start, "ts", async (alice, bob, pids) => {
      await routed(alice, bob);
      const run = (n: number) =>
        measureBurst(`ts burst ${size} B`, n, pids,
          (k) => bob.sink({ count: k, timeoutMs: 45_000, idleMs: 5_000 }),
          (k) => alice.burst({ count: k, size, ...TS_BURST_ARGS }));
      await run(warm(count));
      const o = await run(count);
      return { o, stats: { alice: await alice.stats(), bob: await bob.stats() } };
    });
  const b64 = await burstSet(64, N.tsBurst64);
  const b1k = await burstSet(1024, N.tsBurst1k);
  const r = await withProcesses("ours", start, "ts", async (alice, bob) => {
    await routed(alice, bob);
    const echoing = bob.echo({ count: N.rtt + N.tsRttWarmup, timeoutMs: 30_000 });
    const res = await alice.rtt({ count: N.rtt, warmup: N.tsRttWarmup, size: 64, timeoutMs: 5_000 });
    await echoing;
    return res;
  });
  if (r.error !== null || r.rtt.p50 === null || r.rtt.p99 === null) throw new Error(`ts rtt: ${r.error}`);
  return {
    metrics: {
      oneway64: b64.o.rate,
      oneway1k: b1k.o.rate,
      mbps1k: b1k.o.sink.bytes / (b1k.o.sink.lastAt! - b1k.o.burst.sendStart) / 1000,
      rttP50: r.rtt.p50,
      rttP99: r.rtt.p99,
      cpu64: b64.o.cpuPer1k.total!,
    },
    extra: { burst64: burstExtra(b64.o), burst1k: burstExtra(b1k.o), rtt: r.rtt, stats64: b64.stats },
  };
}

/**
 * Official app -> (our | official) node -> official app. The bindings slow down as a process ages
 * (REPORT.md finding 3), so, as in shared/bench's fresh runs, setup, burst and RTT each get a new
 * process set.
 */
async function officialStack(nodeKind: "ours" | "official", rep: number): Promise<{ metrics: Metrics; extra: Extra }> {
  const start = (name: string, url: string) => startOfficialApp({ name: `${name}${rep}`, url }).then(track);
  const tag = nodeKind === "ours" ? "off-ours" : "off-off";
  const session = async (alice: OfficialApp, bob: OfficialApp) => {
    await alice.route(bob.name);
    const incoming = bob.listen({ timeoutMs: 10_000 });
    await alice.create({ type: "p2p", peer: bob.name, mls: false }); // fire-and-forget, MLS off
    await incoming;
  };
  // p2p session setup, MLS off, reliable config (as shared/bench): the median after N.setupWarmup; the first one apart.
  const setups = await withProcesses(nodeKind, start, tag, async (alice, bob) => {
    await alice.route(bob.name);
    const ms: number[] = [];
    for (let i = 0; i < N.setupWarmup + N.setupSamples; i++) {
      const incoming = bob.listen({ timeoutMs: 10_000 });
      const s = await alice.create({ type: "p2p", peer: bob.name, mls: false, maxRetries: 5, intervalMs: 5_000 });
      await incoming;
      ms.push(s.ms);
      await alice.closeSession();
    }
    return ms;
  });
  const b64 = await withProcesses(nodeKind, start, tag, async (alice, bob, pids) => {
    await session(alice, bob);
    const run = (n: number) =>
      measureBurst(`official burst via ${nodeKind} node`, n, pids,
        (k) => bob.sink({ count: k, timeoutMs: 45_000, idleMs: 5_000 }),
        (k) => alice.burst({ count: k, size: 64, mode: "pipelined", window: 64 }, { timeoutMs: 60_000 }));
    await run(warm(N.offBurst));
    return run(N.offBurst);
  });
  const r = await withProcesses(nodeKind, start, tag, async (alice, bob) => {
    await session(alice, bob);
    const echoing = bob.echo({ count: N.rtt + N.rttWarmup, timeoutMs: 30_000 });
    const res = await alice.rtt({ count: N.rtt, warmup: N.rttWarmup, size: 64, timeoutMs: 5_000 }, { timeoutMs: 60_000 });
    await echoing;
    return res;
  });
  if (r.error !== null || r.rtt.p50 === null || r.rtt.p99 === null) throw new Error(`official rtt via ${nodeKind} node: ${r.error}`);
  return {
    metrics: {
      oneway64: b64.rate,
      rttP50: r.rtt.p50,
      rttP99: r.rtt.p99,
      setup: median(setups.slice(N.setupWarmup)),
      setupFirst: setups[0]!,
      cpu64: b64.cpuPer1k.total!,
    },
    extra: { setups, burst64: burstExtra(b64), rtt: r.rtt },
  };
}

/** A tsx child speaking line-based stdout (bench/grpc-floor.ts). */
function lineChild(args: string[]) {
  const child = spawn(process.execPath, [...TS_NODE_OPTIONS.split(" "), ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  rawChildren.add(child);
  const lines: string[] = [];
  const waiters: Array<{ pred: (l: string) => boolean; resolve: (l: string) => void }> = [];
  let err = "";
  let buf = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err = (err + d).slice(-4000)));
  child.stdout!.setEncoding("utf8").on("data", (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.findIndex((x) => x.pred(line));
      if (w >= 0) waiters.splice(w, 1)[0]!.resolve(line);
      else lines.push(line);
    }
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    pid: child.pid!,
    line(pred: (l: string) => boolean, timeoutMs: number): Promise<string> {
      const i = lines.findIndex(pred);
      if (i >= 0) return Promise.resolve(lines.splice(i, 1)[0]!);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${args.join(" ")}: no output after ${timeoutMs} ms\n${err}`)), timeoutMs);
        waiters.push({ pred, resolve: (l) => (clearTimeout(timer), resolve(l)) });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`${args.join(" ")}: exited (code ${child.exitCode})\n${err}`));
        });
      });
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
      rawChildren.delete(child);
    },
  };
}

/** Raw-bytes grpc-js relay (bench/grpc-floor.ts): the transport floor of our three-process layout. */
async function grpcFloor(): Promise<{ metrics: Metrics; extra: Extra }> {
  const FLOOR = path.join(ROOT, "bench/grpc-floor.ts");
  const relay = lineChild([FLOOR, "relay"]);
  const kids = [relay];
  try {
    const port = (await relay.line((l) => l.startsWith("port "), 15_000)).slice(5);
    const isJson = (l: string) => l.startsWith("{");
    const burst = async (count: number) => {
      const sink = lineChild([FLOOR, "sink", port, String(count)]);
      kids.push(sink);
      await sink.line((l) => l === "ready", 15_000);
      const sender = lineChild([FLOOR, "burst", port, String(count), "64"]);
      kids.push(sender);
      const pids = { sender: sender.pid, node: relay.pid, receiver: sink.pid };
      const c0 = cpuSnapshot(pids);
      const b = JSON.parse(await sender.line(isJson, 60_000)) as { sendStart: number };
      const k = JSON.parse(await sink.line(isJson, 60_000)) as { got: number; lastAt: number; error?: string };
      const c1 = cpuSnapshot(pids);
      if (k.got !== count) throw new Error(`grpc floor: received ${k.got}/${count}`);
      await Promise.all([sink.close(), sender.close()]);
      return { rate: (k.got / (k.lastAt - b.sendStart)) * 1000, cpu: cpuPer1k(c0, c1, count) };
    };
    await burst(warm(N.tsBurst64));
    const b = await burst(N.tsBurst64);
    const echo = lineChild([FLOOR, "echo", port, String(N.rtt + N.tsRttWarmup)]);
    kids.push(echo);
    await echo.line((l) => l === "ready", 15_000);
    const rtt = lineChild([FLOOR, "rtt", port, String(N.rtt), String(N.tsRttWarmup)]);
    kids.push(rtt);
    const r = JSON.parse(await rtt.line(isJson, 60_000)) as { p50: number; p99: number };
    return { metrics: { oneway64: b.rate, rttP50: r.p50, rttP99: r.p99, cpu64: b.cpu.total! }, extra: { cpuPer1k: b.cpu } };
  } finally {
    await Promise.allSettled(kids.map((k) => k.close()));
  }
}

function natsAvailable(): string | null {
  const r = spawnSync("sh", ["-c", "command -v nats-server"], { encoding: "utf8" });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

// ---------------------------------------------------------------- table

interface Row {
  scenario: string;
  key: string;
  label: string;
  unit: "msgs/s" | "ms" | "MB/s" | "µs";
  target?: string;
  /** true when the target is met, given the median; undefined = no target. */
  check?: (med: number, all: Record<string, Record<string, number>>) => boolean;
}

const ROWS: Row[] = [
  { scenario: "inproc", key: "sub1", label: "In-process routing, 64 B, 1 subscriber", unit: "msgs/s", target: "≥ 1 000 000", check: (m) => m >= 1_000_000 },
  { scenario: "inproc", key: "sub8", label: "In-process routing, 64 B, 8 subscribers (published)", unit: "msgs/s" },
  { scenario: "inproc", key: "sub8Deliveries", label: "In-process routing, 8 subscribers (deliveries)", unit: "msgs/s" },
  { scenario: "ts", key: "oneway64", label: "Our client → our node → our client: one-way 64 B", unit: "msgs/s", target: "≥ 60 000 (official 12 200, NATS 478 000)", check: (m) => m >= 60_000 },
  { scenario: "ts", key: "oneway1k", label: "Our client → our node → our client: one-way 1 KiB", unit: "msgs/s" },
  { scenario: "ts", key: "mbps1k", label: "Our client → our node → our client: one-way 1 KiB", unit: "MB/s" },
  { scenario: "ts", key: "rttP50", label: "Our client → our node → our client: RTT p50, 64 B", unit: "ms", target: "≤ 0.35 (official 1.16, NATS 0.26)", check: (m) => m <= 0.35 },
  { scenario: "ts", key: "rttP99", label: "Our client → our node → our client: RTT p99, 64 B", unit: "ms" },
  { scenario: "ts", key: "cpu64", label: "Our client → our node → our client: CPU per 1k msgs (3 procs), 64 B", unit: "ms" },
  { scenario: "floor", key: "oneway64", label: "Transport floor: grpc-js relay, raw 64 B, same 3-process layout", unit: "msgs/s", target: "context: ceiling for a grpc-js node" },
  { scenario: "floor", key: "rttP50", label: "Transport floor: grpc-js relay, RTT p50, raw 64 B", unit: "ms" },
  { scenario: "floor", key: "cpu64", label: "Transport floor: grpc-js relay, CPU per 1k msgs (3 procs)", unit: "ms" },
  { scenario: "off-ours", key: "oneway64", label: "Official app → OUR node → official app: one-way 64 B", unit: "msgs/s", target: "≥ via official node", check: (m, all) => m >= (all["off-off"]?.oneway64 ?? Infinity) },
  { scenario: "off-ours", key: "rttP50", label: "Official app → OUR node → official app: RTT p50, 64 B", unit: "ms", target: "≤ via official node", check: (m, all) => m <= (all["off-off"]?.rttP50 ?? -Infinity) },
  { scenario: "off-ours", key: "rttP99", label: "Official app → OUR node → official app: RTT p99, 64 B", unit: "ms" },
  { scenario: "off-ours", key: "setup", label: "Official app → OUR node → official app: p2p setup, MLS off", unit: "ms", target: "≤ via official node", check: (m, all) => m <= (all["off-off"]?.setup ?? -Infinity) },
  { scenario: "off-ours", key: "cpu64", label: "Official app → OUR node → official app: CPU per 1k msgs (3 procs)", unit: "ms" },
  { scenario: "off-off", key: "oneway64", label: "Official app → OFFICIAL node → official app: one-way 64 B", unit: "msgs/s", target: "reference (earlier: 12 200)" },
  { scenario: "off-off", key: "rttP50", label: "Official app → OFFICIAL node → official app: RTT p50, 64 B", unit: "ms", target: "reference (earlier: 1.16)" },
  { scenario: "off-off", key: "rttP99", label: "Official app → OFFICIAL node → official app: RTT p99, 64 B", unit: "ms" },
  { scenario: "off-off", key: "setup", label: "Official app → OFFICIAL node → official app: p2p setup, MLS off", unit: "ms", target: "reference" },
  { scenario: "off-off", key: "cpu64", label: "Official app → OFFICIAL node → official app: CPU per 1k msgs (3 procs)", unit: "ms" },
];

function fmt(v: number, unit: Row["unit"]): string {
  if (!Number.isFinite(v)) return "–";
  if (unit === "msgs/s") return Math.round(v).toLocaleString("en-US").replace(/,/g, " ");
  if (unit === "MB/s") return v.toFixed(1);
  return v < 10 ? v.toFixed(3) : v.toFixed(1);
}

interface Aggregate {
  median: number;
  min: number;
  max: number;
  n: number;
  values: number[];
}

function aggregate(records: RunRecord[]): Record<string, Record<string, Aggregate>> {
  const out: Record<string, Record<string, Aggregate>> = {};
  for (const r of records) {
    if (r.error !== undefined) continue;
    for (const [k, v] of Object.entries(r.metrics)) {
      const a = ((out[r.scenario] ??= {})[k] ??= { median: NaN, min: NaN, max: NaN, n: 0, values: [] });
      a.values.push(v);
    }
  }
  for (const s of Object.values(out)) {
    for (const a of Object.values(s)) {
      a.median = median(a.values);
      a.min = Math.min(...a.values);
      a.max = Math.max(...a.values);
      a.n = a.values.length;
    }
  }
  return out;
}

function table(agg: Record<string, Record<string, Aggregate>>, skipped: Record<string, string>, failures: RunRecord[]): string {
  const meds: Record<string, Record<string, number>> = {};
  for (const [s, m] of Object.entries(agg)) meds[s] = Object.fromEntries(Object.entries(m).map(([k, a]) => [k, a.median]));
  const lines = [
    "| scenario / metric | unit | median | min–max | n | target / peers | |",
    "|---|---|---:|---|---:|---|---|",
  ];
  for (const row of ROWS) {
    const a = agg[row.scenario]?.[row.key];
    if (a === undefined) {
      if (skipped[row.scenario] !== undefined || !ONLY.has(row.scenario)) continue;
      lines.push(`| ${row.label} | ${row.unit} | – | – | 0 | ${row.target ?? ""} | no data |`);
      continue;
    }
    const verdict = row.check === undefined ? "" : row.check(a.median, meds) ? "met" : "**missed**";
    lines.push(
      `| ${row.label} | ${row.unit} | ${fmt(a.median, row.unit)} | ${fmt(a.min, row.unit)}–${fmt(a.max, row.unit)} | ${a.n} | ${row.target ?? ""} | ${verdict} |`,
    );
  }
  const ours = meds["off-ours"];
  const off = meds["off-off"];
  const ratios: string[] = [];
  if (ours && off) {
    const r = (a?: number, b?: number) => (a !== undefined && b !== undefined ? (a / b).toFixed(2) : "–");
    ratios.push(
      `Official apps through our node vs through the official node (medians of this run): one-way ×${r(ours.oneway64, off.oneway64)} (higher is better), ` +
        `RTT p50 ×${r(ours.rttP50, off.rttP50)}, setup ×${r(ours.setup, off.setup)} (lower is better).`,
    );
  }
  const ts = meds.ts;
  if (ts && off) {
    ratios.push(
      `Our client/node vs the official stack (this run): one-way ×${(ts.oneway64! / off.oneway64!).toFixed(1)}, RTT p50 ×${(ts.rttP50! / off.rttP50!).toFixed(2)}.`,
    );
  }
  const notes = [
    ...ratios,
    ...Object.entries(skipped).map(([s, why]) => `Skipped ${s}: ${why}.`),
    ...failures.map((f) => `Failed run: ${f.scenario} rep ${f.rep + 1}: ${f.error?.split("\n")[0]}`),
  ];
  return `${lines.join("\n")}\n${notes.length ? `\n${notes.map((n) => `- ${n}`).join("\n")}\n` : ""}`;
}

const START = "<!-- bench:table:start -->";
const END = "<!-- bench:table:end -->";

const HEADER = `# Benchmarks

\`npm run bench\` (\`bench/run.ts\`) measures slim-ts and the official SLIM bindings (\`@agntcy/slim-bindings\`)
in one run, so every ratio below comes from the same run on the same machine (about 1½ minutes).
\`npm run bench -- --profile\` CPU-profiles our node and clients instead and prints the hottest frames
with their \`src\` file:line.

**Method.** Every node and app runs in its own process (official ones through \`test/helpers/official\`,
ours through \`bench/ts-peer.ts\` and the \`slim-ts-node\` CLI), over loopback TCP. As in the fresh runs
of \`shared/bench\`, every workload (burst, RTT, setup) gets a new process set, warmed up first (a 10 %
burst; 100 RTT rounds for official apps, whose processes slow down with age, 1 000 for ours, which only
have a JIT to warm). Repetitions are interleaved across scenarios; the table shows the median and the
min–max of the repetitions. Probes carry their send time (CLOCK_MONOTONIC, comparable across processes)
and a sequence number; one-way rate = messages received / (last receive − first send), every message
checked for arrival; RTT = publish 64 B, wait for the echo (1 000 rounds). Official apps use a
fire-and-forget p2p session (MLS off) for one-way and RTT, pipelined with 64 publishes in flight; p2p
setup is \`createSessionAndWait\` with the reliable config, the median of 6 after 30 warm-up setups (both nodes alike). Our client is the raw
\`Endpoint\` (no session layer): pipelined \`publish\`, waiting for \`drain\` whenever the link's gRPC call
would refuse a write (its highWaterMark), as a well-behaved Writable producer does. "Transport floor"
is the same three-process layout with bare grpc-js bidi streams and raw bytes (\`bench/grpc-floor.ts\`):
what any node built on grpc-js can at best reach here. In-process routing is \`bench/inproc.ts\`.

**Machine.** 2 vCPUs shared with other work, Node 20, Debian 12, loopback only. Absolute figures drift
from run to run (load1 is printed with each run); compare within one run.

**Targets.** In-process ≥ 1 000 000 msgs/s to one subscriber; our client through our node ≥ 60 000
msgs/s one-way and RTT p50 ≤ 0.35 ms; official apps through our node at least as fast as through the
official node. Peers measured earlier on this machine (\`shared/bench/REPORT.md\`): official SLIM 12 200
msgs/s one-way and RTT p50 1.16 ms; NATS core 478 000 msgs/s and 0.26 ms.

Raw results of the last run: \`.bench-out/bench/latest.json\` (not in git).
`;

function writeBenchmarksMd(section: string): void {
  const file = path.join(ROOT, "BENCHMARKS.md");
  let text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : `${HEADER}\n${START}\n${END}\n`;
  if (!text.includes(START) || !text.includes(END)) text = `${text.trimEnd()}\n\n${START}\n${END}\n`;
  const before = text.slice(0, text.indexOf(START) + START.length);
  const after = text.slice(text.indexOf(END));
  fs.writeFileSync(file, `${before}\n${section}${after}`);
}

// ---------------------------------------------------------------- profile mode

async function profile(): Promise<void> {
  const dir = path.join(OUT_DIR, "prof", new Date().toISOString().replace(/[:.]/g, "-"));
  fs.mkdirSync(dir, { recursive: true });
  const which = (opt("--profile-only") ?? "burst,rtt,official-burst").split(",");
  for (const work of ["burst", "rtt", "official-burst"] as const) {
    if (!which.includes(work)) continue;
    const sub = path.join(dir, work);
    fs.mkdirSync(sub);
    const node = await startOurNode(["--cpu-prof", `--cpu-prof-dir=${sub}`, "--cpu-prof-name=node.cpuprofile", "--cpu-prof-interval=500"]);
    const pids: Record<string, number> = { node: node.pid };
    let c0: Record<string, number> = {};
    let msgs = 0;
    try {
      if (work === "official-burst") {
        // Official apps through our node: only the node is profiled.
        const alice = track(await startOfficialApp({ name: "bench/prof/alice", url: node.url }));
        const bob = track(await startOfficialApp({ name: "bench/prof/bob", url: node.url }));
        Object.assign(pids, { sender: alice.pid, receiver: bob.pid });
        await alice.route(bob.name);
        const incoming = bob.listen({ timeoutMs: 10_000 });
        await alice.create({ type: "p2p", peer: bob.name, mls: false });
        await incoming;
        for (const count of [warm(N.offBurst * 2), N.offBurst * 2]) {
          c0 = cpuSnapshot(pids);
          const sinking = bob.sink({ count, timeoutMs: 60_000, idleMs: 5_000 });
          const b = await alice.burst({ count, size: 64 }, { timeoutMs: 60_000 });
          const s = await sinking;
          msgs = count;
          log(`profile ${work} ${count}: ${Math.round(oneWayRate(b, s))} msgs/s, got ${s.got}`);
        }
        log(`CPU per 1k msgs: ${JSON.stringify(cpuPer1k(c0, cpuSnapshot(pids), msgs))}`);
        await alice.close();
        await bob.close();
      } else {
        // The clients load @slim-ts/core from dist here (no @slim/source condition): tsx-transformed
        // sources put every frame on line 1, compiled files map back to src lines through .js.map.
        const prof = (who: string) => ({ SLIM_PEER_CPU_PROF: path.join(sub, `${who}.cpuprofile`), NODE_OPTIONS: `--import=${TSX_LOADER}` });
        const alice = await startTsPeer("bench/prof/alice", node.url, prof("sender"));
        const bob = await startTsPeer("bench/prof/bob", node.url, prof("receiver"));
        Object.assign(pids, { sender: alice.pid, receiver: bob.pid });
        await alice.route(bob.name);
        await bob.route(alice.name);
        if (work === "burst") {
          for (const count of [warm(N.tsBurst64), N.tsBurst64 * 2]) {
            c0 = cpuSnapshot(pids);
            const sinking = bob.sink({ count, timeoutMs: 60_000, idleMs: 5_000 });
            const b = await alice.burst({ count, size: 64, ...TS_BURST_ARGS });
            const s = await sinking;
            msgs = count;
            log(`profile ${work} ${count}: ${Math.round(oneWayRate(b, s))} msgs/s, got ${s.got}`);
          }
        } else {
          c0 = cpuSnapshot(pids);
          const echoing = bob.echo({ count: 5_100, timeoutMs: 30_000 });
          const r = await alice.rtt({ count: 5_000, warmup: 100 });
          await echoing;
          msgs = 10_200;
          log(`profile rtt: p50 ${r.rtt.p50?.toFixed(3)} ms p99 ${r.rtt.p99?.toFixed(3)} ms`);
        }
        log(`CPU per 1k msgs: ${JSON.stringify(cpuPer1k(c0, cpuSnapshot(pids), msgs))}`);
        await alice.close();
        await bob.close();
      }
    } finally {
      await node.close();
    }
    for (const who of ["node", "sender", "receiver"]) {
      const f = path.join(sub, `${who}.cpuprofile`);
      if (!fs.existsSync(f)) continue;
      console.log(`\n## ${work}: ${who} (${path.relative(ROOT, f)})`);
      console.log(topFrames(f, Number(opt("--top") ?? 25)).join("\n"));
    }
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  if (PROFILE) return profile();
  const skipped: Record<string, string> = {};
  if (ONLY.has("nats")) {
    const nats = natsAvailable();
    // A NATS comparison needs a client library; none is a dependency of this repo.
    skipped.nats = nats === null ? "nats-server is not on PATH (not installed here)" : `nats-server found at ${nats}, but no NATS client is installed in this repo`;
    log(`NATS skipped: ${skipped.nats}`);
  }
  const scenarios: Array<[string, (rep: number) => Promise<{ metrics: Metrics; extra: Extra }>]> = [
    ["inproc", () => inproc()],
    ["ts", (rep) => tsStack(rep)],
    ["off-ours", (rep) => officialStack("ours", rep)],
    ["off-off", (rep) => officialStack("official", rep)],
    ["floor", () => grpcFloor()],
  ];
  const records: RunRecord[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    for (const [name, run] of scenarios) {
      if (!ONLY.has(name)) continue;
      const load1 = os.loadavg()[0]!;
      const t = hrms();
      try {
        const { metrics, extra } = await run(rep);
        records.push({ scenario: name, rep, metrics, extra, load1 });
        log(`${name} rep ${rep + 1}/${REPS} (${((hrms() - t) / 1000).toFixed(1)} s, load1 ${load1.toFixed(2)}):`,
          Object.entries(metrics).map(([k, v]) => `${k}=${v < 10 ? v.toFixed(3) : Math.round(v)}`).join(" "));
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        records.push({ scenario: name, rep, metrics: {}, extra: {}, load1, error });
        log(`${name} rep ${rep + 1}/${REPS} FAILED: ${error}`);
        await stopAll();
      }
      await sleep(200);
    }
  }
  const agg = aggregate(records);
  const failures = records.filter((r) => r.error !== undefined);
  const totalSec = (hrms() - T0) / 1000;
  const stamp = new Date().toISOString();
  const section =
    `\nLast run: ${stamp.slice(0, 16).replace("T", " ")} UTC, ${REPS} repetitions${QUICK ? " (quick counts)" : ""}, ` +
    `${totalSec.toFixed(0)} s, Node ${process.version}, ${os.cpus().length} CPUs, load1 at start ${records[0]?.load1.toFixed(2) ?? "?"}.\n\n` +
    table(agg, skipped, failures) +
    "\n";
  console.log(section);
  const json = {
    when: stamp,
    node: process.version,
    cpus: os.cpus().length,
    reps: REPS,
    quick: QUICK,
    counts: N,
    totalSec,
    skipped,
    aggregate: agg,
    records,
  };
  fs.writeFileSync(path.join(OUT_DIR, "latest.json"), `${JSON.stringify(json, null, 2)}\n`);
  if (!QUICK && !argv.includes("--only")) writeBenchmarksMd(section);
  else log("quick/partial run: BENCHMARKS.md left as it is");
  log(`done in ${totalSec.toFixed(0)} s; results in ${path.relative(ROOT, OUT_DIR)}/latest.json`);
  if (failures.length > 0) process.exitCode = 1;
}

const watchdog = setTimeout(() => {
  log(`watchdog: still running after ${WATCHDOG_MS / 1000} s, stopping`);
  void stopAll().finally(() => process.exit(2));
}, WATCHDOG_MS);
watchdog.unref();

try {
  await main();
} catch (e) {
  log(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
