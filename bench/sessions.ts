// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Session-level benchmarks (MLS off): our apps vs official apps, each app in its
// own process, through a node of their own kind, in one run. Fresh processes for
// every workload; medians over --reps (default 3).

import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ChildHandle } from "../test/helpers/official/child.js";
import { DEFAULT_SECRET, freePort, oneWayRate, startOfficialApp, startOfficialNode } from "../test/helpers/official/index.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const NODE_CLI = path.join(ROOT, "packages/node-embedded/bin/slim-ts-node.mjs");
const TS_NODE_OPTIONS = `--import=${import.meta.resolve("tsx")} --conditions=@slim/source`;
/** SLIM_PROFILE=<prefix> in the environment CPU-profiles our app processes (see prof-hook.mjs). */
const PROF_HOOK = path.join(ROOT, "bench/prof-hook.mjs");
const argv = process.argv.slice(2);
const REPS = Number(argv[argv.indexOf("--reps") + 1] || 3) || 3;
const QUICK = argv.includes("--quick");
/** Only these workloads, e.g. `--only rtt,tokens` (for iterating). */
const ONLY = argv.includes("--only") ? argv[argv.indexOf("--only") + 1]!.split(",") : undefined;
/** Only our stack (for iterating on it; nothing is written to BENCHMARKS.md). */
const OURS_ONLY = argv.includes("--ours");

/** Token streams: warm-up streams for our apps (official ones get 1), then the median of TOKEN_RUNS. */
const TOKEN_WARMUP_OURS = 10;
/** p2p session setup: warm-up creates for our apps before the median of 5. */
const SETUP_WARMUP_OURS = 40;
const TOKEN_RUNS = 3;
const N = { oneway: QUICK ? 20_000 : 100_000, officialOneway: QUICK ? 2_000 : 5_000, awaited: QUICK ? 500 : 2_000, officialAwaited: 500, rtt: QUICK ? 300 : 1_000, tokens: 2_000 };

/**
 * RTT warm-up rounds for our apps. Like the raw endpoint RTT in run.ts, ours only have a JIT to warm:
 * after 200 rounds much of the session path still runs unoptimized (p50 0.69 ms against 0.42 ms after
 * 3 000). Official apps keep 100 (their processes slow down with age).
 */
const RTT_WARMUP_OURS = 3_000;
/** The same for awaited reliable publishes: a warm-up burst in the reliable session (official apps: a tenth of their run). */
const AWAITED_WARMUP_OURS = 5_000;

type Metrics = Record<string, number>;
interface App {
  pid: number;
  create(peer: string, reliable: boolean): Promise<number>;
  listen(): Promise<void>;
  burst(count: number, size: number, awaited: boolean): Promise<{ sendStart: number }>;
  sink(count: number): Promise<{ got: number; firstAt: number | null; lastAt: number | null }>;
  echo(count: number): Promise<unknown>;
  rtt(count: number): Promise<{ p50: number | null; p99: number | null }>;
  tokens(rx: App, coalesce?: boolean): Promise<{ first: number; total: number }>;
  rssMiB(): Promise<number>;
  close(): Promise<void>;
}

