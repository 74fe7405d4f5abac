// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// MLS benchmarks (issue #4): our apps through our node vs official apps through the
// official node, MLS off and on, in one run. Every app in its own process (ours:
// bench/mls-peer.ts; official: test/helpers/official), a fresh process set for every
// workload, warmed up first; medians over --reps (default 3), repetitions interleaved.
//
//   tsx --conditions=@slim/source bench/mls.ts [--reps N] [--quick] [--write] [--only oneway,rtt,tokens,setup,persist,group8,group32]
//       [--ours] [--mls on|off] [--md FILE] [--tsx] [--trace] [--prof PREFIX [--prof-phase invite|fanout]]
//
// --trace: every stage's duration, our apps' session counters, and (groups) each process's CPU time per
// phase from /proc. --prof PREFIX: CPU profiles of our node and of the moderator / tx / rx / first
// member for their whole life; with --prof-phase, of the moderator and every member during that phase
// of the measured group only.
//
// Our app processes run bench/mls-peer.ts bundled once per run with esbuild (the @slim/source of
// @slim-ts/core, plain node: a group of 32 means 33 app starts, and the tsx loader made each
// take 1-2 s on this machine); --tsx runs them under the tsx loader instead.
//
// --quick: 1 repetition, small counts. --write: replace the bench:mls block of BENCHMARKS.md
// (--md: another file). A workload that fails is recorded as "failed" (stage on stderr); the run goes on.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ChildHandle } from "../test/helpers/official/child.js";
import { DEFAULT_SECRET, freePort, startOfficialApp, startOfficialNode, type OfficialApp } from "../test/helpers/official/index.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const NODE_CLI = path.join(ROOT, "packages/node-embedded/bin/slim-ts-node.mjs");
const TS_NODE_OPTIONS = `--import=${import.meta.resolve("tsx")} --conditions=@slim/source`;
const argv = process.argv.slice(2);
const opt = (flag: string): string | undefined => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
const QUICK = argv.includes("--quick");
const REPS = QUICK ? Number(opt("--reps") ?? 1) || 1 : Number(opt("--reps") ?? 3) || 3;
const WRITE = argv.includes("--write");
const MD_FILE = opt("--md") ?? path.join(ROOT, "BENCHMARKS.md");
const ONLY = opt("--only")?.split(",");
const OURS_ONLY = argv.includes("--ours");
const USE_TSX = argv.includes("--tsx");
/** CPU-profile our moderator / tx / rx / first member: <prefix>-<app>.<pid>.cpuprofile (bench/prof-hook.mjs). */
const PROF = opt("--prof");
/** --prof PREFIX --prof-phase invite|fanout: profile the moderator and every member during that measured phase only (SIGUSR2 on, off). */
const PROF_PHASE = PROF === undefined ? undefined : opt("--prof-phase");
const PROFILED = PROF_PHASE !== undefined ? /\/(mod|m\d+)$/ : /\/(mod|tx|rx|m0)$/;
const PROF_HOOK = path.join(ROOT, "bench/prof-hook.mjs");
/** Every stage's duration on stderr. */
const TRACE = argv.includes("--trace");
const MLS_MODES: boolean[] = opt("--mls") === "on" ? [true] : opt("--mls") === "off" ? [false] : [false, true];

const N = {
  oneway: QUICK ? 5_000 : 20_000,
  officialOneway: QUICK ? 2_000 : 5_000,
  rtt: QUICK ? 300 : 1_000,
  tokens: 2_000,
  /** Measured creates, after setupWarm (official) or setupWarmOurs (ours: a JIT to warm) warm-up creates. */
  setup: QUICK ? 3 : 5,
  setupWarm: QUICK ? 2 : 3,
  setupWarmOurs: QUICK ? 5 : 30,
  /** Token streams: the median of tokenRuns after 1 warm-up stream (official) or tokenWarmOurs (ours). */
  tokenRuns: QUICK ? 1 : 3,
  tokenWarmOurs: QUICK ? 2 : 5,
  probes: QUICK ? 10 : 30,
  fanout: (members: number) => (QUICK ? 200 : members >= 32 ? 500 : 1_000),
};
/** Bounds on every wait (ms). */
const T = { start: 60_000, call: 30_000, listen: 60_000, invite: 30_000, burst: 120_000, sink: 60_000, idle: 8_000 };
const RELIABLE = { maxRetries: 5, intervalMs: 1_000 };

const hrms = (): number => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (text: string) => process.stderr.write(`[mls] ${text}\n`);

// ---------------------------------------------------------------- processes

/** Every process this run started, until it is closed: closed at the end whatever happened. */
const live = new Map<number, () => Promise<void>>();
function track<T extends { pid: number; close(): Promise<void> }>(p: T): T {
  const close = p.close.bind(p);
  live.set(p.pid, close);
  p.close = async () => {
    live.delete(p.pid);
    await close();
  };
  return p;
}
async function closeAll(): Promise<void> {
  await Promise.all([...live.values()].map((c) => c().catch(() => {})));
  live.clear();
}
process.on("exit", () => {
  for (const pid of live.keys()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
});
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => void closeAll().finally(() => process.exit(130)));

