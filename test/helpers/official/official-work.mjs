// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Payload codecs and measured workloads for official-app.mjs. The method is the one of
// shared/bench (slim_work.mjs, lib.mjs), so figures stay comparable with bench/REPORT.md:
//  * probe payload = [f64 LE send time, ms of CLOCK_MONOTONIC][u32 LE seq], zero-padded to `size` (min 12 B);
//  * burst: a window of outstanding publishAsync calls (64), or each publish awaited until acked;
//  * one-way rate = sink.got / (sink.lastAt - burst.sendStart) * 1000 (same clock in both processes);
//  * rtt: publishAsync then getMessageAsync against a peer that echoes, after `warmup` rounds.

import { slim, hrms, errorText } from "./child-common.mjs";

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export function parseName(text) {
  const parts = String(text).split("/");
  if (parts.length !== 3 || parts.some((p) => p.length === 0)) throw new Error(`bad SLIM name "${text}" (want org/ns/app)`);
  return new slim.Name(parts[0], parts[1], parts[2]);
}

export const nameText = (n) => n.components().join("/");

/** Body from {text} or {base64} as the exact-length ArrayBuffer the bindings want. */
export function encodeBody({ text, base64 }) {
  let bytes;
  if (typeof base64 === "string") bytes = new Uint8Array(Buffer.from(base64, "base64"));
  else if (typeof text === "string") bytes = utf8.encode(text);
  else throw new Error("a payload needs `text` or `base64`");
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

export function toMetadataMap(obj) {
  if (!obj) return undefined;
  return new Map(Object.entries(obj).map(([k, v]) => [k, String(v)]));
}

export function decodeMessage(msg, withBase64 = false) {
  const ctx = msg.context;
  const bytes = new Uint8Array(msg.payload);
  const out = {
    text: fromUtf8.decode(bytes),
    payloadType: ctx.payloadType,
    from: nameText(ctx.sourceName),
    fromId: ctx.sourceName.id(),
    metadata: Object.fromEntries(ctx.metadata ?? []),
    size: bytes.byteLength,
  };
  if (withBase64) out.base64 = Buffer.from(bytes).toString("base64");
  return out;
}

export function makeProbe(size, seq) {
  const buf = new ArrayBuffer(Math.max(size, 12));
  const view = new DataView(buf);
  view.setFloat64(0, hrms(), true);
  view.setUint32(8, seq, true);
  return buf;
}

function readProbe(buf) {
  if (buf.byteLength < 12) return null;
  const view = new DataView(buf);
  return { ts: view.getFloat64(0, true), seq: view.getUint32(8, true) };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summarize(values) {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  const n = s.length;
  return {
    n,
    min: n ? s[0] : null,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: n ? s[n - 1] : null,
    mean: n ? s.reduce((a, b) => a + b, 0) / n : null,
  };
}

/** Next message, or an error string, waiting at most min(idleMs, time left until deadline). */
async function nextMessage(session, deadline, idleMs) {
  const left = deadline - hrms();
  if (left <= 0) return { error: "deadline reached" };
  try {
    return { msg: await session.getMessageAsync(Math.max(1, Math.round(Math.min(left, idleMs ?? left)))) };
  } catch (e) {
    return { error: errorText(e) };
  }
}

/** Receive up to `count` messages and send each back to its sender, prefixed with "echo:". */
export async function echo(entry, { count, timeoutMs, idleMs }) {
  const prefix = utf8.encode("echo:");
  const deadline = hrms() + timeoutMs;
  let echoed = 0;
  while (echoed < count) {
    const { msg, error } = await nextMessage(entry.session, deadline, idleMs);
    if (!msg) return { echoed, error };
    entry.lastContext = msg.context;
    const body = new Uint8Array(prefix.length + msg.payload.byteLength);
    body.set(prefix, 0);
    body.set(new Uint8Array(msg.payload), prefix.length);
    await entry.session.publishToAsync(msg.context, body.buffer, msg.context.payloadType, undefined);
    echoed++;
  }
  return { echoed, error: null };
}

/** Count up to `count` probe messages; one-way latency per message from the embedded send time. */
export async function sink(session, { count, timeoutMs, idleMs }) {
  const deadline = hrms() + timeoutMs;
  const seen = new Uint8Array(count);
  const latency = [];
  let got = 0, dup = 0, bytes = 0, firstAt = null, lastAt = null, error = null;
  while (got < count) {
    const r = await nextMessage(session, deadline, idleMs);
    if (!r.msg) { error = r.error; break; }
    const now = hrms();
    firstAt ??= now;
    lastAt = now;
    bytes += r.msg.payload.byteLength;
    got++;
    const probe = readProbe(r.msg.payload);
    if (probe) {
      latency.push(now - probe.ts);
      if (probe.seq < count) { if (seen[probe.seq]) dup++; seen[probe.seq] = 1; }
    }
  }
  const unique = seen.reduce((a, b) => a + b, 0);
  return { got, unique, dup, bytes, firstAt, lastAt, error, latency: summarize(latency) };
}

/**
 * Send `count` probes of `size` bytes. mode: "pipelined" (up to `window` publishAsync calls in
 * flight, completion handles dropped), "windowed-ack" (up to `window` delivery acks awaited
 * concurrently) or "awaited" (publishAndWaitAsync one at a time).
 */
export async function sendBurst(session, { count, size, mode, window }) {
  if (!["pipelined", "windowed-ack", "awaited"].includes(mode)) throw new Error(`burst: unknown mode ${mode}`);
  let errors = 0, firstError = null;
  const onError = (e) => { errors++; firstError ??= errorText(e); };
  const sendStart = hrms();
  if (mode === "awaited") {
    for (let i = 0; i < count; i++) {
      try { await session.publishAndWaitAsync(makeProbe(size, i), undefined, undefined); } catch (e) { onError(e); }
    }
  } else {
    const inflight = new Set();
    for (let i = 0; i < count; i++) {
      const sent = session.publishAsync(makeProbe(size, i), undefined, undefined);
      const p = (mode === "pipelined" ? sent : sent.then((h) => h.waitAsync())).catch(onError);
      inflight.add(p);
      p.finally(() => inflight.delete(p));
      if (inflight.size >= window) await Promise.race(inflight);
    }
    await Promise.all(inflight);
  }
  const sendEnd = hrms();
  const sendMs = sendEnd - sendStart;
  return { count, size, mode, sendStart, sendEnd, sendMs, sendRate: (count / sendMs) * 1000, errors, firstError };
}

/** Ping-pong against a peer that echoes: RTT per round after `warmup` rounds (ms). */
export async function pingPong(session, { count, size, warmup, timeoutMs }) {
  const rtts = [];
  for (let i = 0; i < warmup + count; i++) {
    const t0 = hrms();
    await session.publishAsync(makeProbe(size, i), undefined, undefined);
    try {
      await session.getMessageAsync(timeoutMs);
    } catch (e) {
      return { rtt: summarize(rtts), completed: rtts.length, error: `round ${i}: ${errorText(e)}` };
    }
    if (i >= warmup) rtts.push(hrms() - t0);
  }
  return { rtt: summarize(rtts), completed: rtts.length, error: null };
}
