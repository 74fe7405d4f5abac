// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Our HTTP/2 layer against node:http2 (nghttp2), an independent implementation, in both
// roles; and raw frames a broken or hostile peer might send.

import * as http2 from "node:http2";
import * as net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { SlimError } from "@slim-ts/core";
import { OPEN_CHANNEL_PATH, createChannelServer, dialChannel, type ChannelServer, type FrameStream } from "@slim-ts/core/internal";
import { encodeHeaders } from "../../packages/core/src/link/h2/hpack.js";
import { frame, PREFACE } from "../../packages/core/test/helpers/h2-frames.js";
import { waitFor } from "../helpers/wait.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const grpcFrame = (msg: Uint8Array) => {
  const f = Buffer.alloc(5 + msg.length);
  f.writeUInt32BE(msg.length, 1);
  f.set(msg, 5);
  return f;
};

/** Collect whole gRPC messages from a byte stream. */
function deframer(onMessage: (m: Buffer) => void) {
  let buf = Buffer.alloc(0);
  return (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 5 && buf.length >= 5 + buf.readUInt32BE(1)) {
      const len = buf.readUInt32BE(1);
      onMessage(buf.subarray(5, 5 + len));
      buf = buf.subarray(5 + len);
    }
  };
}

const payload = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));
const SIZES = [10, 100_000, 3 * 1024 * 1024, 7];

async function ourServer(
  onChannel: (s: FrameStream) => void,
  authorize?: (h: Record<string, string | undefined>) => SlimError | undefined,
  openTimeoutMs?: number,
): Promise<{ server: ChannelServer; url: string }> {
  const server = createChannelServer({ onChannel, ...(authorize === undefined ? {} : { authorize }), ...(openTimeoutMs === undefined ? {} : { limits: { openTimeoutMs } }) });
  const port = await server.listen(0, "127.0.0.1");
  cleanups.push(() => server.close());
  return { server, url: `http://127.0.0.1:${port}` };
}

