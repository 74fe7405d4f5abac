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
import { FrameType, Flag, H2Code, Setting, frameHeader, H2ProtocolError, type PeerSettings, DEFAULT_PEER_SETTINGS } from "./frames.js";
import { HpackDecoder, HpackError, encodeHeaders, type HeaderList } from "./hpack.js";
import { H2Stream } from "./stream.js";

export { H2Stream, type H2StreamEvents } from "./stream.js";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
/** Largest frame payload we accept (the protocol default; we do not raise it). */
const MAX_FRAME = 16_384;
const MAX_HEADER_BLOCK = 64 * 1024;
const MAX_WINDOW = 0x7fff_ffff;
/** Streams a peer may reset over a connection's life: a link uses one stream per connection. */
const MAX_PEER_RESETS = 1_000;

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
  private peer: PeerSettings = { ...DEFAULT_PEER_SETTINGS };
  private sendWindow = 65_535;
  private recvWindow: number;
  private unackedConn = 0;
  private readonly decoder: HpackDecoder;
  private inbuf: Buffer | undefined;
  private prefaceSeen: boolean;
  private settingsSeen = false;
  /** Header block being assembled from HEADERS + CONTINUATION. */
  private block: { streamId: number; endStream: boolean; parts: Uint8Array[]; bytes: number } | undefined;
  private lastPeerStream = 0;
  private peerResets = 0;
  private socketError: Error | undefined;
  /** The dynamic table size our encoder announces (it never inserts): 4096 until the peer asks for less. */
  private encoderTableSize = 4096;
  /** A table size update owed at the start of the next header block we send. */
  private tableSizeUpdate: number | undefined;
  private nextLocalStream = 1;
  private out: Uint8Array[] = [];
  private outBytes = 0;
  private flushQueued = false;
  private readonly dirty = new Set<H2Stream>();
  private closedFlag = false;
  private goingAway = false;
  private pingWaiters: Array<() => void> = [];
  private prefaceTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private readonly flushNow = () => this.flush();
  /** A microtask flush already ran this event-loop turn (cleared when the turn ends). */
  private flushedThisTurn = false;
  private readonly endTurn = () => {
    this.flushedThisTurn = false;
  };

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
    if (role === "client") this.push(PREFACE);
    const settings: Array<[number, number]> = [
      [Setting.INITIAL_WINDOW_SIZE, limits.streamWindow],
      [Setting.MAX_HEADER_LIST_SIZE, limits.maxHeaderListSize],
    ];
    if (role === "client") settings.push([Setting.ENABLE_PUSH, 0]);
    else settings.push([Setting.MAX_CONCURRENT_STREAMS, limits.maxConcurrentStreams]);
    this.writeSettings(settings);
    if (limits.connectionWindow > 65_535) this.writeWindowUpdate(0, limits.connectionWindow - 65_535);
    // a server connection must open a stream soon (official clients open theirs at once), a client's get SETTINGS
    const what = role === "server" ? "no request" : "no SETTINGS";
    this.prefaceTimer = setTimeout(() => this.fail(H2Code.PROTOCOL_ERROR, `${what} within ${limits.openTimeoutMs} ms`), limits.openTimeoutMs);
    this.prefaceTimer.unref();
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  get socketBuffered(): number {
    return this.outBytes + this.socket.writableLength;
  }

  get remoteAddress(): string {
    return `${this.socket.remoteAddress ?? "?"}:${this.socket.remotePort ?? "?"}`;
  }

  // ---- public operations ----------------------------------------------------

  /** Client role: open a stream with request headers. */
  request(headers: HeaderList): H2Stream {
    const id = this.nextLocalStream;
    this.nextLocalStream += 2;
    const s = new H2Stream(id, this, this.peer.initialWindowSize, this.limits.streamWindow);
    if (this.closedFlag) {
      queueMicrotask(() => s.gone(undefined, "connection closed"));
      return s;
    }
    this.streams.set(id, s);
    this.writeHeaders(id, headers, false);
    return s;
  }

  /** PING the peer; `cb` runs when the answer arrives. */
  ping(cb: () => void): void {
    if (this.closedFlag) return;
    this.pingWaiters.push(cb);
    const p = new Uint8Array(8);
    this.writeFrame(FrameType.PING, 0, 0, p);
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
    this.writeGoaway(H2Code.NO_ERROR, "");
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
    if (this.block !== undefined && type !== FrameType.CONTINUATION) {
      throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "header block interrupted");
    }
    switch (type) {
      case FrameType.DATA:
        return this.onData(flags, streamId, payload);
      case FrameType.HEADERS:
        return this.onHeaders(flags, streamId, payload);
      case FrameType.CONTINUATION:
        return this.onContinuation(flags, streamId, payload);
      case FrameType.RST_STREAM: {
        if (streamId === 0 || payload.length !== 4) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "malformed RST_STREAM");
        const s = this.streams.get(streamId);
        if (s !== undefined) this.closeStream(s, readU32(payload, 0), "reset by the peer", true);
        // opening and resetting streams in a loop costs us far more than the peer ("rapid reset")
        if (++this.peerResets > MAX_PEER_RESETS) throw new H2ProtocolError(H2Code.ENHANCE_YOUR_CALM, "too many streams reset by the peer");
        return;
      }
      case FrameType.SETTINGS:
        return this.onSettings(flags, streamId, payload);
      case FrameType.PING:
        if (streamId !== 0 || payload.length !== 8) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "malformed PING");
        if (flags & Flag.ACK) this.pingWaiters.shift()?.();
        else this.writeFrame(FrameType.PING, Flag.ACK, 0, Uint8Array.from(payload));
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
      this.writeReset(streamId, H2Code.STREAM_CLOSED);
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

  private onHeaders(flags: number, streamId: number, payload: Uint8Array): void {
    if (streamId === 0) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "HEADERS on stream 0");
    let frag = unpad(flags, payload);
    if (flags & Flag.PRIORITY) {
      if (frag.length < 5) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "malformed HEADERS priority");
      frag = frag.subarray(5);
    }
    this.block = { streamId, endStream: (flags & Flag.END_STREAM) !== 0, parts: [frag], bytes: frag.length };
    if (flags & Flag.END_HEADERS) this.onHeaderBlock();
  }

  private onContinuation(flags: number, streamId: number, payload: Uint8Array): void {
    const b = this.block;
    if (b === undefined || b.streamId !== streamId) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "unexpected CONTINUATION");
    b.bytes += payload.length;
    if (b.bytes > MAX_HEADER_BLOCK) throw new H2ProtocolError(H2Code.ENHANCE_YOUR_CALM, "header block too large");
    b.parts.push(payload);
    if (flags & Flag.END_HEADERS) this.onHeaderBlock();
  }

  private onHeaderBlock(): void {
    const b = this.block!;
    this.block = undefined;
    const block = b.parts.length === 1 ? b.parts[0]! : Buffer.concat(b.parts);
    // decoded even for a stream we refuse: the decoder's table must see every block
    const headers = this.decoder.decode(block);
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
      this.writeReset(b.streamId, H2Code.REFUSED_STREAM);
      return;
    }
    const st = new H2Stream(b.streamId, this, this.peer.initialWindowSize, this.limits.streamWindow);
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
          const delta = value - this.peer.initialWindowSize;
          this.peer.initialWindowSize = value;
          for (const s of this.streams.values()) {
            s.sendWindow += delta;
            if (s.sendWindow > MAX_WINDOW) throw new H2ProtocolError(H2Code.FLOW_CONTROL_ERROR, "stream window overflow");
            if (delta > 0) this.schedule(s);
          }
          break;
        }
        case Setting.MAX_FRAME_SIZE:
          if (value < 16_384 || value > 16_777_215) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "invalid MAX_FRAME_SIZE");
          this.peer.maxFrameSize = value;
          break;
        case Setting.HEADER_TABLE_SIZE:
          // our encoder never indexes, but a decoder that shrank its table expects to be told
          if (value < this.encoderTableSize) this.encoderTableSize = this.tableSizeUpdate = value;
          break;
        case Setting.ENABLE_PUSH:
          if (value > 1) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "invalid ENABLE_PUSH");
          break;
        default:
          break; // concurrency and list size: nothing to do
      }
    }
    this.writeFrame(FrameType.SETTINGS, Flag.ACK, 0, EMPTY);
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
    if (streamCredit > 0) this.writeWindowUpdate(s.id, streamCredit);
    this.creditConnection(n);
  }

  private creditConnection(n: number): void {
    this.unackedConn += n;
    if (this.unackedConn >= this.limits.connectionWindow >>> 2) {
      this.recvWindow += this.unackedConn;
      this.writeWindowUpdate(0, this.unackedConn);
      this.unackedConn = 0;
    }
  }

  // ---- outbound -------------------------------------------------------------

  schedule(s: H2Stream): void {
    this.dirty.add(s);
    this.queueFlush();
  }

  /**
   * The first write of an event-loop turn leaves at the end of the current microtask
   * queue (lowest latency); writes later in the same turn wait for the turn to end
   * (setImmediate) and leave together. A producer whose messages each finish in a
   * separate microtask chain (sealing, awaited sends) would otherwise cost one socket
   * write per message.
   */
  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    if (this.flushedThisTurn) setImmediate(this.flushNow);
    else {
      this.flushedThisTurn = true;
      setImmediate(this.endTurn);
      queueMicrotask(this.flushNow);
    }
  }

  private push(bytes: Uint8Array): void {
    this.out.push(bytes);
    this.outBytes += bytes.length;
    this.queueFlush();
  }

  writeFrame(type: number, flags: number, streamId: number, payload: Uint8Array): void {
    if (this.closedFlag) return;
    this.push(frameHeader(payload.length, type, flags, streamId));
    if (payload.length > 0) this.push(payload);
  }

  writeHeaders(streamId: number, headers: HeaderList, endStream: boolean): void {
    const block = encodeHeaders(headers, this.tableSizeUpdate);
    this.tableSizeUpdate = undefined;
    const max = this.peer.maxFrameSize;
    let off = 0;
    let first = true;
    do {
      const part = block.subarray(off, off + max);
      off += part.length;
      const last = off >= block.length;
      const type = first ? FrameType.HEADERS : FrameType.CONTINUATION;
      const flags = (first && endStream ? Flag.END_STREAM : 0) | (last ? Flag.END_HEADERS : 0);
      this.writeFrame(type, flags, streamId, part);
      first = false;
    } while (off < block.length);
  }

  writeReset(streamId: number, code: number): void {
    const p = new Uint8Array(4);
    writeU32(p, 0, code);
    this.writeFrame(FrameType.RST_STREAM, 0, streamId, p);
  }

  private writeWindowUpdate(streamId: number, inc: number): void {
    const p = new Uint8Array(4);
    writeU32(p, 0, inc);
    this.writeFrame(FrameType.WINDOW_UPDATE, 0, streamId, p);
  }

  private writeSettings(settings: Array<[number, number]>): void {
    const p = new Uint8Array(settings.length * 6);
    settings.forEach(([id, v], i) => {
      p[i * 6] = id >>> 8;
      p[i * 6 + 1] = id & 0xff;
      writeU32(p, i * 6 + 2, v);
    });
    this.writeFrame(FrameType.SETTINGS, 0, 0, p);
  }

  private writeGoaway(code: number, debug: string): void {
    const d = Buffer.from(debug.slice(0, 200), "utf8");
    const p = new Uint8Array(8 + d.length);
    writeU32(p, 0, this.lastPeerStream);
    writeU32(p, 4, code);
    p.set(d, 8);
    this.writeFrame(FrameType.GOAWAY, 0, 0, p);
  }

  /** Move queued stream data into DATA frames as the windows allow, then write everything in one go. */
  private flush(): void {
    this.flushQueued = false;
    if (this.closedFlag) return;
    const drained: H2Stream[] = [];
    for (const s of this.dirty) {
      if (s.closed) {
        this.dirty.delete(s);
        continue;
      }
      const hadData = s.queuedBytes > 0;
      this.frameData(s);
      if (s.queuedBytes === 0) {
        this.dirty.delete(s);
        if (s.trailers !== undefined && !s.localEnded) {
          const t = s.trailers;
          if (t.length === 0) this.writeFrame(FrameType.DATA, Flag.END_STREAM, s.id, EMPTY);
          else this.writeHeaders(s.id, t, true);
          this.endedLocally(s);
        }
      }
      if (hadData) drained.push(s);
    }
    if (this.out.length === 0) return;
    const bytes = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out, this.outBytes);
    this.out = [];
    this.outBytes = 0;
    const notify = drained.length === 0 ? undefined : () => {
      for (const s of drained) for (const cb of s.drainListeners) cb();
    };
    this.socket.write(bytes, notify);
  }

  private frameData(s: H2Stream): void {
    const max = this.peer.maxFrameSize;
    while (s.queuedBytes > 0) {
      const room = Math.min(s.sendWindow, this.sendWindow, max);
      if (room <= 0) return;
      const n = Math.min(room, s.queuedBytes);
      this.push(frameHeader(n, FrameType.DATA, 0, s.id));
      // walk the queue by index: shifting a long array one entry at a time is quadratic
      const q = s.queue;
      let i = 0;
      let left = n;
      while (left > 0) {
        const head = q[i]!;
        if (head.length <= left) {
          this.push(head);
          i++;
          left -= head.length;
        } else {
          this.push(head.subarray(0, left));
          q[i] = head.subarray(left);
          left = 0;
        }
      }
      if (i === q.length) q.length = 0;
      else q.splice(0, i);
      s.queuedBytes -= n;
      s.sendWindow -= n;
      this.sendWindow -= n;
    }
  }

  // ---- teardown -------------------------------------------------------------

  /**
   * Our side of a stream has ended. A server whose response is complete tells a
   * client still sending to stop (RST_STREAM NO_ERROR, RFC 9113 §8.1) and forgets it.
   */
  endedLocally(s: H2Stream): void {
    s.localEnded = true;
    if (this.role === "server" && !s.remoteEnded) {
      this.writeReset(s.id, H2Code.NO_ERROR);
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
    this.writeGoaway(code, reason);
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
    this.out = [];
    this.outBytes = 0;
    this.pingWaiters = [];
    this.events.onClose?.(err);
  }
}

const EMPTY = new Uint8Array(0);

function unpad(flags: number, payload: Uint8Array): Uint8Array {
  if ((flags & Flag.PADDED) === 0) return payload;
  if (payload.length < 1) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "padded frame without a pad length");
  const pad = payload[0]!;
  if (pad >= payload.length) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "padding exceeds the frame");
  return payload.subarray(1, payload.length - pad);
}

function readU32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

function writeU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}
