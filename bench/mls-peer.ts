// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// One of our apps in its own process for bench/mls.ts: p2p and group sessions,
// MLS on or off, driven over IPC like the official harness's apps (same command
// names and result shapes where they overlap: create, listen, invite, close,
// burst, sink, echo, rtt). Probes carry an 8-byte send time (CLOCK_MONOTONIC ms,
// comparable across processes) and a 4-byte sequence number.

import { createApp, SessionMux, type AnySession, type GroupSession, type P2PSession, type SessionMessage, type SlimApp } from "@slim-ts/core";

// The IPC protocol of test/helpers/official/child-common.mjs ({id, cmd, args} -> {id, ok, result|error},
// {ready} once), inline: that module loads the official bindings, which our app has no use for.
const send = (msg: object): void => {
  if (process.connected) process.send!(msg);
};
function bindLifetime(): void {
  if (!process.send) {
    process.stderr.write("this program must be started with child_process.fork (IPC channel)\n");
    process.exit(2);
  }
  process.on("disconnect", () => process.exit(0));
  for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => process.exit(0));
}
function serveCommands(handlers: Record<string, (args: never) => unknown>): void {
  process.on("message", async (msg: { id?: number; cmd?: string; args?: object } | null) => {
    if (!msg || typeof msg !== "object" || msg.id === undefined) return;
    const { id, cmd, args } = msg;
    const handler = cmd !== undefined && Object.hasOwn(handlers, cmd) ? handlers[cmd] : undefined;
    if (!handler) return send({ id, ok: false, error: `unknown command "${cmd}"` });
    try {
      send({ id, ok: true, result: (await handler((args ?? {}) as never)) ?? null });
    } catch (e) {
      send({ id, ok: false, error: String((e as Error)?.message ?? e) });
    }
  });
}

const hrms = (): number => Number(process.hrtime.bigint()) / 1e6;
const NAME = process.env.SLIM_PEER_NAME!;
const URL_ = process.env.SLIM_PEER_URL!;
const SECRET = process.env.SLIM_PEER_SECRET!;
const RELIABLE = { intervalMs: 1_000, maxRetries: 5 };

function probe(size: number, seq: number): Uint8Array {
  const b = new Uint8Array(Math.max(size, 12));
  const v = new DataView(b.buffer);
  v.setFloat64(0, hrms(), true);
  v.setUint32(8, seq, true);
  return b;
}
const probeTime = (b: Uint8Array) => (b.byteLength >= 12 ? new DataView(b.buffer, b.byteOffset, b.byteLength).getFloat64(0, true) : NaN);

function summary(values: ArrayLike<number>) {
  const s = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
  const at = (p: number) => (s.length === 0 ? null : s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!);
  return { n: s.length, p50: at(50), p99: at(99), max: s.at(-1) ?? null };
}