interface Node {
  url: string;
  pid: number;
  close(): Promise<void>;
}

async function ourNode(): Promise<Node> {
  const port = await freePort();
  // stdout is read until the end (an unread pipe that fills would block the node); stderr is dropped
  const prof = PROF === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${path.dirname(PROF)}`, `--cpu-prof-name=${path.basename(PROF)}-node.${Date.now()}.cpuprofile`];
  const child: ChildProcess = spawn(process.execPath, [...prof, NODE_CLI, "--listen", `127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "ignore"] });
  const node = track({
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    close: () =>
      new Promise<void>((r) => {
        if (child.exitCode !== null || child.signalCode !== null) return r();
        const t = setTimeout(() => child.kill("SIGKILL"), 2_000);
        child.once("exit", () => (clearTimeout(t), r()));
        child.kill("SIGTERM");
      }),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("our node did not start within 10 s")), 10_000);
      child.once("exit", (code) => reject(new Error(`our node exited (${code})`)));
      child.stdout!.on("data", (b: Buffer) => {
        if (b.toString().includes("listening")) {
          clearTimeout(t);
          resolve();
        }
      });
      child.stdout!.resume();
    });
  } catch (e) {
    await node.close();
    throw e;
  }
  return node;
}

async function officialNode(): Promise<Node> {
  const n = await startOfficialNode();
  return track({ url: n.url, pid: n.pid, close: () => n.close() });
}

interface SinkResult {
  got: number;
  firstAt: number | null;
  lastAt: number | null;
  error: string | null;
  latency: { p50: number | null; max: number | null };
}

/** One app of either kind, with the commands this benchmark needs. */
interface App {
  name: string;
  pid: number;
  createP2P(peer: string, mls: boolean, reliable: boolean): Promise<number>;
  createGroup(channel: string, mls: boolean): Promise<number>;
  listen(kind: "p2p" | "group"): Promise<{ mls: boolean }>;
  invite(name: string): Promise<number>;
  closeSession(): Promise<void>;
  burst(count: number, size: number): Promise<{ sendStart: number }>;
  sink(count: number, timeoutMs: number, idleMs?: number): Promise<SinkResult>;
  echo(count: number): Promise<unknown>;
  rtt(count: number): Promise<{ p50: number | null; p99: number | null }>;
  tokens(rx: App, coalesce?: boolean): Promise<{ first: number; total: number }>;
  close(): Promise<void>;
}

/** How our app processes run: the peer bundled into a temporary directory (default), or under tsx. */
let peer = { script: "../../../bench/mls-peer.ts", nodeOptions: `${TS_NODE_OPTIONS} --expose-gc`, dir: undefined as string | undefined };
async function preparePeer(): Promise<void> {
  if (USE_TSX) return;
  const dir = mkdtempSync(path.join(os.tmpdir(), "slim-ts-mls-bench-"));
  const outfile = path.join(dir, "mls-peer.mjs");
  const esbuild = await import("esbuild");
  try {
    await esbuild.build({
      entryPoints: [path.join(ROOT, "bench/mls-peer.ts")],
      outfile,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      conditions: ["@slim/source"],
      // CommonJS dependencies inside an ES module bundle
      banner: { js: "import { createRequire as __slimBenchRequire } from 'node:module'; const require = __slimBenchRequire(import.meta.url);" },
      logLevel: "error",
    });
  } finally {
    await esbuild.stop();
  }
  peer = { script: outfile, nodeOptions: "--expose-gc", dir };
}

