// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Our HTTP/2 connection fed random and mutated frames (seeded), in both roles, on a
// socket stand-in that records what we write: junk must end the connection with a
// protocol error (never an internal one, never an exception out of a callback or a
// flush), and what we write stays well-framed. Also: a peer that sends control frames
// without reading our answers (ping/settings/reset floods) is cut off.

import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_H2_LIMITS, H2Connection, type H2Stream } from "../../src/link/h2/connection.js";
import { H2Code, H2ProtocolError } from "../../src/link/h2/frames.js";
import { encodeHeaders } from "../../src/link/h2/hpack.js";
import { frame, PREFACE } from "../helpers/h2-frames.js";

/** Stands in for a TCP socket: records writes; `stalled` models a peer that stopped reading. */
class FakeSocket extends EventEmitter {
  readonly written: Buffer[] = [];
  stalled = false;
  private queued = 0;
  destroyed = false;
  ended = false;
  readonly remoteAddress = "fuzz";
  readonly remotePort = 0;

  get writableLength(): number {
    return this.queued;
  }

  write(bytes: Uint8Array, cb?: () => void): boolean {
    if (this.stalled) {
      this.queued += bytes.length;
      return false;
    }
    this.written.push(Buffer.from(bytes));
    if (cb !== undefined) process.nextTick(cb);
    return true;
  }

  end(): void {
    this.ended = true;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    process.nextTick(() => this.emit("close"));
  }
}

const REQUEST = encodeHeaders([[":method", "POST"], [":scheme", "http"], [":path", "/dataplane.proto.v1.DataPlaneService/OpenChannel"], [":authority", "x"], ["content-type", "application/grpc"]]);
const RESPONSE = encodeHeaders([[":status", "200"], ["content-type", "application/grpc"]]);
const TRAILERS = encodeHeaders([["grpc-status", "0"]]);
const SETTINGS = frame(4, 0, 0, new Uint8Array(0));
const grpcMessage = (n: number) => {
  const b = Buffer.alloc(5 + n, 0x61);
  b[0] = 0;
  b.writeUInt32BE(n, 1);
  return b;
};

/** Split `bytes` at frame boundaries (type, flags, stream id, payload). Throws on a torn frame. */
function parseFrames(bytes: Buffer): Array<{ type: number; id: number; body: Buffer }> {
  const out: Array<{ type: number; id: number; body: Buffer }> = [];
  let p = 0;
  while (p < bytes.length) {
    if (bytes.length - p < 9) throw new Error(`torn frame header at ${p}`);
    const len = bytes.readUIntBE(p, 3);
    if (bytes.length - p < 9 + len) throw new Error(`torn frame at ${p}`);
    out.push({ type: bytes[p + 3]!, id: bytes.readUInt32BE(p + 5), body: bytes.subarray(p + 9, p + 9 + len) });
    p += 9 + len;
  }
  return out;
}

/** H2_FUZZ_SEED=<n> explores other inputs than CI's fixed ones (the failing connection is named). */
const SEED_OFFSET = Number(process.env.H2_FUZZ_SEED ?? 0);

