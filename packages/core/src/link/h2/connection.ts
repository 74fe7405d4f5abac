// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// One HTTP/2 connection (RFC 9113) on a socket, either role, as much of HTTP/2 as
// a gRPC bidi stream needs: frames, SETTINGS, HPACK, flow control both ways,
// PING, RST_STREAM and GOAWAY. No push, no priorities (parsed and ignored).
//
// Why not node:http2: a link carries many small messages, often one per socket
// read (official apps send each message on its own). Through nghttp2 each DATA
// frame crosses from C++ into a JS Readable and every write back again; here a
// socket read is parsed in place and every frame written in one event-loop turn
// leaves in one socket write.

import type { Socket } from "node:net";
import { DEFAULT_PEER_SETTINGS, Flag, FrameType, H2Code, H2ProtocolError, HeaderBlockReader, Setting, readU32, unpad, type HeaderBlock } from "./frames.js";
import { HpackDecoder, HpackError, type HeaderList } from "./hpack.js";
import { PeerBudget } from "./peer-budget.js";
import { H2Stream } from "./stream.js";
import { EMPTY, FrameWriter } from "./writer.js";

export { H2Stream, type H2StreamEvents } from "./stream.js";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
/** Largest frame payload we accept (the protocol default; we do not raise it). */
const MAX_FRAME = 16_384;
const MAX_HEADER_BLOCK = 64 * 1024;
const MAX_WINDOW = 0x7fff_ffff;

export interface H2Limits {
  /** Receive window we grant per stream and per connection. */
  streamWindow: number;
  connectionWindow: number;
  maxConcurrentStreams: number;
  maxHeaderListSize: number;
  /** A server connection must open a stream, a client's peer must send SETTINGS, within this time. */
  openTimeoutMs: number;
}

export const DEFAULT_H2_LIMITS: H2Limits = {
  streamWindow: 4 * 1024 * 1024,
  connectionWindow: 32 * 1024 * 1024,
  maxConcurrentStreams: 100,
  maxHeaderListSize: 64 * 1024,
  openTimeoutMs: 10_000,
};

export interface H2ConnectionEvents {
  /** Server role: a request arrived. Attach events with `stream.bind()` or reject with `stream.reset()`. */
  onRequest?(stream: H2Stream, headers: HeaderList, endStream: boolean): void;
  onClose?(err: Error | undefined): void;
}

