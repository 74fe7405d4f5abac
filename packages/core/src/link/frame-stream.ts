// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// gRPC message framing over one HTTP/2 stream: 1 flag byte, 4-byte big-endian
// length, the message. Outbound messages written in the same tick are coalesced
// into one DATA write (gRPC framing is a byte stream, so this is plain gRPC on
// the wire) — the main reason this transport is several times cheaper per
// message than a generic gRPC library. (node:http2 itself then sends the writes
// of one event-loop turn in one socket write.)

import type { Http2Stream } from "node:http2";
import { SlimError } from "../errors.js";

export const GRPC_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** A bidirectional stream of whole gRPC messages. */
export interface FrameStream {
  /** Set the message and close handlers (once, before data flows). */
  start(onMessage: (bytes: Uint8Array) => void, onClose: (err: SlimError) => void): void;
  /** Queue one message; false when it cannot be queued (closed, or too large). */
  write(bytes: Uint8Array): boolean;
  /** Bytes queued and not yet handed to the socket. */
  readonly bufferedBytes: number;
  /** Finish the stream cleanly (gRPC status OK). */
  end(): void;
  /** Tear the stream down now. */
  destroy(reason?: string): void;
  /** Stop / restart reading (HTTP/2 flow control then slows the sender down). */
  pause(): void;
  resume(): void;
  /** Called whenever queued output shrinks (after a write that filled the socket drains). */
  onDrain(cb: () => void): void;
  readonly remote: string;
}

export class Http2FrameStream implements FrameStream {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  /** Body length of the message being read, or -1 while reading its 5-byte prefix. */
  private need = -1;
  private onMessage: ((bytes: Uint8Array) => void) | undefined;
  private onClose: ((err: SlimError) => void) | undefined;
  private closed = false;
  private readonly flushNow = () => this.flush();
  private readonly drainListeners: Array<() => void> = [];
  /** After each flushed write reaches the socket: queued output shrank, whether or not 'drain' fires. */
  private readonly written = () => {
    for (const cb of this.drainListeners) cb();
  };
  /** Why this side failed the stream (malformed or oversized input, refused by the peer). */
  failure: SlimError | undefined;

  constructor(
    private readonly stream: Http2Stream,
    readonly remote: string,
    /** Ends the stream gracefully (the server sends trailers, the client half-closes). */
    private readonly finish: () => void,
    private readonly maxMessageBytes = GRPC_MAX_MESSAGE_BYTES,
  ) {
    stream.on("data", (chunk: Buffer) => this.onData(chunk));
    stream.on("error", (err: Error) => this.close(SlimError.from(err, "CONNECTION")));
    stream.on("close", () => this.close(new SlimError("CONNECTION", "link stream closed")));
    stream.on("end", () => this.close(new SlimError("CONNECTION", "link stream ended by peer")));
  }

  pause(): void {
    if (!this.stream.destroyed) this.stream.pause();
  }

  resume(): void {
    if (!this.stream.destroyed) this.stream.resume();
  }

  onDrain(cb: () => void): void {
    this.stream.on("drain", cb);
    this.drainListeners.push(cb);
  }

  start(onMessage: (bytes: Uint8Array) => void, onClose: (err: SlimError) => void): void {
    this.onMessage = onMessage;
    this.onClose = onClose;
  }

  get bufferedBytes(): number {
    return this.pendingBytes + this.stream.writableLength;
  }

  write(bytes: Uint8Array): boolean {
    if (this.closed || this.stream.destroyed || bytes.length > this.maxMessageBytes) return false;
    const prefix = new Uint8Array(5);
    prefix[1] = bytes.length >>> 24;
    prefix[2] = (bytes.length >>> 16) & 0xff;
    prefix[3] = (bytes.length >>> 8) & 0xff;
    prefix[4] = bytes.length & 0xff;
    this.pending.push(prefix, bytes);
    this.pendingBytes += bytes.length + 5;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flushNow);
    }
    return true;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0 || this.closed || this.stream.destroyed) return;
    const out = Buffer.allocUnsafe(this.pendingBytes);
    let off = 0;
    for (const b of this.pending) {
      out.set(b, off);
      off += b.length;
    }
    this.pending = [];
    this.pendingBytes = 0;
    this.stream.write(out, this.written);
  }

  private onData(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (!this.closed) {
      if (this.need < 0) {
        if (this.buffered < 5) return;
        const h = this.take(5);
        const len = ((h[1]! << 24) | (h[2]! << 16) | (h[3]! << 8) | h[4]!) >>> 0;
        if (h[0] !== 0) return this.fail(new SlimError("PROTOCOL", "compressed gRPC messages are not supported"));
        if (len > this.maxMessageBytes) {
          return this.fail(new SlimError("MESSAGE_TOO_LARGE", `message of ${len} bytes exceeds the limit of ${this.maxMessageBytes} bytes`));
        }
        this.need = len;
      }
      if (this.buffered < this.need) return;
      const msg = this.take(this.need);
      this.need = -1;
      this.onMessage?.(msg);
    }
  }

  /** Remove n buffered bytes (n <= buffered); zero-copy when they sit in one chunk. */
  private take(n: number): Uint8Array {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      out.set(c.subarray(0, k), off);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }

  /** Fail the stream with a specific error (e.g. the peer refused it with a gRPC status). */
  abort(err: SlimError): void {
    this.fail(err);
  }

  private fail(err: SlimError): void {
    this.failure ??= err;
    // tell the owner why first; it ends the stream (the server then sends the failure
    // as the gRPC status in its trailers)
    this.close(err);
    if (!this.stream.destroyed && !this.stream.writableEnded) this.end();
    setTimeout(() => {
      if (!this.stream.destroyed) this.stream.destroy();
    }, 1_000).unref();
  }

  private close(err: SlimError): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    this.pendingBytes = 0;
    this.chunks = [];
    this.buffered = 0;
    this.onClose?.(err);
  }

  end(): void {
    if (this.stream.destroyed) return;
    this.flush();
    this.closed = true;
    try {
      this.finish();
    } catch {
      this.stream.destroy();
    }
  }

  destroy(_reason?: string): void {
    this.closed = true;
    if (!this.stream.destroyed) this.stream.destroy();
  }
}