describe("our HTTP/2 server, node:http2 client", () => {
  it("echoes messages of 10 B to 3 MiB in order (the client's 64 KiB window makes us wait for WINDOW_UPDATEs), then ends with status 0", async () => {
    let closedWith: SlimError | undefined;
    const { url } = await ourServer((s) => {
      s.start((m) => s.write(Uint8Array.from(m)), (err) => {
        closedWith = err;
        s.end();
      });
    });
    const client = http2.connect(url);
    cleanups.push(() => client.destroy());
    const req = client.request({ ":method": "POST", ":path": OPEN_CHANNEL_PATH, "content-type": "application/grpc", te: "trailers" });
    const got: Buffer[] = [];
    req.on("data", deframer((m) => got.push(Buffer.from(m))));
    let trailers: http2.IncomingHttpHeaders | undefined;
    req.on("trailers", (t) => (trailers = t));
    for (const [i, n] of SIZES.entries()) req.write(grpcFrame(payload(n, i)));
    await waitFor(() => got.length === SIZES.length, "echoes");
    SIZES.forEach((n, i) => expect(got[i]!.equals(payload(n, i)), `message ${i}`).toBe(true));
    req.end();
    await waitFor(() => trailers !== undefined, "trailers");
    expect(trailers!["grpc-status"]).toBe("0");
    expect(closedWith?.message).toMatch(/ended by peer/);
  });

  it("answers a client that shrank its HPACK table to 0 with a table size update first (nghttp2 insists)", async () => {
    const { url } = await ourServer((s) => s.start((m) => s.write(Uint8Array.from(m)), () => s.end()));
    const client = http2.connect(url, { settings: { headerTableSize: 0 } });
    cleanups.push(() => client.destroy());
    const req = client.request({ ":method": "POST", ":path": OPEN_CHANNEL_PATH, "content-type": "application/grpc" });
    const got: Buffer[] = [];
    req.on("data", deframer((m) => got.push(Buffer.from(m))));
    req.on("error", () => {});
    req.write(grpcFrame(Buffer.from("small table")));
    await waitFor(() => got[0] !== undefined, "echo");
    expect(got[0]!.toString()).toBe("small table");
  });

  it("reads padded HEADERS and DATA frames (nghttp2's maximum padding strategy) and gives the padding back to the window", async () => {
    const { url } = await ourServer((s) => s.start((m) => s.write(Uint8Array.from(m)), () => s.end()));
    const client = http2.connect(url, { paddingStrategy: http2.constants.PADDING_STRATEGY_MAX });
    cleanups.push(() => client.destroy());
    const req = client.request({ ":method": "POST", ":path": OPEN_CHANNEL_PATH, "content-type": "application/grpc" });
    const got: Buffer[] = [];
    req.on("data", deframer((m) => got.push(Buffer.from(m))));
    req.on("error", () => {});
    // well past our 4 MiB stream window once padding is counted: credit must come back for it too
    for (let i = 0; i < 400; i++) req.write(grpcFrame(payload(20_000, i)));
    await waitFor(() => got.length === 400, "echoes", 20_000);
    expect(got.every((m, i) => m.equals(payload(20_000, i)))).toBe(true);
  });

  it("refuses an unknown method and a failed authorization with a trailers-only status", async () => {
    const { url } = await ourServer(() => {}, (h) => (h.authorization === "Bearer good" ? undefined : new SlimError("AUTH", "bad token")));
    const client = http2.connect(url);
    cleanups.push(() => client.destroy());
    const ask = (path: string, auth: string) =>
      new Promise<http2.IncomingHttpHeaders>((resolve) => {
        const req = client.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", authorization: auth });
        req.on("response", (h) => resolve(h));
        req.on("error", () => {});
      });
    expect((await ask("/nope/Nope", "Bearer good"))["grpc-status"]).toBe("12");
    const denied = await ask(OPEN_CHANNEL_PATH, "Bearer bad");
    expect(denied["grpc-status"]).toBe("16");
    expect(decodeURIComponent(String(denied["grpc-message"]))).toBe("bad token");
  });

  it("a paused stream stops taking data once its window is used, and gets all of it in order when resumed", async () => {
    let stream: FrameStream | undefined;
    const got: number[] = [];
    const { url } = await ourServer((s) => {
      stream = s;
      s.pause();
      s.start((m) => got.push(m[0]!), () => {});
    });
    const client = http2.connect(url, { settings: { initialWindowSize: 8 * 1024 * 1024 } });
    cleanups.push(() => client.destroy());
    const req = client.request({ ":method": "POST", ":path": OPEN_CHANNEL_PATH, "content-type": "application/grpc" });
    req.on("error", () => {});
    const MiB = 1024 * 1024;
    for (let i = 0; i < 6; i++) req.write(grpcFrame(Buffer.alloc(MiB, i)));
    await waitFor(() => stream !== undefined, "stream");
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toEqual([]);
    // our 4 MiB stream window: the rest is still queued in the client
    expect(req.writableLength).toBeGreaterThan(MiB);
    stream!.resume();
    await waitFor(() => got.length === 6, "all six");
    expect(got).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe("our HTTP/2 client, node:http2 server", () => {
  async function nodeServer(handler: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void, options: http2.ServerOptions = {}): Promise<URL> {
    const server = http2.createServer(options);
    server.on("stream", handler);
    const sessions = new Set<http2.Http2Session>();
    server.on("session", (s) => sessions.add(s));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise<void>((r) => {
      for (const s of sessions) s.destroy();
      server.close(() => r());
    }));
    return new URL(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  }

  it("sends its request headers, exchanges 10 B to 3 MiB messages both ways, and closes when the server ends", async () => {
    let seen: http2.IncomingHttpHeaders | undefined;
    const url = await nodeServer((stream, headers) => {
      seen = headers;
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      let n = 0;
      stream.on("data", deframer((m) => {
        stream.write(grpcFrame(m));
        if (++n === SIZES.length) stream.end();
      }));
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    });
    const { stream } = dialChannel(url, { headers: { authorization: "Bearer abc" } });
    const got: Buffer[] = [];
    let closed: SlimError | undefined;
    stream.start((m) => got.push(Buffer.from(m)), (err) => (closed = err));
    for (const [i, n] of SIZES.entries()) stream.write(payload(n, i));
    await waitFor(() => closed !== undefined, "closed");
    expect(seen![":path"]).toBe(OPEN_CHANNEL_PATH);
    expect(seen!["content-type"]).toBe("application/grpc");
    expect(seen!.authorization).toBe("Bearer abc");
    expect(got.length).toBe(SIZES.length);
    SIZES.forEach((n, i) => expect(got[i]!.equals(payload(n, i)), `message ${i}`).toBe(true));
    expect(closed!.message).toMatch(/ended by peer/);
  });

  it("frames a message in the free bytes before it (room) when it leaves alone; several per flush, ones beyond a frame or the 64 KiB window and plain ones mixed in stay byte-exact; nothing outside the room touched", async () => {
    const url = await nodeServer((stream) => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("data", deframer((m) => stream.write(grpcFrame(m))));
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    });
    const ROOM = 14;
    const CANARY = 0xa5;
    // messages laid out one after another in shared buffers, each with ROOM free bytes before it, as the encoder does
    const sizes = [[10, 200, 3], [40_000], [7, 70_000, 12], [1_000]];
    const buffers: Uint8Array[] = [];
    const sent: Array<{ bytes: Uint8Array; room: number }> = [];
    let seed = 0;
    for (const group of sizes) {
      const buf = new Uint8Array(group.reduce((a, n) => a + ROOM + n, 0) + 32).fill(CANARY);
      buffers.push(buf);
      let at = 16;
      for (const n of group) {
        const bytes = buf.subarray(at + ROOM, at + ROOM + n);
        bytes.set(payload(n, seed++));
        sent.push({ bytes, room: ROOM });
        at += ROOM + n;
      }
      sent.push({ bytes: payload(33, seed++), room: 0 });
    }
    const { stream } = dialChannel(url, {});
    const got: Buffer[] = [];
    stream.start((m) => got.push(Buffer.from(m)), () => {});
    // the first half one message per event-loop turn (each flush holds one), the rest in one go
    for (const [i, m] of sent.entries()) {
      expect(stream.write(m.bytes, m.room)).toBe(true);
      if (i < sent.length / 2) await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => got.length === sent.length, "all echoed");
    sent.forEach((m, i) => expect(got[i]!.equals(Buffer.from(m.bytes)), `message ${i} (${m.bytes.length} B)`).toBe(true));
    // the bytes before each buffer's first room and after its last message were never written
    for (const buf of buffers) {
      expect([...buf.subarray(0, 16)].every((b) => b === CANARY)).toBe(true);
      expect([...buf.subarray(buf.length - 16)].every((b) => b === CANARY)).toBe(true);
    }
    stream.end();
  });

  it("reads a server's padded frames and a response header block split over CONTINUATION frames", async () => {
    const url = await nodeServer((stream) => {
      // 40 KiB of response headers: more than one frame
      stream.respond({ ":status": 200, "content-type": "application/grpc", "x-big": "v".repeat(40_000) });
      stream.on("data", deframer((m) => stream.write(grpcFrame(m))));
    }, { paddingStrategy: http2.constants.PADDING_STRATEGY_MAX, settings: { maxHeaderListSize: 128 * 1024 } });
    const { stream } = dialChannel(url, {});
    const got: Buffer[] = [];
    stream.start((m) => got.push(Buffer.from(m)), () => {});
    for (let i = 0; i < 50; i++) stream.write(payload(30_000, i));
    await waitFor(() => got.length === 50, "echoes", 20_000);
    expect(got.every((m, i) => m.equals(payload(30_000, i)))).toBe(true);
    stream.destroy();
  });

  it("tells the stream why the connection failed (a refused connect)", async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const { stream } = dialChannel(new URL(`http://127.0.0.1:${port}`), {});
    let closed: SlimError | undefined;
    stream.start(() => {}, (err) => (closed = err));
    await waitFor(() => closed !== undefined, "closed");
    expect(closed!.message).toMatch(/ECONNREFUSED/);
  });

  it("reports a trailers-only UNAUTHENTICATED answer as an AUTH error with the server's message", async () => {
    const url = await nodeServer((stream) => {
      stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "16", "grpc-message": encodeURIComponent("no such token") }, { endStream: true });
    });
    const { stream } = dialChannel(url, {});
    let closed: SlimError | undefined;
    stream.start(() => {}, (err) => (closed = err));
    await waitFor(() => closed !== undefined, "closed");
    expect(closed!.code).toBe("AUTH");
    expect(closed!.message).toMatch(/no such token/);
  });
});

