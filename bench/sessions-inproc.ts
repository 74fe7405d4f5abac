// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The session layer's own cost: two apps on one in-process datapath (no
// sockets, no serialization), so what is measured is sessions, identity
// tokens and the datapath. `tsx bench/sessions-inproc.ts`.

import { createApp, SessionMux, type P2PSession } from "@slim-ts/core";
import { MessageProcessor } from "@slim-ts/core/internal";

const SECRET = "an-in-process-benchmark-secret-of-enough-length";
const now = () => performance.now();

async function pair(reliable: boolean): Promise<{ tx: P2PSession; rx: P2PSession; close(): Promise<void> }> {
  const processor = new MessageProcessor();
  const a = await createApp({ name: "bench/inproc/a", secret: SECRET, processor });
  const b = await createApp({ name: "bench/inproc/b", secret: SECRET, processor });
  const it = b.listen({ kind: "p2p" })[Symbol.asyncIterator]();
  const accepted = it.next();
  const tx = (await a.createSession({ type: "p2p", peer: "bench/inproc/b" }, reliable ? { reliable: { intervalMs: 1000, maxRetries: 5 } } : {})) as P2PSession;
  const rx = (await accepted).value as P2PSession;
  return { tx, rx, close: async () => (await a.close(), await b.close(), processor.close()) };
}

export interface InprocSessionResult {
  onewayPerSec: number;
  /** CPU time per message (both ends and the datapath, this process), µs: steadier than rates on a busy machine. */
  onewayCpuUs: number;
  reliableCpuUs: number;
  reliableOnewayPerSec: number;
  awaitedPerSec: number;
  rttUs: number;
  tokensMs: number;
  setupMs: number;
}

let lastCpuUs = 0;

async function oneway(reliable: boolean, n: number): Promise<number> {
  const { tx, rx, close } = await pair(reliable);
  const cpu0 = process.cpuUsage();
  const reader = rx[Symbol.asyncIterator]();
  const payload = new Uint8Array(64);
  const t0 = now();
  const reading = (async () => {
    for (let i = 0; i < n; i++) if ((await reader.next()).done) throw new Error("ended");
  })();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    pending.push(tx.publish(payload));
    if (i % 256 === 255) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(pending);
  await reading;
  const rate = n / ((now() - t0) / 1000);
  const cpu = process.cpuUsage(cpu0);
  lastCpuUs = (cpu.user + cpu.system) / n;
  await close();
  return rate;
}

async function awaited(n: number): Promise<number> {
  const { tx, rx, close } = await pair(true);
  const reader = rx[Symbol.asyncIterator]();
  const reading = (async () => {
    for (let i = 0; i < n; i++) await reader.next();
  })();
  const t0 = now();
  for (let i = 0; i < n; i++) await tx.publish(new Uint8Array(64));
  await reading;
  const rate = n / ((now() - t0) / 1000);
  await close();
  return rate;
}

async function rtt(n: number): Promise<number> {
  const { tx, rx, close } = await pair(false);
  const rxr = rx[Symbol.asyncIterator]();
  const txr = tx[Symbol.asyncIterator]();
  const echo = (async () => {
    for (let i = 0; i < n; i++) {
      const m = await rxr.next();
      if (m.done) return;
      await rx.publish(m.value.payload);
    }
  })();
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = now();
    await tx.publish(new Uint8Array(64));
    await txr.next();
    t.push(now() - t0);
  }
  await echo;
  await close();
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)]! * 1000;
}

async function tokens(n: number): Promise<number> {
  const { tx, rx, close } = await pair(true);
  const recv = (async () => {
    for await (const s of new SessionMux(rx).incoming()) {
      let got = 0;
      for await (const _ of s) got++;
      return got;
    }
    return 0;
  })();
  const t0 = now();
  await new SessionMux(tx).sendStream((function* () {
    for (let i = 0; i < n; i++) yield `t${i} `;
  })());
  const got = await recv;
  const ms = now() - t0;
  if (got !== n) throw new Error(`tokens: ${got}/${n}`);
  await close();
  return ms;
}

async function setup(n: number): Promise<number> {
  const processor = new MessageProcessor();
  const a = await createApp({ name: "bench/inproc/a", secret: SECRET, processor });
  const b = await createApp({ name: "bench/inproc/b", secret: SECRET, processor });
  const accepting = (async () => {
    for await (const _ of b.listen({ kind: "p2p" })) void _;
  })();
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = now();
    await a.createSession({ type: "p2p", peer: "bench/inproc/b" });
    t.push(now() - t0);
  }
  await a.close();
  await b.close();
  processor.close();
  void accepting;
  t.sort((x, y) => x - y);
  return t[Math.floor(t.length / 2)]!;
}

export async function sessionsInproc(): Promise<InprocSessionResult> {
  const onewayPerSec = await oneway(false, 100_000);
  const onewayCpuUs = lastCpuUs;
  const reliableOnewayPerSec = await oneway(true, 50_000);
  const reliableCpuUs = lastCpuUs;
  return {
    onewayPerSec,
    onewayCpuUs,
    reliableOnewayPerSec,
    reliableCpuUs,
    awaitedPerSec: await awaited(5_000),
    rttUs: await rtt(5_000),
    tokensMs: await tokens(2_000),
    setupMs: await setup(50),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await sessionsInproc()));
  process.exit(0);
}