async function ourApp(name: string, url: string, persistDir?: string): Promise<App> {
  const c = new ChildHandle({
    label: `our app ${name}`,
    script: peer.script,
    env: {
      SLIM_PEER_NAME: name,
      SLIM_PEER_URL: url,
      SLIM_PEER_SECRET: DEFAULT_SECRET,
      NODE_OPTIONS: peer.nodeOptions,
      ...(TRACE ? { SLIM_PEER_STATS: "1" } : {}),
      ...(persistDir === undefined ? {} : { SLIM_PEER_PERSIST_DIR: persistDir }),
      ...(PROF !== undefined && PROFILED.test(name) ? { NODE_OPTIONS: `${peer.nodeOptions} --import=${PROF_HOOK}`, SLIM_PROFILE: `${PROF}-${name.split("/").at(-1)}`, ...(PROF_PHASE !== undefined ? { SLIM_PROFILE_SIGNAL: "1", SLIM_PROFILE_INTERVAL_US: "2000" } : {}) } : {}),
    },
  });
  track(c as unknown as { pid: number; close(): Promise<void> });
  await c.ready(T.start);
  const call = <R>(cmd: string, args: object = {}, ms = T.call) => c.call<R>(cmd, args, ms);
  const app: App & { raw: typeof call } = {
    name,
    pid: c.pid,
    raw: call,
    createP2P: async (peer, mls, reliable) => (await call<{ ms: number }>("create", { type: "p2p", peer, mls, reliable })).ms,
    createGroup: async (channel, mls) => (await call<{ ms: number }>("create", { type: "group", channel, mls })).ms,
    listen: (kind) => call("listen", { kind, timeoutMs: T.listen }, T.listen + 5_000),
    invite: async (n) => (await call<{ ms: number }>("invite", { name: n }, T.invite)).ms,
    closeSession: async () => void (await call("close", {}, 10_000)),
    burst: (count, size) => call("burst", { count, size, ackWaitMs: 10_000 }, T.burst),
    sink: (count, timeoutMs, idleMs) => call("sink", { count, timeoutMs, idleMs }, timeoutMs + 5_000),
    echo: (count) => call("echo", { count }, T.burst),
    rtt: (count) => call("rtt", { count, warmup: 200 }, T.burst),
    tokens: async (rx, coalesce) => {
      const receiving = (rx as App & { raw: typeof call }).raw<{ n: number; firstAt: number; lastAt: number }>("streamRecv", {}, T.sink);
      const { sendStart } = await call<{ sendStart: number }>("streamSend", { count: N.tokens, coalesce: coalesce === true }, T.sink);
      const r = await receiving;
      if (r.n !== N.tokens) throw new Error(`stream: ${r.n}/${N.tokens} tokens`);
      return { first: r.firstAt - sendStart, total: r.lastAt - sendStart };
    },
    close: () => c.close(),
  };
  return app;
}

async function officialApp(name: string, url: string): Promise<App> {
  const a: OfficialApp = track(await startOfficialApp({ name, url }));
  const routed = new Set<string>();
  const route = async (peer: string) => {
    if (!routed.has(peer)) await a.route(peer, { timeoutMs: T.call });
    routed.add(peer);
    return 0;
  };
  const app: App = {
    name,
    pid: a.pid,
    createP2P: async (peer, mls, reliable) => {
      await route(peer);
      return (await a.create({ type: "p2p", peer, mls, ...(reliable ? RELIABLE : {}) }, { timeoutMs: T.call })).ms;
    },
    createGroup: async (channel, mls) => (await a.create({ type: "group", channel, mls, ...RELIABLE }, { timeoutMs: T.call })).ms,
    listen: async () => ({ mls: (await a.listen({ timeoutMs: T.listen })).mls }),
    // as shared/bench: setRoute + inviteAndWait, both timed in the moderator's process
    invite: async (n) => {
      const r = routed.has(n) ? 0 : (await a.route(n, { timeoutMs: T.call })).ms;
      routed.add(n);
      return r + (await a.invite(n, {}, { timeoutMs: T.invite })).ms;
    },
    closeSession: async () => void (await a.closeSession({}, { timeoutMs: 10_000 })),
    burst: (count, size) => a.burst({ count, size, mode: "pipelined" }, { timeoutMs: T.burst }),
    sink: async (count, timeoutMs, idleMs) => {
      const s = await a.sink({ count, timeoutMs, ...(idleMs === undefined ? {} : { idleMs }) }, { timeoutMs: timeoutMs + 5_000 });
      return { got: s.got, firstAt: s.firstAt, lastAt: s.lastAt, error: s.error, latency: s.latency };
    },
    echo: (count) => a.echo({ count, timeoutMs: 30_000 }),
    rtt: async (count) => {
      const r = await a.rtt({ count, warmup: 100, size: 64, timeoutMs: 5_000 }, { timeoutMs: T.burst });
      if (r.error !== null) throw new Error(`rtt: ${r.error}`);
      return r.rtt;
    },
    tokens: async (rx) => {
      const sinking = rx.sink(N.tokens, 30_000, T.idle);
      const b = await a.burst({ count: N.tokens, size: 8, mode: "pipelined" }, { timeoutMs: T.sink });
      const s = await sinking;
      if (s.got !== N.tokens || s.firstAt === null || s.lastAt === null) throw new Error(`tokens: ${s.got}/${N.tokens}`);
      return { first: s.firstAt - b.sendStart, total: s.lastAt - b.sendStart };
    },
    close: () => a.close(),
  };
  return app;
}

type Kind = "ours" | "official";
const mkNode = (kind: Kind) => (kind === "ours" ? ourNode() : officialNode());

/** Start `count` apps, a few at a time (2 cores: dozens of starts at once only slow each other). */
async function startMany(kind: Kind, url: string, names: string[], parallel = 4, persistDir?: string): Promise<App[]> {
  const out: App[] = new Array(names.length);
  let nextIdx = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, names.length) }, async () => {
      while (nextIdx < names.length) {
        const i = nextIdx++;
        out[i] = kind === "ours" ? await ourApp(names[i]!, url, persistDir) : await officialApp(names[i]!, url);
      }
    }),
  );
  return out;
}

/** Close apps and node of one process set (every close bounded: SIGKILL after 2 s). */
async function closeSet(apps: Array<App | undefined>, node: Node | undefined): Promise<void> {
  await Promise.all(apps.map((a) => a?.close().catch(() => {})));
  await node?.close().catch(() => {});
}