describe("keepalive", () => {
  /** A TCP peer that speaks just enough HTTP/2 to open a channel, then never answers a PING. */
  function deafPeer(sock: net.Socket, preface: boolean): void {
    const settings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
    if (preface) sock.write(Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"));
    sock.write(settings);
    sock.on("data", () => {});
    sock.on("error", () => {});
  }

  it("our client gives up a connection whose server does not answer PINGs, and says why", async () => {
    const server = net.createServer((sock) => deafPeer(sock, false));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const { stream, connection } = dialChannel(new URL(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`), {});
    let closed: SlimError | undefined;
    stream.start(() => {}, (err) => (closed = err));
    connection.keepalive(50, 100);
    await waitFor(() => closed !== undefined, "closed", 5_000);
    expect(closed!.message).toMatch(/keepalive/);
    expect(connection.closed).toBe(true);
  });

  it("our server closes a connection whose client does not answer PINGs; other connections stay", async () => {
    const channels: FrameStream[] = [];
    const server = createChannelServer({ keepalive: { timeMs: 50, timeoutMs: 100 }, onChannel: (s) => {
      channels.push(s);
      s.start((m) => s.write(Uint8Array.from(m)), () => {});
    } });
    const port = await server.listen(0, "127.0.0.1");
    cleanups.push(() => server.close());
    // a deaf client: preface, SETTINGS and one request, then silence
    const sock = net.connect(port, "127.0.0.1");
    cleanups.push(() => sock.destroy());
    deafPeer(sock, true);
    const block = encodeHeaders([[":method", "POST"], [":scheme", "http"], [":path", OPEN_CHANNEL_PATH], [":authority", "x"], ["content-type", "application/grpc"]]);
    const h = Buffer.alloc(9);
    h.writeUIntBE(block.length, 0, 3);
    h[3] = 1;
    h[4] = 4;
    h.writeUInt32BE(1, 5);
    sock.write(Buffer.concat([h, block]));
    const sockClosed = new Promise<void>((r) => sock.on("close", () => r()));
    // a live client meanwhile (ours answers PINGs)
    const { stream } = dialChannel(new URL(`http://127.0.0.1:${port}`), {});
    const got: string[] = [];
    stream.start((m) => got.push(Buffer.from(m).toString()), () => {});
    await sockClosed;
    stream.write(Buffer.from("alive"));
    await waitFor(() => got[0] !== undefined, "echo");
    expect(got).toEqual(["alive"]);
    expect(server.connections).toBe(1);
    stream.destroy();
  });
});

describe("our HTTP/2 server, broken and hostile peers", () => {
  const SETTINGS = frame(4, 0, 0, new Uint8Array(0));
  const requestBlock = encodeHeaders([[":method", "POST"], [":scheme", "http"], [":path", OPEN_CHANNEL_PATH], [":authority", "x"], ["content-type", "application/grpc"]]);

  /** Connect raw, send bytes, collect the frames the server sends until it closes (or `ms`). */
  async function raw(url: string, bytes: Buffer[], ms = 3_000) {
    const u = new URL(url);
    const sock = net.connect(Number(u.port), u.hostname);
    cleanups.push(() => sock.destroy());
    let buf = Buffer.alloc(0);
    sock.on("data", (d) => (buf = Buffer.concat([buf, d])));
    const closed = new Promise<boolean>((r) => {
      sock.on("close", () => r(true));
      setTimeout(() => r(false), ms);
    });
    sock.on("error", () => {});
    for (const b of bytes) sock.write(b);
    const didClose = await closed;
    const frames: Array<{ type: number; flags: number; id: number; body: Buffer }> = [];
    for (let p = 0; buf.length - p >= 9; ) {
      const len = buf.readUIntBE(p, 3);
      frames.push({ type: buf[p + 3]!, flags: buf[p + 4]!, id: buf.readUInt32BE(p + 5), body: buf.subarray(p + 9, p + 9 + len) });
      p += 9 + len;
    }
    return { didClose, frames };
  }
  const goawayCode = (frames: Array<{ type: number; body: Buffer }>) => frames.find((f) => f.type === 7)?.body.readUInt32BE(4);

  it("closes a connection that does not start with the preface, and keeps serving others", async () => {
    const channels: FrameStream[] = [];
    const { url } = await ourServer((s) => {
      channels.push(s);
      s.start((m) => s.write(Uint8Array.from(m)), () => {});
    });
    const r = await raw(url, [Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n")]);
    expect(r.didClose).toBe(true);
    // a well-behaved client on the same server still works
    const { stream } = dialChannel(new URL(url), {});
    const got: Buffer[] = [];
    stream.start((m) => got.push(Buffer.from(m)), () => {});
    stream.write(Buffer.from("still here"));
    await waitFor(() => got[0] !== undefined, "echo");
    expect(got[0]!.toString()).toBe("still here");
    stream.destroy();
  });

  it("closes a connection that opens no stream in time (GOAWAY PROTOCOL_ERROR)", async () => {
    const { server, url } = await ourServer(() => {}, undefined, 300);
    const r = await raw(url, [PREFACE, SETTINGS], 3_000);
    expect(r.didClose).toBe(true);
    expect(goawayCode(r.frames)).toBe(1);
    expect(server.connections).toBe(0);
  });

  it("answers an oversized frame with GOAWAY FRAME_SIZE_ERROR", async () => {
    const { url } = await ourServer(() => {});
    const r = await raw(url, [PREFACE, SETTINGS, frame(0, 0, 1, new Uint8Array(20_000))]);
    expect(r.didClose).toBe(true);
    expect(goawayCode(r.frames)).toBe(6);
  });

  it("answers a header block of CONTINUATION frames beyond 64 KiB with GOAWAY ENHANCE_YOUR_CALM", async () => {
    const { url } = await ourServer(() => {});
    const parts = [PREFACE, SETTINGS, frame(1, 0, 1, requestBlock)];
    for (let i = 0; i < 6; i++) parts.push(frame(9, 0, 1, new Uint8Array(16_000)));
    const r = await raw(url, parts);
    expect(r.didClose).toBe(true);
    expect(goawayCode(r.frames)).toBe(0xb);
  });

  it("answers a malformed header block with GOAWAY COMPRESSION_ERROR", async () => {
    const { url } = await ourServer(() => {});
    const r = await raw(url, [PREFACE, SETTINGS, frame(1, 4, 1, Uint8Array.from([0x80]))]);
    expect(goawayCode(r.frames)).toBe(9);
  });

  it("refuses streams beyond 100 at once with RST_STREAM REFUSED_STREAM", async () => {
    const { url } = await ourServer((s) => s.start(() => {}, () => {}));
    const parts = [PREFACE, SETTINGS];
    for (let i = 0; i < 101; i++) parts.push(frame(1, 4, 1 + 2 * i, requestBlock));
    const r = await raw(url, parts, 500);
    const refused = r.frames.filter((f) => f.type === 3 && f.body.readUInt32BE(0) === 7);
    expect(refused.map((f) => f.id)).toEqual([201]);
    expect(goawayCode(r.frames)).toBeUndefined();
  });

  it("ends a connection whose peer keeps opening and resetting streams (rapid reset) with ENHANCE_YOUR_CALM", async () => {
    let opened = 0;
    const { url } = await ourServer((s) => {
      opened++;
      s.start(() => {}, () => {});
    });
    const parts = [PREFACE, SETTINGS];
    const rst = new Uint8Array([0, 0, 0, 8]); // CANCEL
    for (let i = 0; i < 1_100; i++) parts.push(frame(1, 4, 1 + 2 * i, requestBlock), frame(3, 0, 1 + 2 * i, rst));
    const r = await raw(url, parts, 3_000);
    expect(r.didClose).toBe(true);
    expect(goawayCode(r.frames)).toBe(0xb);
    expect(opened).toBeLessThanOrEqual(1_001);
  });

  it("answers DATA beyond the stream window with RST_STREAM FLOW_CONTROL_ERROR on that stream only", async () => {
    const { url } = await ourServer((s) => {
      s.pause();
      s.start(() => {}, () => {});
    });
    const parts = [PREFACE, SETTINGS, frame(1, 4, 1, requestBlock)];
    // 4 MiB window: 257 full frames of 16 KiB overrun it
    for (let i = 0; i < 257; i++) parts.push(frame(0, 0, 1, new Uint8Array(16_384)));
    const r = await raw(url, parts, 1_000);
    expect(r.frames.some((f) => f.type === 3 && f.id === 1 && f.body.readUInt32BE(0) === 3)).toBe(true);
    expect(goawayCode(r.frames)).toBeUndefined();
  });
});