async function ourNode(): Promise<{ url: string; close(): Promise<void> }> {
  const port = await freePort();
  // stdout is read until the end (an unread pipe that fills would block the node); stderr is dropped
  const child: ChildProcess = spawn(process.execPath, [NODE_CLI, "--listen", `127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "ignore"] });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("our node did not start")), 10_000);
    child.stdout!.on("data", (b: Buffer) => {
      if (b.toString().includes("listening")) {
        clearTimeout(t);
        resolve();
      }
    });
    child.stdout!.resume();
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => (child.exitCode !== null ? r() : (child.once("exit", () => r()), child.kill("SIGTERM")))),
  };
}

async function ourApp(name: string, url: string): Promise<App> {
  const c = new ChildHandle({
    label: `our app ${name}`,
    script: "../../../bench/session-peer.ts",
    env: { SLIM_PEER_NAME: name, SLIM_PEER_URL: url, SLIM_PEER_SECRET: DEFAULT_SECRET, NODE_OPTIONS: `${TS_NODE_OPTIONS} --expose-gc --import=${PROF_HOOK} ${process.env.SLIM_PEER_NODE_OPTIONS ?? ""}` },
  });
  await c.ready(30_000);
  const call = <T>(cmd: string, args: object = {}, ms = 60_000) => c.call<T>(cmd, args, ms);
  const app: App = {
    pid: c.pid,
    create: async (peer, reliable) => (await call<{ ms: number }>("create", { peer, reliable })).ms,
    listen: async () => void (await call("listen", { timeoutMs: 20_000 })),
    burst: (count, size, awaited) => call("burst", { count, size, awaited }),
    sink: (count) => call("sink", { count, timeoutMs: 40_000 }),
    echo: (count) => call("echo", { count }),
    rtt: (count) => call("rtt", { count, warmup: RTT_WARMUP_OURS }),
    tokens: async (rx, coalesce) => {
      const receiving = (rx as unknown as { raw: typeof call }).raw<{ n: number; firstAt: number; lastAt: number }>("streamRecv", {});
      const { sendStart, ...sent } = await call<{ sendStart: number }>("streamSend", { count: N.tokens, coalesce: coalesce === true });
      const r = await receiving;
      if (process.env.SLIM_PEER_TRACE) process.stderr.write(`[tokens] sender ${JSON.stringify(sent)} receiver ${JSON.stringify(r)}\n`);
      if (r.n !== N.tokens) throw new Error(`stream: ${r.n}/${N.tokens} tokens`);
      return { first: r.firstAt - sendStart, total: r.lastAt - sendStart };
    },
    rssMiB: async () => (await call<{ rssMiB: number }>("mem")).rssMiB,
    close: () => c.close(),
  };
  (app as unknown as { raw: typeof call }).raw = call;
  return app;
}

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

async function officialApp(name: string, url: string): Promise<App> {
  const a = await startOfficialApp({ name, url });
  const route = async (peer: string) => void (await a.route(peer));
  return {
    pid: a.pid,
    create: async (peer, reliable) => {
      await route(peer);
      return (await a.create({ type: "p2p", peer, ...(reliable ? { maxRetries: 5, intervalMs: 1_000 } : {}) })).ms;
    },
    listen: async () => void (await a.listen({ timeoutMs: 20_000 })),
    burst: (count, size, awaited) => a.burst({ count, size, mode: awaited ? "awaited" : "pipelined" }, { timeoutMs: 120_000 }),
    sink: (count) => a.sink({ count, timeoutMs: 40_000, idleMs: 5_000 }),
    echo: (count) => a.echo({ count, timeoutMs: 30_000 }),
    rtt: async (count) => (await a.rtt({ count, warmup: 100, size: 64, timeoutMs: 5_000 }, { timeoutMs: 120_000 })).rtt,
    tokens: async (rx) => {
      const sinking = rx.sink(N.tokens);
      const b = await a.burst({ count: N.tokens, size: 8, mode: "pipelined" }, { timeoutMs: 60_000 });
      const s = await sinking;
      if (s.got !== N.tokens || s.firstAt === null || s.lastAt === null) throw new Error(`tokens: ${s.got}/${N.tokens}`);
      return { first: s.firstAt - b.sendStart, total: s.lastAt - b.sendStart };
    },
    rssMiB: async () => rssOf(a.pid),
    close: () => a.close(),
  };
}

async function fresh<T>(kind: "ours" | "official", reliable: boolean, body: (tx: App, rx: App) => Promise<T>): Promise<T> {
  const node = kind === "ours" ? await ourNode() : await startOfficialNode();
  const mk = kind === "ours" ? ourApp : officialApp;
  const rx = await mk("bench/sess/rx", node.url);
  const tx = await mk("bench/sess/tx", node.url);
  try {
    const listening = rx.listen();
    await tx.create("bench/sess/rx", reliable);
    await listening;
    return await body(tx, rx);
  } finally {
    await tx.close();
    await rx.close();
    await node.close();
  }
}

/**
 * Our idle app as users run it: plain node on the compiled package, one session open
 * (the bench peers run under the tsx loader, whose own memory would be counted).
 */
async function idleAppRss(peer: App): Promise<number> {
  void peer;
  const node = await ourNode();
  const rx = await ourApp("bench/sess/rx", node.url);
  try {
    const listening = rx.listen();
    const out = await new Promise<string>((resolve, reject) => {
      const c = spawn(process.execPath, ["--expose-gc", path.join(ROOT, "bench/idle-app.mjs"), node.url, "bench/sess/rx"], {
        env: { ...process.env, SLIM_SECRET: DEFAULT_SECRET },
        stdio: ["ignore", "pipe", "inherit"],
      });
      let text = "";
      c.stdout!.on("data", (b: Buffer) => (text += b.toString()));
      c.once("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`idle app exited with ${code}`))));
    });
    await listening;
    return (JSON.parse(out) as { rssMiB: number }).rssMiB;
  } finally {
    await rx.close();
    await node.close();
  }
}

/** Every process set is warmed up before it is measured (a JIT has to compile the path first). */
async function warm(tx: App, rx: App, count: number, size: number): Promise<void> {
  const n = Math.max(1, Math.round(count));
  const sinking = rx.sink(n);
  await tx.burst(n, size, false);
  const s = await sinking;
  if (s.got !== n) throw new Error(`warm-up: ${s.got}/${n}`);
}

const median = (xs: number[]) => {
  const ok = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return ok.length === 0 ? NaN : ok[Math.floor(ok.length / 2)]!;
};

/** One workload; a failure is reported with its stage and recorded as NaN instead of ending the run. */
async function stage(kind: string, name: string, body: () => Promise<void>): Promise<void> {
  if (ONLY !== undefined && name !== "all" && !ONLY.includes(name)) return;
  try {
    await body();
  } catch (err) {
    process.stderr.write(`[sessions] ${kind} ${name} FAILED: ${String((err as Error).message).split("\n")[0]}\n`);
  }
}

async function measure(kind: "ours" | "official"): Promise<Metrics> {
  const m: Metrics = {};
  for (const [key] of ROWS) m[key] = NaN;
  await stage(kind, "all", async () => {
    await measureInto(kind, m);
  });
  return m;
}

async function measureInto(kind: "ours" | "official", m: Metrics): Promise<void> {
  const oneway = kind === "ours" ? N.oneway : N.officialOneway;
  await stage(kind, "setup", async () => {
  m.setup = await fresh(kind, false, async (tx) => {
    // warm-up creates: ours have a JIT to warm (the first creates of a process take about twice as
    // long); official apps get 3, as before (their processes slow down with age)
    const warm = kind === "ours" ? SETUP_WARMUP_OURS : 3;
    const t: number[] = [];
    for (let i = 0; i < warm + 5; i++) t.push(await tx.create("bench/sess/rx", false));
    t.splice(0, warm);
    return median(t);
  });
  });
  for (const size of [64, 1024]) {
    await stage(kind, `oneway${size}`, async () => {
    m[`oneway${size}`] = await fresh(kind, false, async (tx, rx) => {
      await warm(tx, rx, oneway / 10, size);
      const sinking = rx.sink(oneway);
      const b = await tx.burst(oneway, size, false);
      const s = await sinking;
      if (s.got !== oneway || s.lastAt === null) throw new Error(`${kind} oneway ${size}: ${s.got}/${oneway}`);
      return oneWayRate(b as never, s as never);
    });
    });
  }
  const awaitedN = kind === "ours" ? N.awaited : N.officialAwaited;
  await stage(kind, "awaited", async () => {
  m.awaited = await fresh(kind, true, async (tx, rx) => {
    await warm(tx, rx, kind === "ours" ? AWAITED_WARMUP_OURS : awaitedN / 10, 64);
    const sinking = rx.sink(awaitedN);
    const b = await tx.burst(awaitedN, 64, true);
    const s = await sinking;
    return oneWayRate(b as never, s as never);
  });
  });
  await stage(kind, "rtt", async () => {
  await fresh(kind, false, async (tx, rx) => {
    const echoing = rx.echo(N.rtt + (kind === "ours" ? RTT_WARMUP_OURS : 200));
    const r = await tx.rtt(N.rtt);
    await echoing.catch(() => {});
    m.rttP50 = r.p50 ?? NaN;
    m.rttP99 = r.p99 ?? NaN;
  });
  });
  for (const reliable of [true, false]) {
    await stage(kind, "tokens", async () => {
      await fresh(kind, reliable, async (tx, rx) => {
        // Warm-up streams: ours have a JIT to warm (a 2 000-token stream is short; the first
        // ones run mostly unoptimised code), official apps slow down with age (as for RTT).
        for (let i = 0; i < (kind === "ours" ? TOKEN_WARMUP_OURS : 1); i++) await tx.tokens(rx);
        const runs: Array<{ first: number; total: number }> = [];
        for (let i = 0; i < TOKEN_RUNS; i++) runs.push(await tx.tokens(rx));
        m[reliable ? "tokenFirst" : "tokenFirstU"] = median(runs.map((t) => t.first));
        m[reliable ? "tokenTotal" : "tokenTotalU"] = median(runs.map((t) => t.total));
        if (reliable) m.idleRss = kind === "ours" ? await idleAppRss(tx) : await rx.rssMiB();
      });
    });
  }
  // ours only: SessionMux streams can coalesce what a source produces within one turn (official apps have no such mode)
  if (kind === "ours") {
    await stage(kind, "tokens", async () => {
      await fresh(kind, true, async (tx, rx) => {
        for (let i = 0; i < TOKEN_WARMUP_OURS; i++) await tx.tokens(rx, true);
        const runs: Array<{ first: number; total: number }> = [];
        for (let i = 0; i < TOKEN_RUNS; i++) runs.push(await tx.tokens(rx, true));
        m.tokenFirstC = median(runs.map((t) => t.first));
        m.tokenTotalC = median(runs.map((t) => t.total));
      });
    });
  }
}

/** Rows of a mode official apps do not have (SessionMux `coalesce`). */
const OURS_ONLY_ROWS = new Set(["tokenFirstC", "tokenTotalC"]);

const ROWS: Array<[string, string, string, string]> = [
  ["oneway64", "one-way 64 B, pipelined", "msgs/s", "≥ 60 000 (official earlier: 12 200)"],
  ["oneway1024", "one-way 1 KiB, pipelined", "msgs/s", ""],
  ["awaited", "reliable, each publish awaited", "msgs/s", "≥ 4 000 (official earlier: 1 300)"],
  ["rttP50", "RTT p50, 64 B", "ms", "≤ 0.35"],
  ["rttP99", "RTT p99, 64 B", "ms", "≤ 1"],
  ["tokenFirst", "2 000-token stream, reliable: first token", "ms", "≤ 1"],
  ["tokenTotal", "2 000-token stream, reliable: total", "ms", "≤ 30 (official earlier: 138)"],
  ["tokenFirstC", "2 000-token stream, reliable, `coalesce` (ours only): first token", "ms", "≤ 1"],
  ["tokenTotalC", "2 000-token stream, reliable, `coalesce` (ours only): total", "ms", "≤ 30"],
  ["tokenFirstU", "2 000-token stream, unreliable: first token", "ms", "≤ 1"],
  ["tokenTotalU", "2 000-token stream, unreliable: total", "ms", "≤ 30"],
  ["setup", "p2p session setup", "ms", "≤ 2 (official earlier: 5.7)"],
  ["idleRss", "idle app process RSS", "MiB", "≤ 70 (official earlier: 77)"],
];

async function main(): Promise<void> {
  const ours: Metrics[] = [];
  const official: Metrics[] = [];
  for (let r = 0; r < REPS; r++) {
    ours.push(await measure("ours"));
    official.push(OURS_ONLY ? {} : await measure("official"));
    process.stderr.write(`[sessions] rep ${r + 1}/${REPS} ours=${JSON.stringify(ours.at(-1))} official=${JSON.stringify(official.at(-1))}\n`);
  }
  const fmt = (v: number, unit: string) => Number.isNaN(v) ? "failed" : (unit === "msgs/s" ? Math.round(v).toLocaleString("en-US").replace(/,/g, " ") : v.toFixed(unit === "MiB" ? 0 : 3));
  const lines = [
    `Last run: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${REPS} repetitions (medians), MLS off, every app in its own process through a node of its own kind.`,
    "",
    "| workload | unit | slim-ts (our apps, our node) | official (apps + node) | ratio | target |",
    "|---|---|---:|---:|---:|---|",
  ];
  for (const [key, label, unit, target] of ROWS) {
    const a = median(ours.map((m) => m[key] ?? NaN));
    const b = median(official.map((m) => m[key] ?? NaN));
    const ratio = Number.isNaN(a) || Number.isNaN(b) ? "—" : `×${(a / b).toFixed(2)}`;
    const oursOnly = OURS_ONLY_ROWS.has(key);
    lines.push(`| ${label} | ${unit} | ${fmt(a, unit)} | ${oursOnly ? "—" : fmt(b, unit)} | ${ratio} | ${target} |`);
  }
  const table = lines.join("\n");
  process.stdout.write(`${table}\n`);
  if (!QUICK && !OURS_ONLY) {
    const file = path.join(ROOT, "BENCHMARKS.md");
    let md = readFileSync(file, "utf8");
    const start = "<!-- bench:sessions:start -->";
    const end = "<!-- bench:sessions:end -->";
    const notes =
      "Notes: idle RSS is a plain-node app on the compiled package with one session open (`bench/idle-app.mjs`);\n" +
      "the other figures are from apps under tsx. Token streams: the median of 3 streams after 10 warm-up streams for our\n" +
      "apps (a JIT to warm: the first 2 000-token streams of a process take 3–4× longer) and after 1 for official apps;\n" +
      "setup: the median of 5 creates after 40 warm-up creates for ours, after 3 for official apps; RTT: after 3 000\n" +
      "warm-up rounds for ours, 100 for official apps; awaited: after a 5 000-message warm-up burst for ours, a tenth of\n" +
      "the run for official apps (their processes slow down with age).\n" +
      "The session path costs about 9 µs of CPU per unreliable message and 22–30 µs per reliable one (both ends and\n" +
      "the datapath, `bench/sessions-inproc.ts`); a third of it is the fresh identity token every message and every ack\n" +
      "carries (HMAC-SHA256, as upstream requires). Why the targets stand open: see \"Where the time goes\" below.";
    const block = `${start}\n\n## Sessions (issue 3)\n\n${table}\n\n${notes}\n\n${end}`;
    md = md.includes(start) ? md.replace(new RegExp(`${start}[\\s\\S]*${end}`), block) : `${md.trimEnd()}\n\n${block}\n`;
    writeFileSync(file, md);
  }
  process.exit(0);
}

await main();