// ---------------------------------------------------------------- workloads

type Metrics = Record<string, number>;
/** What went wrong without failing a workload (a group close that hung), for the summary. */
const NOTES_OF_RUN: string[] = [];
class StageError extends Error {
  constructor(
    readonly stage: string,
    cause: unknown,
  ) {
    super(String((cause as Error)?.message ?? cause).split("\n")[0]);
  }
}
/** Run `body` labelled as `stage`: a failure says which stage it was. */
async function at<R>(stage: string, body: () => Promise<R>): Promise<R> {
  const t = hrms();
  try {
    const r = await body();
    if (TRACE) log(`  ${stage}: ${(hrms() - t).toFixed(1)} ms`);
    return r;
  } catch (e) {
    throw e instanceof StageError ? e : new StageError(stage, e);
  }
}

const median = (xs: number[]) => {
  const ok = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return ok.length === 0 ? NaN : ok[Math.floor(ok.length / 2)]!;
};

/** --trace: CPU time (ms) of the node, the moderator and the members, from /proc (Linux). */
function cpuTicks(node: number, mod: number, members: number[]): { node: number; mod: number; members: number[] } {
  const ms = (pid: number) => {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, 100 ticks/s
    } catch {
      return NaN;
    }
  };
  return { node: ms(node), mod: ms(mod), members: members.map(ms) };
}
function logCpu(label: string, a: ReturnType<typeof cpuTicks>, b: ReturnType<typeof cpuTicks>): void {
  const m = b.members.map((x, i) => x - a.members[i]!);
  const sum = m.reduce((x, y) => x + y, 0);
  log(`  ${label} CPU ms: node ${b.node - a.node}, moderator ${b.mod - a.mod}, members ${sum} (first ${m.slice(0, 4).join("/")}, last ${m.slice(-4).join("/")})`);
}

/** --trace: one of our apps' session counters (bench/mls-peer.ts `stats`), numbers rounded. */
async function logStats(label: string, app: App): Promise<void> {
  const stats = await (app as App & { raw: (c: string, a?: object, ms?: number) => Promise<unknown> }).raw("stats", {}, 10_000).catch((e: Error) => `stats: ${e.message.split("\n")[0]}`);
  log(`  ${label}: ${JSON.stringify(stats, (_k, v) => (typeof v === "number" ? Math.round(v) : v))}`);
}

/**
 * A fresh p2p pair (node, rx listening, tx with a session to rx), `body`, then every process closed.
 * `persist` (ours): both apps keep their sessions in a store (createApp persistence) under a temporary directory.
 */
async function p2p<R>(kind: Kind, mls: boolean, reliable: boolean, body: (tx: App, rx: App) => Promise<R>, persist = false): Promise<R> {
  let node: Node | undefined;
  const apps: App[] = [];
  const store = persist ? mkdtempSync(path.join(os.tmpdir(), "slim-ts-bench-store-")) : undefined;
  try {
    node = await at("start node", () => mkNode(kind));
    const [rx, tx] = await at("start apps", () => startMany(kind, node!.url, ["bench/mls/rx", "bench/mls/tx"], 2, store));
    apps.push(rx!, tx!);
    await at("session", async () => {
      const listening = rx!.listen("p2p");
      await tx!.createP2P("bench/mls/rx", mls, reliable);
      const got = await listening;
      if (got.mls !== mls) throw new Error(`accepted session has mls=${got.mls}`);
    });
    const out = await body(tx!, rx!);
    if (TRACE && kind === "ours") {
      await logStats("tx", tx!);
      await logStats("rx", rx!);
    }
    return out;
  } finally {
    await closeSet(apps, node);
    if (store !== undefined) rmSync(store, { recursive: true, force: true });
  }
}

async function warmOneway(tx: App, rx: App, n: number): Promise<void> {
  const sinking = rx.sink(n, T.sink, T.idle);
  await tx.burst(n, 64);
  const s = await sinking;
  if (s.got !== n) throw new Error(`warm-up: ${s.got}/${n}`);
}