bindLifetime();
let app: SlimApp;
/** The latest session created or accepted; every command acts on it. */
let session: AnySession | undefined;
let reader: AsyncIterator<SessionMessage> | undefined;
/** A next() still outstanding when a bounded receive gave up: the next receiver takes it over (nothing is lost). */
let pendingNext: Promise<IteratorResult<SessionMessage>> | undefined;
const current = (): AnySession => {
  if (session === undefined) throw new Error("no session yet (create or listen first)");
  return session;
};
/** --trace (SLIM_PEER_STATS=1): counters around the session's internals, read with `stats`. */
const STATS = process.env.SLIM_PEER_STATS === "1";
const counters = { emitted: {} as Record<number, number>, arrived: {} as Record<number, number>, dataSends: 0, resends: 0, seals: 0, sealMs: 0, opens: 0, openMs: 0, handled: {} as Record<number, number>, handleMs: 0 };
function instrument(s: AnySession): void {
  if (!STATS) return;
  const x = s as unknown as {
    sender?: { io: { send: (...a: unknown[]) => void } };
    mls?: { seal: (p: unknown) => Promise<void>; open: (p: unknown) => Promise<void> };
    handle?: (msg: unknown, p: { session?: { sessionMessageType: number } }) => void;
  };
  const io = x.sender?.io;
  if (io !== undefined) {
    const send = io.send.bind(io);
    io.send = (...a: unknown[]) => {
      if (a[2] === undefined) counters.dataSends++; // send(id, data, to, asRtx, forwardTo)
      else counters.resends++;
      send(...a);
    };
  }
  const mls = x.mls;
  if (mls !== undefined) {
    const seal = mls.seal.bind(mls);
    const open = mls.open.bind(mls);
    mls.seal = async (p) => {
      const t = hrms();
      try {
        return await seal(p);
      } finally {
        counters.seals++;
        counters.sealMs += hrms() - t;
      }
    };
    mls.open = async (p) => {
      const t = hrms();
      try {
        return await open(p);
      } finally {
        counters.opens++;
        counters.openMs += hrms() - t;
      }
    };
  }
  const sx = s as unknown as { emit: (spec: { type: number }, ...rest: unknown[]) => void; onMessage: (msg: unknown, p: { session?: { sessionMessageType: number } }) => void };
  const emit = sx.emit.bind(s);
  sx.emit = (spec, ...rest) => {
    counters.emitted[spec.type] = (counters.emitted[spec.type] ?? 0) + 1;
    emit(spec, ...rest);
  };
  const onMessage = sx.onMessage.bind(s);
  sx.onMessage = (msg, p) => {
    const type = p.session?.sessionMessageType ?? -1;
    counters.arrived[type] = (counters.arrived[type] ?? 0) + 1;
    onMessage(msg, p);
  };
  const handle = x.handle;
  if (handle !== undefined) {
    x.handle = function (this: unknown, msg, p) {
      const t = hrms();
      const type = p.session?.sessionMessageType ?? -1;
      counters.handled[type] = (counters.handled[type] ?? 0) + 1;
      try {
        return handle.call(this, msg, p);
      } finally {
        counters.handleMs += hrms() - t;
      }
    };
  }
}
const use = (s: AnySession) => {
  instrument(s);
  session = s;
  reader = undefined;
  pendingNext = undefined;
};
const next = (): Promise<IteratorResult<SessionMessage>> => {
  const p = pendingNext ?? (reader ??= current()[Symbol.asyncIterator]()).next();
  pendingNext = p;
  return p.then((r) => {
    if (pendingNext === p) pendingNext = undefined;
    return r;
  });
};
// one mux per session (it is the session's only reader), and one iterator over its streams
let mux: { session: AnySession; mux: SessionMux; streams: AsyncIterator<AsyncIterable<unknown>> } | undefined;
const muxOf = () => {
  if (mux?.session !== session) {
    const m = new SessionMux(current() as P2PSession);
    mux = { session: current(), mux: m, streams: m.incoming()[Symbol.asyncIterator]() };
  }
  return mux!;
};
const listener: Record<string, AsyncIterator<AnySession>> = {};

