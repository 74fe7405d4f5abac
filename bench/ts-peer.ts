// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Child program: ONE slim-ts client (its own MessageProcessor + a DialedLink to a node + an
// Endpoint), driven over IPC by bench/run.ts, the counterpart of the official harness's
// official-app.mjs. Start it with child_process.fork (IPC channel) under tsx:
//
//   SLIM_PEER_NAME=org/ns/alice SLIM_PEER_URL=http://127.0.0.1:46357 \
//     node --import tsx --conditions=@slim/source bench/ts-peer.ts
//
// Protocol (the one of test/helpers/official/child-common.mjs): parent -> child {id, cmd, args},
// child -> parent {id, ok: true, result} | {id, ok: false, error}; first {ready: true, name,
// connId} or {ready: false, error}. The child exits when the IPC channel closes.
//
// Commands (method of test/helpers/official/official-work.mjs, so figures compare 1:1):
//   route {name}                     ep.route(name, link)  (name = the peer's full name, with id)
//   sink  {count, timeoutMs, idleMs} count probes; -> SinkResult (firstAt/lastAt CLOCK_MONOTONIC ms)
//   echo  {count, timeoutMs, idleMs} reply "echo:" + payload to each message's source
//   burst {count, size, yieldEvery, maxQueued, maxBufferedBytes}  pipelined probes; -> BurstResult
//   rtt   {count, size, warmup, timeoutMs}      ping-pong against a peer running echo
//   stats {}                         link / processor counters
//   exit  {}
// Probe = [f64 LE send time, ms of CLOCK_MONOTONIC][u32 LE seq], zero-padded to `size` (min 12 B).

import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import type { Duplex } from "node:stream";
import { Endpoint, Name } from "@slim-ts/core";
import { DialedLink, MessageProcessor, fromProtoName, type proto } from "@slim-ts/core/internal";

/** Monotonic ms (CLOCK_MONOTONIC via hrtime), comparable across processes on one host. */
const hrms = (): number => Number(process.hrtime.bigint()) / 1e6;

const utf8 = new TextEncoder();
const ECHO_PREFIX = utf8.encode("echo:");

type Msg = proto.ProtoMessage;

// ---------------------------------------------------------------- helpers

function blobOf(m: Msg): Uint8Array | undefined {
  if (m.messageType.case !== "publish") return undefined;
  const c = m.messageType.value.msg?.contentType;
  return c?.case === "appPayload" ? c.value.blob : undefined;
}

function makeProbe(size: number, seq: number): Uint8Array {
  const b = new Uint8Array(Math.max(size, 12));
  const v = new DataView(b.buffer);
  v.setFloat64(0, hrms(), true);
  v.setUint32(8, seq, true);
  return b;
}

function readProbe(b: Uint8Array): { ts: number; seq: number } | undefined {
  if (b.byteLength < 12) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { ts: v.getFloat64(0, true), seq: v.getUint32(8, true) };
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

function summarize(values: number[]) {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  const n = s.length;
  return {
    n,
    min: n ? s[0]! : null,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: n ? s[n - 1]! : null,
    mean: n ? s.reduce((a, b) => a + b, 0) / n : null,
  };
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const immediate = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves on the stream's next 'drain' (or when it closes, or after 5 s as a safety net). */
function drained(s: Duplex): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      s.off("drain", done);
      s.off("close", done);
      resolve();
    };
    const timer = setTimeout(done, 5_000);
    s.once("drain", done);
    s.once("close", done);
  });
}

// ---------------------------------------------------------------- the client

const appName = process.env.SLIM_PEER_NAME;
const url = process.env.SLIM_PEER_URL;

if (!process.send) {
  process.stderr.write("ts-peer must be started with child_process.fork (IPC channel)\n");
  process.exit(2);
}

// SLIM_PEER_CPU_PROF=<file>: V8 CPU profile of this process, written when it is told to stop
// (--cpu-prof cannot be passed through NODE_OPTIONS, and the harness forks with no execArgv).
const profFile = process.env.SLIM_PEER_CPU_PROF;
const profiler = profFile ? new Session() : undefined;
if (profiler !== undefined) {
  profiler.connect();
  profiler.post("Profiler.enable");
  profiler.post("Profiler.setSamplingInterval", { interval: 500 });
  profiler.post("Profiler.start");
}
let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  if (profiler === undefined || profFile === undefined) process.exit(0);
  profiler.post("Profiler.stop", (err, res) => {
    if (!err) writeFileSync(profFile, JSON.stringify(res.profile));
    process.exit(0);
  });
}
process.on("disconnect", stop);
for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, stop);

function send(msg: object): void {
  if (process.connected) process.send!(msg);
}

/**
 * One long-lived reader of the endpoint's inbox: waits with `for await` for the next message,
 * then takes whatever else is buffered with drain() (a batch consumer, as the Endpoint docs
 * suggest). Each message goes to the current handler; with none installed it is kept, with its
 * arrival time, for the next one (as a session's receive queue would keep it).
 */