const WORKLOADS: Record<string, (kind: Kind, mls: boolean, m: Metrics) => Promise<void>> = {
  async oneway(kind, mls, m) {
    const n = kind === "ours" ? N.oneway : N.officialOneway;
    m.oneway = await p2p(kind, mls, false, async (tx, rx) => {
      await at("warm-up", () => warmOneway(tx, rx, Math.round(n / 10)));
      return at("burst", async () => {
        const sinking = rx.sink(n, T.sink, T.idle);
        const b = await tx.burst(n, 64);
        const s = await sinking;
        if (s.got !== n || s.lastAt === null) throw new Error(`${s.got}/${n} received (${s.error ?? "?"})`);
        return (s.got / (s.lastAt - b.sendStart)) * 1000;
      });
    });
  },
  async rtt(kind, mls, m) {
    await p2p(kind, mls, false, async (tx, rx) => {
      await at("warm-up", () => warmOneway(tx, rx, 500));
      const r = await at("rtt", async () => {
        const echoing = rx.echo(N.rtt + (kind === "ours" ? 200 : 100));
        const r = await tx.rtt(N.rtt);
        await echoing.catch(() => {});
        return r;
      });
      m.rttP50 = r.p50 ?? NaN;
      m.rttP99 = r.p99 ?? NaN;
    });
  },
  async tokens(kind, mls, m) {
    await p2p(kind, mls, true, async (tx, rx) => {
      // ours have a JIT to warm (as in bench/sessions.ts); official apps get one warm-up stream
      for (let i = 0; i < (kind === "ours" ? N.tokenWarmOurs : 1); i++) await at(`warm-up stream #${i + 1}`, () => tx.tokens(rx));
      const runs: Array<{ first: number; total: number }> = [];
      for (let i = 0; i < N.tokenRuns; i++) runs.push(await at(`stream #${i + 1}`, () => tx.tokens(rx)));
      m.tokenFirst = median(runs.map((r) => r.first));
      m.tokenTotal = median(runs.map((r) => r.total));
      // ours only: a SessionMux stream with `coalesce` (official apps have no such mode)
      if (kind === "ours") {
        for (let i = 0; i < N.tokenWarmOurs; i++) await at(`warm-up coalesced stream #${i + 1}`, () => tx.tokens(rx, true));
        const coalesced: Array<{ first: number; total: number }> = [];
        for (let i = 0; i < N.tokenRuns; i++) coalesced.push(await at(`coalesced stream #${i + 1}`, () => tx.tokens(rx, true)));
        m.tokenFirstC = median(coalesced.map((r) => r.first));
        m.tokenTotalC = median(coalesced.map((r) => r.total));
      }
    });
  },
  async setup(kind, mls, m) {
    m.setup = await p2p(kind, mls, true, async (tx) => {
      const t: number[] = [];
      const warm = kind === "ours" ? N.setupWarmOurs : N.setupWarm;
      for (let i = 0; i < warm + N.setup; i++) t.push(await at(`create #${i + 1}`, () => tx.createP2P("bench/mls/rx", mls, true)));
      return median(t.slice(warm));
    });
  },
  /** Ours only: one-way and RTT with both apps saving their sessions (persistence; official apps are not measured so). */
  async persist(kind, mls, m) {
    if (kind !== "ours") return;
    await p2p(
      kind,
      mls,
      false,
      async (tx, rx) => {
        await at("warm-up", () => warmOneway(tx, rx, Math.round(N.oneway / 10)));
        m.persistOneway = await at("burst", async () => {
          const sinking = rx.sink(N.oneway, T.sink, T.idle);
          const b = await tx.burst(N.oneway, 64);
          const s = await sinking;
          if (s.got !== N.oneway || s.lastAt === null) throw new Error(`${s.got}/${N.oneway} received (${s.error ?? "?"})`);
          return (s.got / (s.lastAt - b.sendStart)) * 1000;
        });
        const r = await at("rtt", async () => {
          const echoing = rx.echo(N.rtt + 200);
          const r = await tx.rtt(N.rtt);
          await echoing.catch(() => {});
          return r;
        });
        m.persistRttP50 = r.p50 ?? NaN;
      },
      true,
    );
  },
  group8: (kind, mls, m) => group(kind, mls, 8, m),
  group32: (kind, mls, m) => group(kind, mls, 32, m),
};

/**
 * A moderator and `size` members, each in its own process, through one node. A warm-up
 * round (create, invite all, a few probes, a small fan-out, close), then the measured one:
 * invite everyone (sequentially, time in the moderator's process), broadcast probes one at a
 * time (reach-all = the last member's receipt minus the probe's send time), and fan-out
 * (the moderator bursts, every member counts; deliveries / (last receipt - first send)).
 */
