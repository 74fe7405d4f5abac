// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// One of our apps in its own process, driven over IPC like the official harness's
// apps, measured the same way: probes carry an 8-byte send time (CLOCK_MONOTONIC
// ms, comparable across processes) and a 4-byte sequence number.

import { createApp, SessionMux, type P2PSession, type SlimApp } from "@slim-ts/core";
// @ts-expect-error plain JS helper shared with the official harness
import { bindLifetime, send, serveCommands } from "../test/helpers/official/child-common.mjs";

const hrms = (): number => Number(process.hrtime.bigint()) / 1e6;
const NAME = process.env.SLIM_PEER_NAME!;
const URL_ = process.env.SLIM_PEER_URL!;
const SECRET = process.env.SLIM_PEER_SECRET!;

function probe(size: number, seq: number): Uint8Array {
  const b = new Uint8Array(Math.max(size, 12));
  const v = new DataView(b.buffer);
  v.setFloat64(0, hrms(), true);
  v.setUint32(8, seq, true);
  return b;
}
const probeTime = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength).getFloat64(0, true);

function summary(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) => (s.length === 0 ? null : s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!);
  return { n: s.length, p50: at(50), p99: at(99), max: s.at(-1) ?? null };
}

bindLifetime();
let app: SlimApp;
let session: P2PSession | undefined;
let reader: AsyncIterator<{ payload: Uint8Array }> | undefined;
const next = () => (reader ??= session![Symbol.asyncIterator]()).next();
// one mux per session (it is the session's only reader), and one iterator over its streams
let mux: { session: P2PSession; mux: SessionMux; streams: AsyncIterator<AsyncIterable<unknown>> } | undefined;
const muxOf = () => {
  if (mux?.session !== session) {
    const m = new SessionMux(session!);
    mux = { session: session!, mux: m, streams: m.incoming()[Symbol.asyncIterator]() };
  }
  return mux!;
};

const handlers = {
  async create(a: { peer: string; reliable?: boolean }) {
    const t = hrms();
    session = await app.createSession({ type: "p2p", peer: a.peer }, a.reliable ? { reliable: { intervalMs: 1_000, maxRetries: 5 } } : {});
    reader = undefined;
    return { ms: hrms() - t };
  },
  async listen(a: { timeoutMs?: number }) {
    const it = app.listen({ kind: "p2p" })[Symbol.asyncIterator]();
    const r = await Promise.race([it.next(), new Promise<"timeout">((res) => setTimeout(() => res("timeout"), a.timeoutMs ?? 20_000))]);
    if (r === "timeout" || r.done) throw new Error("no session");
    session = r.value;
    reader = undefined;
    return { sessionId: session.sessionId };
  },
  /** Send `count` probes; `awaited` waits for each publish (reliable: its ack). */
  async burst(a: { count: number; size?: number; awaited?: boolean }) {
    const s = session!;
    const sendStart = hrms();
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < a.count; i++) {
      const p = s.publish(probe(a.size ?? 64, i));
      if (a.awaited) await p;
      else pending.push(p);
      if (!a.awaited && i % 256 === 255) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(pending);
    return { sendStart, sendEnd: hrms() };
  },
  async sink(a: { count: number; timeoutMs?: number }) {
    let got = 0;
    let firstAt: number | null = null;
    let lastAt: number | null = null;
    const end = hrms() + (a.timeoutMs ?? 30_000);
    while (got < a.count && hrms() < end) {
      const r = await next();
      if (r.done) break;
      const now = hrms();
      firstAt ??= now;
      lastAt = now;
      got++;
    }
    return { got, firstAt, lastAt };
  },
  async echo(a: { count: number }) {
    for (let i = 0; i < a.count; i++) {
      const r = await next();
      if (r.done) break;
      await session!.publish(r.value.payload);
    }
    return { echoed: a.count };
  },
  async rtt(a: { count: number; warmup?: number; size?: number }) {
    const times: number[] = [];
    for (let i = 0; i < (a.warmup ?? 100) + a.count; i++) {
      const t = hrms();
      await session!.publish(probe(a.size ?? 64, i));
      const r = await next();
      if (r.done) throw new Error("session ended");
      if (i >= (a.warmup ?? 100)) times.push(hrms() - probeTime(r.value.payload));
      void t;
    }
    return summary(times);
  },
  /** Token stream through SessionMux: returns when the peer has it all (the peer measures). */
  async streamSend(a: { count: number; coalesce?: boolean }) {
    const sendStart = hrms();
    const gaps: Array<[number, number]> = [];
    let last = sendStart;
    await muxOf().mux.sendStream((function* () {
      for (let i = 0; i < a.count; i++) {
        const now = hrms();
        if (process.env.SLIM_PEER_TRACE && now - last > 0.5) gaps.push([i, Math.round((now - last) * 100) / 100]);
        last = now;
        yield `t${i % 1000} `.padEnd(8, " ");
      }
    })(), { coalesce: a.coalesce === true });
    return { sendStart, ...(process.env.SLIM_PEER_TRACE ? { gaps } : {}) };
  },
  async streamRecv(a: { timeoutMs?: number }) {
    const r = await muxOf().streams.next();
    if (!r.done) {
      const s = r.value;
      let n = 0;
      let firstAt: number | null = null;
      let lastAt: number | null = null;
      const gaps: Array<[number, number]> = [];
      for await (const _c of s) {
        const now = hrms();
        if (process.env.SLIM_PEER_TRACE && lastAt !== null && now - lastAt > 0.5) gaps.push([n, Math.round((now - lastAt) * 100) / 100]);
        firstAt ??= now;
        lastAt = now;
        n++;
      }
      return { n, firstAt, lastAt, ...(process.env.SLIM_PEER_TRACE ? { gaps } : {}) };
    }
    void a;
    return { n: 0, firstAt: null, lastAt: null };
  },
  async stats() {
    const a = app as unknown as { ownProcessor?: { stats: unknown }; link?: { link: { counters: unknown } } };
    return { processor: a.ownProcessor?.stats, link: a.link?.link.counters };
  },
  async mem() {
    (globalThis as { gc?: () => void }).gc?.();
    return { rssMiB: process.memoryUsage().rss / 2 ** 20 };
  },
  async exit() {
    setTimeout(() => process.exit(0), 20);
    return "bye";
  },
};

app = await createApp({ name: NAME, secret: SECRET, connect: URL_ });
serveCommands(handlers, () => {});
send({ ready: true, name: app.name.toString() });