function mulberry32(seed: number): () => number {
  seed = (seed + SEED_OFFSET) | 0;
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const turn = () => new Promise((r) => setImmediate(r));

interface Harness {
  sock: FakeSocket;
  conn: H2Connection;
  closedWith: () => Error | undefined | "open";
  echoed: () => number;
}

/** A connection in `role` whose streams echo what they receive; the error it closed with, if any. */
function harness(role: "client" | "server"): Harness {
  const sock = new FakeSocket();
  let closed: Error | undefined | "open" = "open";
  let echoed = 0;
  const echo = (st: H2Stream) =>
    st.bind({
      onHeaders: () => {},
      onData: (chunk) => {
        echoed += chunk.length;
        st.write(Uint8Array.from(chunk));
      },
      onEnd: () => st.end([["grpc-status", "0"]]),
      onClose: () => {},
    });
  const conn = new H2Connection(
    sock as unknown as Socket,
    role,
    {
      onRequest: (st) => {
        echo(st);
        st.sendHeaders([[":status", "200"], ["content-type", "application/grpc"]]);
      },
      onClose: (err) => (closed = err),
    },
    { ...DEFAULT_H2_LIMITS, openTimeoutMs: 60_000 },
  );
  if (role === "client") echo(conn.request([[":method", "POST"], [":scheme", "http"], [":path", "/x"], [":authority", "x"], ["content-type", "application/grpc"]]));
  cleanups.push(() => conn.destroy());
  return { sock, conn, closedWith: () => closed, echoed: () => echoed };
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A random frame, biased towards shapes the connection looks at closely. */
function randomFrame(rand: () => number): Buffer {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const type = pick([0, 0, 0, 1, 2, 3, 4, 4, 5, 6, 7, 8, 8, 9, 0x20]);
  const flags = rand() < 0.5 ? pick([0, 1, 4, 5, 8, 0x20, 0x24, 0x2d]) : Math.floor(rand() * 256);
  const id = pick([0, 1, 1, 1, 2, 3, 5, 0x7fffffff, 0x80000001, Math.floor(rand() * 100)]);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
  let body: Uint8Array;
  switch (type) {
    case 0:
      body = rand() < 0.5 ? grpcMessage(Math.floor(rand() * 300)) : bytes(Math.floor(rand() * 64));
      if ((flags & 8) !== 0 && rand() < 0.7) body = Buffer.concat([Buffer.from([Math.floor(rand() * (body.length + 2))]), body]);
      break;
    case 1:
    case 9:
      body = rand() < 0.5 ? (rand() < 0.5 ? REQUEST : TRAILERS) : bytes(Math.floor(rand() * 40));
      break;
    case 3:
    case 8: {
      const v = pick([0, 1, 65_535, 0x7fffffff, 0xffffffff, Math.floor(rand() * 2 ** 32)]);
      body = Buffer.alloc(4);
      Buffer.from(body.buffer).writeUInt32BE(v >>> 0, 0);
      if (rand() < 0.1) body = bytes(Math.floor(rand() * 8));
      break;
    }
    case 4: {
      const n = rand() < 0.9 ? Math.floor(rand() * 4) : 0;
      const b = Buffer.alloc(n * 6);
      for (let i = 0; i < n; i++) {
        b.writeUInt16BE(pick([1, 2, 3, 4, 5, 6, 9]), i * 6);
        b.writeUInt32BE(pick([0, 1, 100, 16_383, 16_384, 65_535, 1 << 24, 0x7fffffff, 0x80000000, 0xffffffff]) >>> 0, i * 6 + 2);
      }
      body = rand() < 0.1 ? bytes(Math.floor(rand() * 13)) : b;
      break;
    }
    case 6:
      body = rand() < 0.9 ? bytes(8) : bytes(Math.floor(rand() * 12));
      break;
    case 7:
      body = rand() < 0.9 ? bytes(8 + Math.floor(rand() * 20)) : bytes(Math.floor(rand() * 8));
      break;
    default:
      body = bytes(Math.floor(rand() * 32));
  }
  return frame(type, flags, id, body);
}

/** Feed `bytes` in random pieces (frames torn across reads), letting turns pass now and then. */
async function feed(h: Harness, bytes: Buffer, rand: () => number): Promise<void> {
  let p = 0;
  while (p < bytes.length) {
    const n = 1 + Math.floor(rand() * (rand() < 0.2 ? 8 : 400));
    h.sock.emit("data", bytes.subarray(p, p + n));
    p += n;
    if (rand() < 0.1) await turn();
  }
  await turn();
  await turn();
}

function expectSane(h: Harness, what: string): void {
  const closed = h.closedWith();
  if (closed !== "open" && closed !== undefined) {
    expect(closed, what).toBeInstanceOf(H2ProtocolError);
    expect((closed as H2ProtocolError).code, `${what}: ${closed.message}`).not.toBe(H2Code.INTERNAL_ERROR);
  }
  // whatever we wrote is whole frames (a client writes the preface first)
  let out = Buffer.concat(h.sock.written);
  if (h.conn.role === "client") {
    expect(out.subarray(0, PREFACE.length).equals(PREFACE), what).toBe(true);
    out = out.subarray(PREFACE.length);
  }
  const frames = parseFrames(out);
  // a connection error is told in a GOAWAY with its code, the last frame we write
  // (after a graceful GOAWAY, if we had sent one)
  const goaways = frames.filter((f) => f.type === 7);
  if (closed !== "open" && closed !== undefined) {
    expect(frames.at(-1)?.type, what).toBe(7);
    expect(frames.at(-1)?.body.readUInt32BE(4), what).toBe((closed as H2ProtocolError).code);
  }
  expect(goaways.length, what).toBeLessThanOrEqual(2);
}

/**
 * 1 000 connections in `role`, each a valid opening then 1–12 random frames (some of them valid
 * DATA); every one is checked, and how many stayed open or were closed is returned.
 */
async function randomConnections(role: "client" | "server", seed: number, opening: Buffer[]): Promise<{ open: number; closed: number }> {
  const rand = mulberry32(seed);
  const outcomes = { open: 0, closed: 0 };
  for (let c = 0; c < 1_000; c++) {
    const h = harness(role);
    const parts = [...opening];
    const n = 1 + Math.floor(rand() * 12);
    for (let i = 0; i < n; i++) parts.push(rand() < 0.3 ? frame(0, 0, 1, grpcMessage(Math.floor(rand() * 200))) : randomFrame(rand));
    await feed(h, Buffer.concat(parts), rand);
    expectSane(h, `connection ${c}`);
    outcomes[h.closedWith() === "open" ? "open" : "closed"]++;
  }
  return outcomes;
}

describe("HTTP/2 connection, seeded fuzz", () => {
  it("server: 1 000 connections of random frames after a valid opening end cleanly or stay usable", async () => {
    const outcomes = await randomConnections("server", 0xc0ffee, [PREFACE, SETTINGS, frame(1, 4, 1, REQUEST)]);
    expect(outcomes.open).toBeGreaterThan(20);
    expect(outcomes.closed).toBeGreaterThan(20);
  });

  it("server: 1 000 valid exchanges with bits flipped end cleanly or stay usable", async () => {
    const rand = mulberry32(0xbadf00d);
    const valid = Buffer.concat([
      PREFACE,
      frame(4, 0, 0, Buffer.from([0, 4, 0, 0x10, 0, 0, 0, 5, 0, 0, 0x40, 0])),
      frame(8, 0, 0, Buffer.from([0, 0x10, 0, 0])),
      frame(1, 4, 1, REQUEST),
      frame(0, 0, 1, grpcMessage(100)),
      frame(6, 0, 0, Buffer.alloc(8, 1)),
      frame(8, 0, 1, Buffer.from([0, 0, 0x40, 0])),
      frame(0, 8, 1, Buffer.concat([Buffer.from([3]), grpcMessage(20), Buffer.alloc(3)])),
      frame(1, 5, 1, TRAILERS),
      frame(1, 4, 3, REQUEST),
      frame(3, 0, 3, Buffer.from([0, 0, 0, 8])),
      frame(7, 0, 0, Buffer.alloc(8)),
    ]);
    const outcomes = { open: 0, closed: 0 };
    for (let c = 0; c < 1_000; c++) {
      const h = harness("server");
      const bytes = Buffer.from(valid);
      const flips = 1 + Math.floor(rand() * 6);
      // keep the preface intact half the time, so the flips reach the frames
      const from = rand() < 0.5 ? PREFACE.length : 0;
      for (let i = 0; i < flips; i++) {
        const at = from + Math.floor(rand() * (bytes.length - from));
        bytes[at] = bytes[at]! ^ (1 << Math.floor(rand() * 8));
      }
      await feed(h, bytes, rand);
      expectSane(h, `connection ${c}`);
      outcomes[h.closedWith() === "open" ? "open" : "closed"]++;
    }
    expect(outcomes.open + outcomes.closed).toBe(1_000);
    expect(outcomes.closed).toBeGreaterThan(50);
  });

  it("client: 1 000 connections of random frames after a valid response end cleanly or stay usable", async () => {
    const outcomes = await randomConnections("client", 0x5eed, [SETTINGS, frame(1, 4, 1, RESPONSE)]);
    expect(outcomes.open).toBeGreaterThan(20);
    expect(outcomes.closed).toBeGreaterThan(20);
  });

  it("a valid exchange fed in random pieces is echoed in full (the harness sees real traffic)", async () => {
    const rand = mulberry32(7);
    const h = harness("server");
    const parts: Buffer[] = [PREFACE, SETTINGS, frame(1, 4, 1, REQUEST)];
    for (let i = 0; i < 50; i++) parts.push(frame(0, 0, 1, grpcMessage(i * 7)));
    await feed(h, Buffer.concat(parts), rand);
    expect(h.closedWith()).toBe("open");
    const expected = Array.from({ length: 50 }, (_, i) => 5 + i * 7).reduce((a, b) => a + b, 0);
    expect(h.echoed()).toBe(expected);
    const data = parseFrames(Buffer.concat(h.sock.written)).filter((f) => f.type === 0 && f.id === 1);
    expect(data.reduce((n, f) => n + f.body.length, 0)).toBe(expected);
  });
});

describe("HTTP/2 connection, control-frame floods", () => {
  const opening = Buffer.concat([PREFACE, SETTINGS, frame(1, 4, 1, REQUEST)]);
  const flood = (what: "ping" | "settings" | "reset", n: number) => {
    const one =
      what === "ping" ? frame(6, 0, 0, Buffer.alloc(8, 7)) : what === "settings" ? frame(4, 0, 0, Buffer.from([0, 4, 0, 1, 0, 0])) : frame(0, 0, 1, Buffer.alloc(1));
    return Buffer.concat(Array.from({ length: n }, () => one));
  };

  for (const what of ["ping", "settings", "reset"] as const) {
    it(`a peer that sends ${what === "reset" ? "DATA on a closed stream" : `${what}s`} without reading our answers is cut off (ENHANCE_YOUR_CALM); one that reads is not`, async () => {
      const rand = mulberry32(1);
      const setup = what === "reset" ? Buffer.concat([opening, frame(3, 0, 1, Buffer.from([0, 0, 0, 8]))]) : opening;

      const reading = harness("server");
      await feed(reading, setup, rand);
      for (let i = 0; i < 6; i++) {
        reading.sock.emit("data", flood(what, 5_000));
        await turn();
      }
      expect(reading.closedWith()).toBe("open");

      const stalled = harness("server");
      await feed(stalled, setup, rand);
      stalled.sock.stalled = true;
      for (let i = 0; i < 6 && stalled.closedWith() === "open"; i++) {
        stalled.sock.emit("data", flood(what, 5_000));
        await turn();
      }
      const err = stalled.closedWith();
      expect(err).toBeInstanceOf(H2ProtocolError);
      expect((err as H2ProtocolError).code).toBe(H2Code.ENHANCE_YOUR_CALM);
      // what stayed queued for the peer is bounded, not 30 000 answers
      expect(stalled.sock.writableLength).toBeLessThan(15_000 * 17);
    });
  }
});