const handlers = {
  async create(a: { type: "p2p" | "group"; peer?: string; channel?: string; reliable?: boolean; mls?: boolean }) {
    const opts = { ...(a.reliable || a.type === "group" ? { reliable: RELIABLE } : {}), ...(a.mls ? { mls: true } : {}) };
    const t = hrms();
    const s = a.type === "group" ? await app.createSession({ type: "group", channel: a.channel! }, opts) : await app.createSession({ type: "p2p", peer: a.peer! }, opts);
    const ms = hrms() - t;
    use(s);
    return { ms, sessionId: s.sessionId, mls: s.mls !== undefined };
  },
  /** The next session offered to us (of `kind`), within `timeoutMs`. */
  async listen(a: { kind?: "p2p" | "group"; timeoutMs?: number }) {
    const kind = a.kind ?? "p2p";
    const sessions: AsyncIterable<AnySession> = kind === "group" ? app.listen({ kind: "group" }) : app.listen({ kind: "p2p" });
    const it = (listener[kind] ??= sessions[Symbol.asyncIterator]());
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([it.next(), new Promise<"timeout">((res) => (timer = setTimeout(() => res("timeout"), a.timeoutMs ?? 20_000)))]);
    clearTimeout(timer);
    if (r === "timeout" || r.done) throw new Error(`no ${kind} session within ${a.timeoutMs ?? 20_000} ms`);
    use(r.value);
    return { sessionId: r.value.sessionId, mls: r.value.mls !== undefined };
  },
  /** Moderator: invite one member (resolves once it joined). */
  async invite(a: { name: string }) {
    const t = hrms();
    await (current() as GroupSession).invite(a.name);
    return { ms: hrms() - t };
  },
  async close() {
    const s = current();
    const t = hrms();
    await s.close();
    return { ms: hrms() - t };
  },
  /**
   * Send `count` probes, pipelined (`awaited`: each publish awaited). Reliable sessions' publishes
   * resolve on their acks: those are awaited up to `ackWaitMs` after the last send.
   */
  async burst(a: { count: number; size?: number; awaited?: boolean; ackWaitMs?: number }) {
    const s = current();
    let errors = 0;
    let firstError: string | null = null;
    const onError = (e: unknown) => {
      errors++;
      firstError ??= String((e as Error)?.message ?? e);
    };
    const sendStart = hrms();
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < a.count; i++) {
      const p = s.publish(probe(a.size ?? 64, i)).catch(onError);
      if (a.awaited) await p;
      else pending.push(p);
      if (!a.awaited && i % 256 === 255) await new Promise((r) => setImmediate(r));
    }
    const sendEnd = hrms();
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      Promise.all(pending).then(() => true),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), a.ackWaitMs ?? 30_000))),
    ]);
    clearTimeout(timer);
    return { sendStart, sendEnd, settled, settledAt: hrms(), errors, firstError };
  },
  /**
   * Count up to `count` messages within `timeoutMs` (stop after `idleMs` without one);
   * one-way latency per message from the embedded send time.
   */
  sink(a: { count: number; timeoutMs?: number; idleMs?: number }) {
    return new Promise((resolve) => {
      const start = hrms();
      const end = start + (a.timeoutMs ?? 30_000);
      const lat = new Float64Array(Math.min(a.count, 1 << 20)).fill(NaN);
      let got = 0;
      let firstAt: number | null = null;
      let lastAt: number | null = null;
      let error: string | null = null;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearInterval(watchdog);
        resolve({ got, firstAt, lastAt, error, latency: summary(lat.subarray(0, Math.min(got, lat.length))) });
      };
      const watchdog = setInterval(() => {
        const now = hrms();
        if (now > end) error ??= "deadline reached";
        else if (a.idleMs !== undefined && now - (lastAt ?? start) > a.idleMs) error ??= `idle for ${a.idleMs} ms`;
        if (error !== null) finish();
      }, 50);
      void (async () => {
        try {
          while (!done && got < a.count) {
            const r = await next();
            if (done) return; // abandoned: the message stays with pendingNext for the next receiver
            if (r.done) {
              error = "session ended";
              break;
            }
            const now = hrms();
            firstAt ??= now;
            lastAt = now;
            if (got < lat.length) lat[got] = now - probeTime(r.value.payload);
            got++;
          }
        } catch (e) {
          error = String((e as Error)?.message ?? e);
        }
        finish();
      })();
    });
  },
  async echo(a: { count: number }) {
    const s = current();
    for (let i = 0; i < a.count; i++) {
      const r = await next();
      if (r.done) break;
      await s.publish(r.value.payload);
    }
    return { echoed: a.count };
  },
  async rtt(a: { count: number; warmup?: number; size?: number }) {
    const s = current();
    const times: number[] = [];
    const warm = a.warmup ?? 100;
    for (let i = 0; i < warm + a.count; i++) {
      await s.publish(probe(a.size ?? 64, i));
      const r = await next();
      if (r.done) throw new Error("session ended");
      if (i >= warm) times.push(hrms() - probeTime(r.value.payload));
    }
    return summary(times);
  },
  /** Token stream through SessionMux: returns when the peer has it all (the peer measures). */
  async streamSend(a: { count: number; coalesce?: boolean }) {
    const sendStart = hrms();
    await muxOf().mux.sendStream(
      (function* () {
        for (let i = 0; i < a.count; i++) yield `t${i % 1000} `.padEnd(8, " ");
      })(),
      { coalesce: a.coalesce === true },
    );
    return { sendStart };
  },
  async streamRecv() {
    const r = await muxOf().streams.next();
    if (r.done) return { n: 0, firstAt: null, lastAt: null };
    let n = 0;
    let firstAt: number | null = null;
    let lastAt: number | null = null;
    for await (const _c of r.value) {
      const now = hrms();
      firstAt ??= now;
      lastAt = now;
      n++;
    }
    return { n, firstAt, lastAt };
  },
  async stats() {
    const s = session as unknown as { sender?: { inFlight: Map<number, unknown> }; pipe?: { dropped: unknown } } | undefined;
    const a = app as unknown as { ownProcessor?: { stats: unknown }; link?: { link: { counters: unknown } } };
    const r = { ...counters, handled: { ...counters.handled }, inFlight: s?.sender?.inFlight.size, dropped: s?.pipe?.dropped, processor: a.ownProcessor?.stats, link: a.link?.link.counters };
    counters.emitted = {};
    counters.arrived = {};
    counters.dataSends = counters.resends = counters.seals = counters.sealMs = counters.opens = counters.openMs = counters.handleMs = 0;
    counters.handled = {};
    return r;
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

// SLIM_PEER_PERSIST_DIR: sessions saved in a store there (bench/mls.ts `persist`)
const persistDir = process.env.SLIM_PEER_PERSIST_DIR;
app = await createApp({
  name: NAME,
  secret: SECRET,
  connect: URL_,
  ...(persistDir === undefined ? {} : { persistence: { path: persistDir, passphrase: "slim-ts bench store passphrase" } }),
});
// as an MLS app would at start (official apps have their MLS code loaded from the start too):
// the engine's module loading and first-use setup stay out of the first join
await app.prepareMls();
serveCommands(handlers);
send({ ready: true, name: app.name.toString() });