async function group(kind: Kind, mls: boolean, size: number, m: Metrics): Promise<void> {
  let node: Node | undefined;
  let mod: App | undefined;
  let members: App[] = [];
  const t0 = hrms();
  try {
    node = await at("start node", () => mkNode(kind));
    const names = Array.from({ length: size }, (_, i) => `bench/mls/m${i}`);
    [mod, ...members] = await at("start apps", () => startMany(kind, node!.url, ["bench/mls/mod", ...names]));
    log(`${kind} group ${size} mls=${mls ? "on" : "off"}: ${size + 2} processes up in ${((hrms() - t0) / 1000).toFixed(1)} s`);
    const k = `g${size}`;
    // each figure is kept as soon as its stage completed: a later stage failing does not take it away
    const round = async (warm: boolean) => {
      const tag = warm ? "warm-up " : "";
      const keep = (key: string, v: number) => {
        if (!warm) m[`${k}${key}`] = v;
      };
      const profiled = PROF_PHASE !== undefined && !warm ? [mod!.pid, ...members.map((a) => a.pid)] : [];
      const toggleProfiles = (phase: string) => {
        if (phase === PROF_PHASE) for (const pid of profiled) process.kill(pid, "SIGUSR2");
      };
      toggleProfiles("invite");
      const cpu0 = TRACE ? cpuTicks(node!.pid, mod!.pid, members.map((a) => a.pid)) : undefined;
      const invite = await at(`${tag}create + invite`, async () => {
        const listening = members.map((a) => a.listen("group"));
        // a member whose listen fails (timeout) must not leave an unhandled rejection behind
        for (const l of listening) l.catch(() => {});
        await mod!.createGroup(`bench/mls/${warm ? "warm" : "room"}`, mls);
        let total = 0;
        for (const a of members) total += await at(`${tag}invite ${a.name}`, () => mod!.invite(a.name));
        const accepted = await Promise.all(listening);
        if (accepted.some((x) => x.mls !== mls)) throw new Error("a member's session has the wrong MLS setting");
        return total;
      });
      keep("invite", invite);
      toggleProfiles("invite");
      if (cpu0 !== undefined) logCpu(`${tag}invite`, cpu0, cpuTicks(node!.pid, mod!.pid, members.map((a) => a.pid)));
      // probes one at a time: every member's sink armed, then one message
      const reach: number[] = [];
      await at(`${tag}reach-all probes`, async () => {
        for (let i = 0; i < (warm ? 3 : N.probes); i++) {
          const sinks = members.map((a) => a.sink(1, 10_000));
          await sleep(25);
          await mod!.burst(1, 64);
          const r = await Promise.all(sinks);
          const missing = r.filter((s) => s.got !== 1).length;
          if (missing > 0) throw new Error(`probe ${i}: ${missing}/${size} members got nothing (${r.find((s) => s.got !== 1)?.error})`);
          reach.push(Math.max(...r.map((s) => s.latency.p50 ?? NaN)));
        }
      });
      const sorted = [...reach].sort((a, b) => a - b);
      keep("reach", median(reach));
      keep("reachP99", sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)] ?? NaN);
      const count = warm ? Math.round(N.fanout(size) / 10) : N.fanout(size);
      const fanout = await at(`${tag}fan-out`, async () => {
        // bounded well below T.sink: a stack that cannot deliver this in 30 s has failed the workload
        const sinks = members.map((a) => a.sink(count, 30_000, T.idle));
        await sleep(25);
        const cpu0 = TRACE ? cpuTicks(node!.pid, mod!.pid, members.map((a) => a.pid)) : undefined;
        toggleProfiles("fanout");
        const b = await mod!.burst(count, 64);
        const r = await Promise.all(sinks);
        toggleProfiles("fanout");
        if (cpu0 !== undefined) logCpu(`${tag}fan-out`, cpu0, cpuTicks(node!.pid, mod!.pid, members.map((a) => a.pid)));
        const bb = b as { settled?: boolean; errors?: number; firstError?: string | null; settledAt?: number };
        if (!warm && (bb.settled === false || (bb.errors ?? 0) > 0)) log(`${kind} group ${size} mls=${mls ? "on" : "off"} fan-out: publishes settled=${bb.settled} errors=${bb.errors} ${bb.firstError ?? ""}`);
        const got = r.reduce((x, s) => x + s.got, 0);
        if (got !== count * size) throw new Error(`${got}/${count * size} deliveries (${r.find((s) => s.got !== count)?.error})`);
        const last = Math.max(...r.map((s) => s.lastAt ?? NaN));
        if (TRACE && kind === "ours") {
          await logStats(`${tag}fan-out moderator`, mod!);
          await logStats(`${tag}fan-out member 0`, members[0]!);
          log(`  ${tag}fan-out: last receipt ${(last - b.sendStart).toFixed(0)} ms after the first send; burst call returned after ${(hrms() - b.sendStart).toFixed(0)} ms`);
        }
        return (got / (last - b.sendStart)) * 1000;
      });
      keep("fanout", fanout);
    };
    // the group ends with a close; one that fails or hangs is reported, and the measurements stand
    const close = async (tag: string) => {
      const t = hrms();
      try {
        await mod!.closeSession();
      } catch (e) {
        const text = `${kind} group ${size} mls=${mls ? "on" : "off"}: ${tag}close failed after ${((hrms() - t) / 1000).toFixed(1)} s: ${String((e as Error)?.message ?? e).split("\n")[0]}`;
        NOTES_OF_RUN.push(text);
        log(text);
      }
    };
    await round(true);
    await close("warm-up ");
    await round(false);
    await close("");
  } finally {
    await closeSet([mod, ...members], node);
  }
}

// ---------------------------------------------------------------- table