class Inbox {
  private handler: ((m: Msg, now: number) => void) | undefined;
  private backlog: Array<[Msg, number]> = [];

  constructor(ep: Endpoint) {
    void (async () => {
      for await (const m of ep.messages()) {
        this.dispatch(m);
        for (const x of ep.drain()) this.dispatch(x);
      }
    })();
  }

  get pending(): number {
    return this.backlog.length;
  }

  private dispatch(m: Msg): void {
    if (m.messageType.case !== "publish") return;
    const h = this.handler;
    if (h === undefined) this.backlog.push([m, hrms()]);
    else h(m, hrms());
  }

  /**
   * Run `onMessage` on every message (first the kept ones) until it returns true, the deadline
   * passes, or no message arrives for `idleMs`. Resolves with an error text or null.
   */
  collect(onMessage: (m: Msg, now: number) => boolean, timeoutMs: number, idleMs = timeoutMs): Promise<string | null> {
    return new Promise((resolve) => {
      const deadline = hrms() + timeoutMs;
      let last = hrms();
      let timer: NodeJS.Timeout | undefined;
      const finish = (err: string | null) => {
        clearInterval(timer);
        this.handler = undefined;
        resolve(err);
      };
      const kept = this.backlog;
      this.backlog = [];
      for (let i = 0; i < kept.length; i++) {
        const [m, at] = kept[i]!;
        last = at;
        if (onMessage(m, at)) {
          this.backlog = kept.slice(i + 1);
          return finish(null);
        }
      }
      last = hrms();
      timer = setInterval(() => {
        const now = hrms();
        if (now >= deadline) finish("deadline reached");
        else if (now - last >= idleMs) finish(`idle for ${idleMs} ms`);
      }, 20);
      this.handler = (m, now) => {
        last = now;
        if (onMessage(m, now)) finish(null);
      };
    });
  }
}