export class H2Connection {
  private readonly streams = new Map<number, H2Stream>();
  /** The peer's SETTINGS_INITIAL_WINDOW_SIZE (its frame size limit is the writer's). */
  private peerInitialWindow = DEFAULT_PEER_SETTINGS.initialWindowSize;
  private sendWindow = 65_535;
  private recvWindow: number;
  private unackedConn = 0;
  private readonly decoder: HpackDecoder;
  private inbuf: Buffer | undefined;
  private prefaceSeen: boolean;
  private settingsSeen = false;
  private readonly blocks = new HeaderBlockReader(MAX_HEADER_BLOCK);
  private lastPeerStream = 0;
  private readonly budget = new PeerBudget();
  private socketError: Error | undefined;
  private nextLocalStream = 1;
  readonly writer = new FrameWriter(() => this.flush());
  private readonly dirty = new Set<H2Stream>();
  private closedFlag = false;
  private goingAway = false;
  private pingWaiters: Array<() => void> = [];
  private prefaceTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    readonly role: "client" | "server",
    private readonly events: H2ConnectionEvents = {},
    private readonly limits: H2Limits = DEFAULT_H2_LIMITS,
  ) {
    this.recvWindow = limits.connectionWindow;
    this.decoder = new HpackDecoder({ maxTableSize: 4096, maxListSize: limits.maxHeaderListSize });
    this.prefaceSeen = role === "client";
    socket.on("data", (chunk: Buffer) => this.onSocketData(chunk));
    // the socket's own error (refused, reset, a TLS failure) is what the streams are told on close
    socket.on("error", (err: Error) => (this.socketError ??= err));
    socket.on("close", () => this.onSocketClose());
    if (role === "client") this.writer.raw(PREFACE);
    const settings: Array<[number, number]> = [
      [Setting.INITIAL_WINDOW_SIZE, limits.streamWindow],
      [Setting.MAX_HEADER_LIST_SIZE, limits.maxHeaderListSize],
    ];
    if (role === "client") settings.push([Setting.ENABLE_PUSH, 0]);
    else settings.push([Setting.MAX_CONCURRENT_STREAMS, limits.maxConcurrentStreams]);
    this.writer.settings(settings);
    if (limits.connectionWindow > 65_535) this.writer.windowUpdate(0, limits.connectionWindow - 65_535);
    // a server connection must open a stream soon (official clients open theirs at once), a client's get SETTINGS
    const what = role === "server" ? "no request" : "no SETTINGS";
    this.prefaceTimer = setTimeout(() => this.fail(H2Code.PROTOCOL_ERROR, `${what} within ${limits.openTimeoutMs} ms`), limits.openTimeoutMs);
    this.prefaceTimer.unref();
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  get socketBuffered(): number {
    return this.writer.buffered + this.socket.writableLength;
  }

  get remoteAddress(): string {
    return `${this.socket.remoteAddress ?? "?"}:${this.socket.remotePort ?? "?"}`;
  }

  // ---- public operations ----------------------------------------------------

  /** Client role: open a stream with request headers. */
  request(headers: HeaderList): H2Stream {
    const id = this.nextLocalStream;
    this.nextLocalStream += 2;
    const s = new H2Stream(id, this, this.peerInitialWindow, this.limits.streamWindow);
    if (this.closedFlag) {
      queueMicrotask(() => s.gone(undefined, "connection closed"));
      return s;
    }
    this.streams.set(id, s);
    this.writer.headers(id, headers, false);
    return s;
  }

  /** PING the peer; `cb` runs when the answer arrives. */
  ping(cb: () => void): void {
    if (this.closedFlag) return;
    this.pingWaiters.push(cb);
    const p = new Uint8Array(8);
    this.writer.frame(FrameType.PING, 0, 0, p);
  }

  /** PING every `timeMs`; a peer that does not answer within `timeoutMs` loses the connection. */
  keepalive(timeMs: number, timeoutMs: number): void {
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = setInterval(() => {
      const deadline = setTimeout(() => this.destroy(new Error("keepalive ping timed out")), timeoutMs);
      deadline.unref();
      this.ping(() => clearTimeout(deadline));
    }, timeMs);
    this.keepaliveTimer.unref();
  }

  /** GOAWAY, then close the socket once what is queued has been written. */
  close(): void {
    if (this.closedFlag || this.goingAway) return;
    this.goingAway = true;
    this.writer.goaway(this.lastPeerStream, H2Code.NO_ERROR, "");
    this.flush();
    this.socket.end();
  }

  destroy(err?: Error): void {
    if (this.closedFlag) return;
    this.socket.destroy();
    this.finish(err);
  }

  // ---- inbound --------------------------------------------------------------

  private onSocketData(chunk: Buffer): void {
    if (this.closedFlag) return;
    let buf = this.inbuf === undefined ? chunk : Buffer.concat([this.inbuf, chunk]);
    this.inbuf = undefined;
    try {
      if (!this.prefaceSeen) {
        const n = Math.min(buf.length, PREFACE.length);
        if (!buf.subarray(0, n).equals(PREFACE.subarray(0, n))) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "not an HTTP/2 connection preface");
        if (buf.length < PREFACE.length) {
          this.inbuf = buf;
          return;
        }
        this.prefaceSeen = true;
        buf = buf.subarray(PREFACE.length);
      }
      let pos = 0;
      while (buf.length - pos >= 9 && !this.closedFlag) {
        const len = (buf[pos]! << 16) | (buf[pos + 1]! << 8) | buf[pos + 2]!;
        if (len > MAX_FRAME) throw new H2ProtocolError(H2Code.FRAME_SIZE_ERROR, `frame of ${len} bytes exceeds ${MAX_FRAME}`);
        if (buf.length - pos < 9 + len) break;
        const type = buf[pos + 3]!;
        const flags = buf[pos + 4]!;
        const streamId = buf.readUInt32BE(pos + 5) & 0x7fff_ffff;
        const payload = buf.subarray(pos + 9, pos + 9 + len);
        pos += 9 + len;
        this.onFrame(type, flags, streamId, payload);
      }
      if (pos < buf.length && !this.closedFlag) this.inbuf = Buffer.from(buf.subarray(pos));
    } catch (err) {
      if (err instanceof H2ProtocolError) return this.fail(err.code, err.message);
      if (err instanceof HpackError) return this.fail(H2Code.COMPRESSION_ERROR, err.message);
      // a fault in whoever handled a message: this connection ends, the process and other links go on
      this.fail(H2Code.INTERNAL_ERROR, `internal error: ${(err as Error).message}`);
    }
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Uint8Array): void {
    if (!this.settingsSeen && !(type === FrameType.SETTINGS && (flags & Flag.ACK) === 0)) {
      throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "the first frame must be SETTINGS");
    }
    if (this.blocks.open && type !== FrameType.CONTINUATION) {
      throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "header block interrupted");
    }
    switch (type) {
      case FrameType.DATA:
        return this.onData(flags, streamId, payload);
      case FrameType.HEADERS:
        return this.onHeaderBlock(this.blocks.headers(flags, streamId, payload));
      case FrameType.CONTINUATION:
        return this.onHeaderBlock(this.blocks.continuation(flags, streamId, payload));
      case FrameType.RST_STREAM: {
        if (streamId === 0 || payload.length !== 4) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "malformed RST_STREAM");
        const s = this.streams.get(streamId);
        if (s !== undefined) this.closeStream(s, readU32(payload, 0), "reset by the peer", true);
        this.budget.reset(); // opening and resetting streams in a loop costs us far more than the peer
        return;
      }
      case FrameType.SETTINGS:
        return this.onSettings(flags, streamId, payload);
      case FrameType.PING:
        if (streamId !== 0 || payload.length !== 8) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "malformed PING");
        if (flags & Flag.ACK) this.pingWaiters.shift()?.();
        else {
          this.owe();
          this.writer.frame(FrameType.PING, Flag.ACK, 0, Uint8Array.from(payload));
        }
        return;
      case FrameType.GOAWAY:
        if (streamId !== 0 || payload.length < 8) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "malformed GOAWAY");
        this.goingAway = true;
        for (const s of [...this.streams.values()]) this.closeStream(s, undefined, `the peer is going away (code ${readU32(payload, 4)})`, true);
        this.socket.end();
        return;
      case FrameType.WINDOW_UPDATE:
        return this.onWindowUpdate(streamId, payload);
      case FrameType.PUSH_PROMISE:
        throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "push is disabled");
      case FrameType.PRIORITY:
        if (streamId === 0 || payload.length !== 5) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "malformed PRIORITY");
        return;
      default:
        return; // unknown frame types are ignored
    }
  }

  private onData(flags: number, streamId: number, payload: Uint8Array): void {
    if (streamId === 0) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "DATA on stream 0");
    this.recvWindow -= payload.length;
    if (this.recvWindow < 0) throw new H2ProtocolError(H2Code.FLOW_CONTROL_ERROR, "the peer overran the connection window");
    const data = unpad(flags, payload);
    const pad = payload.length - data.length;
    const s = this.streams.get(streamId);
    if (s === undefined || s.remoteEnded) {
      // a stream already closed here: its bytes still count against the connection
      this.creditConnection(payload.length);
      if (s === undefined && streamId > this.lastPeerStream && (streamId & 1) === (this.role === "server" ? 1 : 0)) {
        throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "DATA on an idle stream");
      }
      this.owe();
      this.writer.reset(streamId, H2Code.STREAM_CLOSED);
      return;
    }
    s.recvWindow -= payload.length;
    if (s.recvWindow < 0) {
      this.creditConnection(payload.length);
      s.reset(H2Code.FLOW_CONTROL_ERROR);
      return;
    }
    if (pad > 0) {
      s.padding(pad);
      this.creditConnection(pad);
    }
    s.receive(data, (flags & Flag.END_STREAM) !== 0);
  }

  private onHeaderBlock(b: HeaderBlock | undefined): void {
    if (b === undefined) return; // CONTINUATION frames to come
    // decoded even for a stream we refuse: the decoder's table must see every block
    const headers = this.decoder.decode(b.block);
    const s = this.streams.get(b.streamId);
    if (s !== undefined) {
      if (s.remoteEnded) throw new H2ProtocolError(H2Code.STREAM_CLOSED, "HEADERS after END_STREAM");
      s.headers(headers, b.endStream);
      return;
    }
    if (this.role === "client") {
      if (b.streamId >= this.nextLocalStream || (b.streamId & 1) === 0) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "HEADERS on an idle stream");
      return; // a stream we already closed
    }
    if ((b.streamId & 1) === 0 || b.streamId <= this.lastPeerStream) {
      throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "HEADERS on a closed or server-initiated stream id");
    }
    this.lastPeerStream = b.streamId;
    clearTimeout(this.prefaceTimer);
    if (this.goingAway || this.streams.size >= this.limits.maxConcurrentStreams) {
      this.owe();
      this.writer.reset(b.streamId, H2Code.REFUSED_STREAM);
      return;
    }
    const st = new H2Stream(b.streamId, this, this.peerInitialWindow, this.limits.streamWindow);
    this.streams.set(b.streamId, st);
    if (b.endStream) st.remoteEnded = true;
    if (this.events.onRequest === undefined) st.reset(H2Code.REFUSED_STREAM);
    else this.events.onRequest(st, headers, b.endStream);
  }

  private onSettings(flags: number, streamId: number, payload: Uint8Array): void {
    if (streamId !== 0) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "SETTINGS on a stream");
    if (flags & Flag.ACK) {
      if (payload.length !== 0) throw new H2ProtocolError(H2Code.FRAME_SIZE_ERROR, "SETTINGS ACK with a payload");
      return;
    }
    if (payload.length % 6 !== 0) throw new H2ProtocolError(H2Code.FRAME_SIZE_ERROR, "malformed SETTINGS");
    this.settingsSeen = true;
    if (this.role === "client") clearTimeout(this.prefaceTimer);
    for (let i = 0; i < payload.length; i += 6) {
      const id = (payload[i]! << 8) | payload[i + 1]!;
      const value = readU32(payload, i + 2);
      switch (id) {
        case Setting.INITIAL_WINDOW_SIZE: {
          if (value > MAX_WINDOW) throw new H2ProtocolError(H2Code.FLOW_CONTROL_ERROR, "INITIAL_WINDOW_SIZE too large");
          const delta = value - this.peerInitialWindow;
          this.peerInitialWindow = value;
          for (const s of this.streams.values()) {
            s.sendWindow += delta;
            if (s.sendWindow > MAX_WINDOW) throw new H2ProtocolError(H2Code.FLOW_CONTROL_ERROR, "stream window overflow");
            if (delta > 0) this.schedule(s);
          }
          break;
        }
        case Setting.MAX_FRAME_SIZE:
          if (value < 16_384 || value > 16_777_215) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "invalid MAX_FRAME_SIZE");
          this.writer.maxFrameSize = value;
          break;
        case Setting.HEADER_TABLE_SIZE:
          this.writer.peerTableSize(value);
          break;
        case Setting.ENABLE_PUSH:
          if (value > 1) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "invalid ENABLE_PUSH");
          break;
        default:
          break; // concurrency and list size: nothing to do
      }
    }
    this.owe();
    this.writer.frame(FrameType.SETTINGS, Flag.ACK, 0, EMPTY);
  }

  /** We are about to answer one of the peer's frames (see PeerBudget). */
  private owe(): void {
    this.budget.answer(this.socket.writableLength === 0 && this.writer.buffered < 64 * 1024);
  }

  private onWindowUpdate(streamId: number, payload: Uint8Array): void {
    if (payload.length !== 4) throw new H2ProtocolError(H2Code.FRAME_SIZE_ERROR, "malformed WINDOW_UPDATE");
    const inc = readU32(payload, 0) & 0x7fff_ffff;
    if (streamId === 0) {
      if (inc === 0) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "WINDOW_UPDATE of 0");
      this.sendWindow += inc;
      if (this.sendWindow > MAX_WINDOW) throw new H2ProtocolError(H2Code.FLOW_CONTROL_ERROR, "connection window overflow");
      for (const s of this.streams.values()) if (s.queuedBytes > 0 || s.trailers !== undefined) this.schedule(s);
      return;
    }
    const s = this.streams.get(streamId);
    if (s === undefined) return;
    if (inc === 0 || s.sendWindow + inc > MAX_WINDOW) return s.reset(inc === 0 ? H2Code.PROTOCOL_ERROR : H2Code.FLOW_CONTROL_ERROR);
    s.sendWindow += inc;
    this.schedule(s);
  }

  /** Received bytes were delivered: give credit back in large steps. */
  credit(s: H2Stream, n: number): void {
    const streamCredit = s.takeCredit(this.limits.streamWindow >>> 2);
    if (streamCredit > 0) this.writer.windowUpdate(s.id, streamCredit);
    this.creditConnection(n);
  }

  private creditConnection(n: number): void {
    this.unackedConn += n;
    if (this.unackedConn >= this.limits.connectionWindow >>> 2) {
      this.recvWindow += this.unackedConn;
      this.writer.windowUpdate(0, this.unackedConn);
      this.unackedConn = 0;
    }
  }

  // ---- outbound -------------------------------------------------------------

  schedule(s: H2Stream): void {
    this.dirty.add(s);
    this.writer.schedule();
  }

  /** Move queued stream data into DATA frames as the windows allow, then write everything in one go. */
  private flush(): void {
    if (this.closedFlag) return;
    const drained: H2Stream[] = [];
    for (const s of this.dirty) {
      if (s.closed) {
        this.dirty.delete(s);
        continue;
      }
      const hadData = s.queuedBytes > 0;
      this.sendWindow -= this.writer.data(s, this.sendWindow);
      if (s.queuedBytes === 0) {
        this.dirty.delete(s);
        if (s.trailers !== undefined && !s.localEnded) {
          const t = s.trailers;
          if (t.length === 0) this.writer.frame(FrameType.DATA, Flag.END_STREAM, s.id, EMPTY);
          else this.writer.headers(s.id, t, true);
          this.endedLocally(s);
        }
      }
      if (hadData) drained.push(s);
    }
    const bytes = this.writer.take();
    if (bytes === undefined) return;
    const notify = drained.length === 0 ? undefined : () => {
      for (const s of drained) for (const cb of s.drainListeners) cb();
    };
    this.socket.write(bytes, notify);
  }

  // ---- teardown -------------------------------------------------------------

  /**
   * Our side of a stream has ended. A server whose response is complete tells a
   * client still sending to stop (RST_STREAM NO_ERROR, RFC 9113 §8.1) and forgets it.
   */
  endedLocally(s: H2Stream): void {
    s.localEnded = true;
    if (this.role === "server" && !s.remoteEnded) {
      this.writer.reset(s.id, H2Code.NO_ERROR);
      this.closeStream(s, undefined, "stream complete", false);
      return;
    }
    this.maybeForget(s);
  }

  /** Drop a stream both sides have ended. */
  maybeForget(s: H2Stream): void {
    if (s.localEnded && s.remoteEnded) this.closeStream(s, undefined, "stream complete", false);
  }

  closeStream(s: H2Stream, code: number | undefined, reason: string, byPeer: boolean): void {
    this.streams.delete(s.id);
    this.dirty.delete(s);
    s.gone(byPeer ? code : undefined, reason);
    // a client connection exists for its streams: the last one gone closes it
    if (this.role === "client" && this.streams.size === 0) this.close();
  }

  /** A connection error: GOAWAY with the code, then close. */
  private fail(code: number, reason: string): void {
    if (this.closedFlag) return;
    // the GOAWAY is the last word: no stream data, trailers or graceful GOAWAY after it
    this.goingAway = true;
    this.dirty.clear();
    this.writer.goaway(this.lastPeerStream, code, reason);
    this.flush();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1_000).unref();
    this.finish(new H2ProtocolError(code, reason));
  }

  private onSocketClose(): void {
    this.finish(this.socketError);
  }

  private finish(err: Error | undefined): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    clearTimeout(this.prefaceTimer);
    clearInterval(this.keepaliveTimer);
    this.inbuf = undefined;
    const reason = err?.message ?? "connection closed";
    for (const s of [...this.streams.values()]) this.closeStream(s, undefined, reason, false);
    this.writer.discard();
    this.pingWaiters = [];
    this.events.onClose?.(err);
  }
}