const ROWS: Array<[key: string, label: string, unit: string, target: string, lowerIsBetter: boolean, goal?: number]> = [
  ["oneway", "p2p one-way 64 B, pipelined", "msgs/s", "≥ 10 000 (official 3 500)", false, 10_000],
  ["rttP50", "p2p RTT p50, 64 B", "ms", "", true],
  ["rttP99", "p2p RTT p99, 64 B", "ms", "", true],
  ["tokenFirst", "2 000-token stream (reliable): first token", "ms", "", true],
  ["tokenTotal", "2 000-token stream (reliable): total", "ms", "≤ 150 (official 580)", true, 150],
  ["tokenFirstC", "2 000-token stream (reliable, `coalesce`, ours only): first token", "ms", "", true],
  ["tokenTotalC", "2 000-token stream (reliable, `coalesce`, ours only): total", "ms", "≤ 150", true, 150],
  ["setup", "p2p session setup (create → ready)", "ms", "≤ 6 (official 8.9)", true, 6],
  ["persistOneway", "p2p one-way 64 B, sessions saved (persistence, ours only)", "msgs/s", "", false],
  ["persistRttP50", "p2p RTT p50, sessions saved (persistence, ours only)", "ms", "", true],
  ["g8invite", "group of 8: invite all", "ms", "", true],
  ["g8reach", "group of 8: broadcast reach-all p50", "ms", "", true],
  ["g8fanout", "group of 8: fan-out", "deliveries/s", "", false],
  ["g32invite", "group of 32: invite all", "ms", "≤ 500 (official 850)", true, 500],
  ["g32reach", "group of 32: broadcast reach-all p50", "ms", "≤ 7 (official 14)", true, 7],
  ["g32reachP99", "group of 32: broadcast reach-all p99", "ms", "", true],
  ["g32fanout", "group of 32: fan-out", "deliveries/s", "≥ 12 000 (official 5 900)", false, 12_000],
];
/** Rows of a mode official apps do not have or are not measured in (SessionMux `coalesce`, persistence). */
const OURS_ONLY_ROWS = new Set(["tokenFirstC", "tokenTotalC", "persistOneway", "persistRttP50"]);
const WORKLOAD_OF: Record<string, string> = {
  oneway: "oneway", rttP50: "rtt", rttP99: "rtt", tokenFirst: "tokens", tokenTotal: "tokens", tokenFirstC: "tokens", tokenTotalC: "tokens", setup: "setup", persistOneway: "persist", persistRttP50: "persist",
  g8invite: "group8", g8reach: "group8", g8fanout: "group8", g32invite: "group32", g32reach: "group32", g32reachP99: "group32", g32fanout: "group32",
};

const fmt = (v: number, unit: string) =>
  Number.isNaN(v) ? "failed" : unit === "ms" ? (v >= 100 ? v.toFixed(0) : v.toFixed(v >= 10 ? 1 : 2)) : Math.round(v).toLocaleString("en-US").replace(/,/g, " ");

type Cell = { kind: Kind; mls: boolean };
const CELLS: Cell[] = (["ours", "official"] as Kind[]).filter((k) => !OURS_ONLY || k === "ours").flatMap((kind) => MLS_MODES.map((mls) => ({ kind, mls })));
const cellKey = (c: Cell) => `${c.kind}/${c.mls ? "on" : "off"}`;

function table(results: Map<string, Metrics[]>, seconds: number, load: string): string {
  const med = (c: Cell, key: string) => median((results.get(cellKey(c)) ?? []).map((m) => m[key] ?? NaN));
  /** The median, and how many repetitions it comes from when some failed. */
  const cell = (c: Cell, key: string, unit: string) => {
    const xs = (results.get(cellKey(c)) ?? []).map((m) => m[key] ?? NaN);
    const ok = xs.filter(Number.isFinite).length;
    return `${fmt(median(xs), unit)}${ok > 0 && ok < xs.length ? ` (${ok}/${xs.length})` : ""}`;
  };
  const ran = (key: string) => ONLY === undefined || ONLY.includes(WORKLOAD_OF[key]!);
  const cols = CELLS.map((c) => `${c.kind === "ours" ? "slim-ts" : "official"}, MLS ${c.mls ? "on" : "off"}`);
  const lines = [
    `Last run: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${REPS} repetition${REPS === 1 ? "" : "s"} (medians)${QUICK ? ", quick counts" : ""}, ${Math.round(seconds)} s, Node ${process.version}, ${os.cpus().length} CPUs, load1 at start ${load}.`,
    "",
    `| workload | unit | ${cols.join(" | ")} | ours / official, MLS on | target (ours, MLS on) | |`,
    `|---|---|${cols.map(() => "---:|").join("")}---:|---|---|`,
  ];
  for (const [key, label, unit, target, lower, goal] of ROWS) {
    if (!ran(key)) continue;
    const on = (kind: Kind) => med({ kind, mls: true }, key);
    const a = on("ours");
    const b = on("official");
    const ratio = Number.isNaN(a) || Number.isNaN(b) ? "—" : `×${(a / b).toFixed(2)}`;
    const verdict = goal === undefined || Number.isNaN(a) ? "" : (lower ? a <= goal : a >= goal) ? "met" : "**missed**";
    const oursOnly = OURS_ONLY_ROWS.has(key);
    lines.push(`| ${label} | ${unit} | ${CELLS.map((c) => (oursOnly && c.kind === "official" ? "—" : cell(c, key, unit))).join(" | ")} | ${ratio} | ${target} | ${verdict} |`);
  }
  return lines.join("\n");
}