async function main(): Promise<void> {
  if (!appName || !url) throw new Error("SLIM_PEER_NAME and SLIM_PEER_URL are required");
  const t0 = hrms();
  const processor = new MessageProcessor();
  const link = await DialedLink.connect(processor, url);
  const id = randomBytes(16).reduce((a, b) => (a << 8n) | BigInt(b), 0n) >> 8n;
  // A sink must not drop: the official receive queue is unbounded, so let ours hold a full burst.
  const ep = new Endpoint(processor, { name: Name.parse(appName).withId(id), maxPending: 1 << 21 });
  await ep.subscribe(ep.name, { via: link.id });
  const inbox = new Inbox(ep);
  // The gRPC call stream of the link (private field; bench-only look at its write queue).
  const stream = (): Duplex | undefined => (link.link as unknown as { stream?: Duplex }).stream;
  let peer: Name | undefined;
  const replyNames = new Map<string, Name>();

  const handlers: Record<string, (args: Record<string, unknown>) => Promise<unknown>> = {
    async route(args) {
      const t = hrms();
      peer = Name.parse(String(args.name));
      await ep.route(peer, link.id);
      return { ms: hrms() - t };
    },

    async sink(args) {
      const count = Number(args.count);
      const timeoutMs = Number(args.timeoutMs ?? 30_000);
      const idleMs = args.idleMs === undefined ? timeoutMs : Number(args.idleMs);
      const seen = new Uint8Array(count);
      const latency: number[] = [];
      let got = 0, dup = 0, bytes = 0;
      let firstAt: number | null = null, lastAt: number | null = null;
      const error = await inbox.collect((m, now) => {
        const b = blobOf(m);
        if (b === undefined) return false;
        firstAt ??= now;
        lastAt = now;
        bytes += b.byteLength;
        got++;
        const p = readProbe(b);
        if (p !== undefined) {
          latency.push(now - p.ts);
          if (p.seq < count) {
            if (seen[p.seq]) dup++;
            seen[p.seq] = 1;
          }
        }
        return got >= count;
      }, timeoutMs, idleMs);
      const unique = seen.reduce((a, b) => a + b, 0);
      return { got, unique, dup, bytes, firstAt, lastAt, error, latency: summarize(latency) };
    },

    async echo(args) {
      const count = Number(args.count ?? 1);
      const timeoutMs = Number(args.timeoutMs ?? 10_000);
      const idleMs = args.idleMs === undefined ? timeoutMs : Number(args.idleMs);
      let echoed = 0;
      const error = await inbox.collect((m) => {
        const b = blobOf(m);
        const src = m.messageType.case === "publish" ? m.messageType.value.header?.source : undefined;
        if (b === undefined || src === undefined) return false;
        // Reply to the message's source (publishTo); one Name per source so its wire form is cached.
        const key = `${src.name?.component2}:${src.name?.nameId?.id0}:${src.name?.nameId?.id1}`;
        let to = replyNames.get(key);
        if (to === undefined) {
          to = fromProtoName(src);
          if (to === undefined) return false;
          replyNames.set(key, to);
        }
        const body = new Uint8Array(ECHO_PREFIX.length + b.byteLength);
        body.set(ECHO_PREFIX, 0);
        body.set(b, ECHO_PREFIX.length);
        ep.publish(to, body);
        return ++echoed >= count;
      }, timeoutMs, idleMs);
      return { echoed, error };
    },

    async burst(args) {
      if (peer === undefined) throw new Error("burst: route a peer first");
      const dst = peer;
      const count = Number(args.count);
      const size = Number(args.size ?? 64);
      // Backpressure, as a well-behaved producer treats its transport. The link's stream is
      // private (bench-only look), and two shapes are handled:
      //  - a Node Writable (the grpc-js call): when it has more than `maxQueued` messages waiting
      //    (default: its highWaterMark, i.e. write() would have returned false), wait for 'drain';
      //  - a FrameStream with `bufferedBytes` (no drain event): while more than `maxBufferedBytes`
      //    wait to be written, sleep 1 ms.
      // In both cases yield every `yieldEvery` messages, so the process keeps reading its link
      // and transports that flush on a later tick can write.
      const yieldEvery = Number(args.yieldEvery ?? 256);
      const maxQueued = args.maxQueued === undefined ? undefined : Number(args.maxQueued);
      const maxBufferedBytes = Number(args.maxBufferedBytes ?? 1 << 20);
      ep.takeErrors();
      let maxQueue = 0, yields = 0, drains = 0;
      const sendStart = hrms();
      for (let i = 0; i < count; i++) {
        ep.publish(dst, makeProbe(size, i));
        const s = stream();
        if (s !== undefined && typeof s.writableNeedDrain === "boolean") {
          const q = s.writableLength;
          if (q > maxQueue) maxQueue = q;
          if (maxQueued === undefined ? s.writableNeedDrain : q > maxQueued) {
            drains++;
            await drained(s);
            continue;
          }
        }
        if ((i + 1) % yieldEvery === 0) {
          await immediate();
          yields++;
          const buffered = () => (s as { bufferedBytes?: unknown } | undefined)?.bufferedBytes;
          let b = buffered();
          if (typeof b === "number") {
            if (b > maxQueue) maxQueue = b;
            while (typeof b === "number" && b > maxBufferedBytes) {
              // no drain event to wait for: sleep 1 ms rather than spin (spinning would steal
              // CPU from the node on this 2-core machine); the buffer keeps the pipe full meanwhile
              drains++;
              await sleep(1);
              b = buffered();
            }
          }
        }
      }
      const sendEnd = hrms();
      const sendMs = sendEnd - sendStart;
      const errs = ep.takeErrors();
      return {
        count, size, mode: "pipelined", sendStart, sendEnd, sendMs, sendRate: (count / sendMs) * 1000,
        errors: errs.length, firstError: errs[0]?.message ?? null, maxQueue, yields, drains, transport: typeof stream()?.writableNeedDrain === "boolean" ? "writable" : "frame-stream",
      };
    },

    async rtt(args) {
      if (peer === undefined) throw new Error("rtt: route a peer first");
      const dst = peer;
      const count = Number(args.count);
      const size = Number(args.size ?? 64);
      const warmup = Number(args.warmup ?? 10);
      const timeoutMs = Number(args.timeoutMs ?? 5_000);
      // One receive handler for the whole run (no timer or closure per round): each echo ends a
      // round and sends the next probe, as an app's `for await` loop would.
      const rtts: number[] = [];
      const total = warmup + count;
      let i = 0;
      let t = hrms();
      const done = inbox.collect((_m, now) => {
        if (i >= warmup) rtts.push(now - t);
        if (++i >= total) return true;
        t = hrms();
        ep.publish(dst, makeProbe(size, i));
        return false;
      }, 120_000, timeoutMs);
      ep.publish(dst, makeProbe(size, 0));
      const err = await done;
      return { rtt: summarize(rtts), completed: rtts.length, error: err === null ? null : `round ${i}: ${err}` };
    },

    async stats() {
      return {
        link: link.link.counters,
        processor: processor.stats,
        kept: inbox.pending,
        errors: ep.takeErrors().map((e) => e.message),
        writeQueue: (stream() as { writableLength?: number; bufferedBytes?: number } | undefined)?.bufferedBytes ?? stream()?.writableLength ?? null,
      };
    },

    async exit() {
      setTimeout(stop, 20);
      return null;
    },
  };

  process.on("message", async (msg: unknown) => {
    if (!msg || typeof msg !== "object" || !("id" in msg)) return;
    const { id, cmd, args } = msg as { id: number; cmd: string; args?: Record<string, unknown> };
    const handler = Object.hasOwn(handlers, cmd) ? handlers[cmd] : undefined;
    if (handler === undefined) return send({ id, ok: false, error: `unknown command "${cmd}"` });
    try {
      send({ id, ok: true, result: (await handler(args ?? {})) ?? null });
    } catch (e) {
      send({ id, ok: false, error: errorText(e) });
    }
  });
  send({ ready: true, name: ep.name.toString(), connId: String(link.id), startupMs: hrms() - t0 });
}

main().catch((e: unknown) => {
  send({ ready: false, error: errorText(e) });
  setTimeout(() => process.exit(1), 20);
});