const notes = (problems: string[]): string =>
  [
    "Method: every app in its own process, through a node of its own kind (ours: `bench/mls-peer.ts` bundled from source, plain",
    "node, and the `slim-ts-node` CLI; official: `test/helpers/official`), loopback TCP; a fresh process set per workload (per group size for",
    "groups), warmed up first. MLS on = header integrity 100 %. One-way and RTT use a fire-and-forget p2p session (one-way:",
    "received / (last receipt − first send)); token streams and setup the reliable config (1 000 ms, 5 retries; ours: SessionMux",
    `\`sendStream\`, official: pipelined 8 B publishes), the median of ${N.tokenRuns} streams after ${N.tokenWarmOurs} warm-up streams (official: 1); setup = median of ${N.setup} creates to the same peer after ${N.setupWarmOurs} warm-up creates (official: ${N.setupWarm}); ours warm longer, having a JIT to warm. Our app processes call \`prepareMls()\` at start. Groups (always reliable):`,
    "moderator + N members, a warm-up group first; invite all = sum of the sequential invites timed in the moderator's process",
    "(official: setRoute + inviteAndWait); reach-all = one 64 B probe at a time to armed members, last member's receipt − the",
    `probe's CLOCK_MONOTONIC send time (${N.probes} probes); fan-out = the moderator bursts ${N.fanout(8)} (N = 8) / ${N.fanout(32)} (N = 32) messages,`,
    "deliveries / (last receipt − first send). (k/n) after a figure: only k of the n repetitions completed (the others failed, see below).",
    ...(problems.length === 0 ? [] : ["", "Problems in this run:", ...problems.map((p) => `- ${p}`)]),
  ].join("\n");

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const started = hrms();
  const load = os.loadavg()[0]!.toFixed(2);
  if (CELLS.some((c) => c.kind === "ours")) await preparePeer();
  const results = new Map<string, Metrics[]>(CELLS.map((c) => [cellKey(c), []]));
  const failures: string[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const ms = new Map<string, Metrics>(CELLS.map((c) => [cellKey(c), {}]));
    for (const [name, run] of Object.entries(WORKLOADS)) {
      if (ONLY !== undefined && !ONLY.includes(name)) continue;
      for (const c of CELLS) {
        const t = hrms();
        const m = ms.get(cellKey(c))!;
        const before = new Set(Object.keys(m));
        const mine = () => JSON.stringify(Object.fromEntries(Object.entries(m).filter(([k]) => !before.has(k)).map(([k, v]) => [k, Math.round(v * 1000) / 1000])));
        try {
          await run(c.kind, c.mls, m);
          log(`rep ${rep + 1}/${REPS} ${name} ${cellKey(c)}: ${mine()} (${((hrms() - t) / 1000).toFixed(1)} s)`);
        } catch (e) {
          const stage = e instanceof StageError ? e.stage : "?";
          const kept = mine();
          const text = `rep ${rep + 1} ${name} ${cellKey(c)} FAILED at "${stage}": ${String((e as Error)?.message ?? e).split("\n")[0]}${kept === "{}" ? "" : ` (kept from earlier stages: ${kept})`}`;
          failures.push(text);
          log(text);
        } finally {
          await closeAll(); // nothing of this workload survives into the next one
        }
      }
    }
    for (const c of CELLS) results.get(cellKey(c))!.push(ms.get(cellKey(c))!);
  }
  const seconds = (hrms() - started) / 1000;
  const out = table(results, seconds, load);
  process.stdout.write(`${out}\n`);
  if (failures.length > 0) process.stderr.write(`[mls] ${failures.length} failed workload(s):\n${failures.map((f) => `  ${f}`).join("\n")}\n`);
  if (NOTES_OF_RUN.length > 0) process.stderr.write(`[mls] notes:\n${NOTES_OF_RUN.map((f) => `  ${f}`).join("\n")}\n`);
  if (WRITE) {
    const start = "<!-- bench:mls:start -->";
    const end = "<!-- bench:mls:end -->";
    const block = `${start}\n\n## MLS (issue 4)\n\n${out}\n\n${notes([...failures, ...NOTES_OF_RUN])}\n\n${end}`;
    const md = existsSync(MD_FILE) ? readFileSync(MD_FILE, "utf8") : "";
    const i = md.indexOf(start);
    const j = md.indexOf(end);
    const next = i >= 0 && j > i ? md.slice(0, i) + block + md.slice(j + end.length) : `${md.trimEnd()}\n\n${block}\n`;
    writeFileSync(MD_FILE, next);
    log(`wrote the bench:mls block of ${MD_FILE}`);
  }
}

try {
  await main();
} catch (e) {
  log(`run failed: ${String((e as Error)?.stack ?? e)}`);
  process.exitCode = 1;
} finally {
  await closeAll();
  if (peer.dir !== undefined) rmSync(peer.dir, { recursive: true, force: true });
}
process.exit(process.exitCode ?? 0);
