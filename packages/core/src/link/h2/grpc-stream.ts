// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// gRPC message framing (1 flag byte, 4-byte big-endian length, the message) on one
// of our HTTP/2 streams. Messages written in one tick leave in as few DATA frames
// as the peer's frame size allows, in one socket write with everything else.

import { SlimError } from "../../errors.js";
import { GRPC_MAX_MESSAGE_BYTES, type FrameStream } from "../frame-stream.js";
import type { H2Stream, H2StreamEvents } from "./connection.js";
import { H2Code } from "./frames.js";
import type { HeaderList } from "./hpack.js";

/** Bytes before a gRPC message: compression flag and length. */
export const GRPC_PREFIX_BYTES = 5;

export class GrpcStream implements FrameStream {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  /** Body length of the message being read, or -1 while reading its 5-byte prefix. */
  private need = -1;
  private onMessage: ((bytes: Uint8Array) => void) | undefined;
  private onClose: ((err: SlimError) => void) | undefined;
  private closed = false;
  /** Why this side failed the stream (malformed or oversized input, refused by the peer). */
  failure: SlimError | undefined;

  constructor(
    readonly h2: H2Stream,
    readonly remote: string,
    /** Ends our side: trailers with a status (server) or END_STREAM (client). */
    private readonly finish: (failure: SlimError | undefined) => void,
    /** Client role: response headers and trailers; undefined on the server. */
    private readonly onHeaders?: (headers: HeaderList, endStream: boolean, stream: GrpcStream) => void,
    private readonly maxMessageBytes = GRPC_MAX_MESSAGE_BYTES,
  ) {
    const events: H2StreamEvents = {
      onHeaders: (headers, end) => this.onHeaders?.(headers, end, this),
      onData: (chunk) => this.onData(chunk),
      onEnd: () => this.close(new SlimError("CONNECTION", "link stream ended by peer")),
      onClose: (code, reason) =>
        this.close(new SlimError("CONNECTION", code === undefined ? `link stream closed: ${reason}` : `link stream reset by the peer (HTTP/2 code ${code})`)),
    };
    h2.bind(events);
  }

  start(onMessage: (bytes: Uint8Array) => void, onClose: (err: SlimError) => void): void {
    this.onMessage = onMessage;
    this.onClose = onClose;
  }

  get bufferedBytes(): number {
    return this.h2.bufferedBytes;
  }

  write(bytes: Uint8Array, room = 0): boolean {
    if (this.closed || this.h2.closed || bytes.length > this.maxMessageBytes) return false;
    if (room >= GRPC_PREFIX_BYTES) {
      // the 5-byte message prefix goes in the free bytes before the message: one chunk, no copy
      const framed = new Uint8Array(bytes.buffer, bytes.byteOffset - GRPC_PREFIX_BYTES, bytes.length + GRPC_PREFIX_BYTES);
      writePrefix(framed, bytes.length);
      this.h2.write(framed, room - GRPC_PREFIX_BYTES);
      return true;
    }
    const prefix = new Uint8Array(GRPC_PREFIX_BYTES);
    writePrefix(prefix, bytes.length);
    this.h2.write(prefix);
    this.h2.write(bytes);
    return true;
  }

  pause(): void {
    this.h2.pause();
  }

  resume(): void {
    this.h2.resume();
  }

  onDrain(cb: () => void): void {
    this.h2.drainListeners.push(cb);
  }

  private onData(chunk: Uint8Array): void {
    if (this.closed) return;
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
    // tell the owner why first; it ends the stream, and a server sends the failure as its status
    this.close(err);
    this.end();
    setTimeout(() => this.h2.reset(H2Code.CANCEL), 1_000).unref();
  }

  private close(err: SlimError): void {
    if (this.closed) return;
    this.closed = true;
    this.chunks = [];
    this.buffered = 0;
    this.onClose?.(err);
  }

  end(): void {
    this.closed = true;
    if (this.h2.closed || this.h2.localEnded || this.h2.trailers !== undefined) return;
    this.finish(this.failure);
  }

  destroy(_reason?: string): void {
    this.closed = true;
    this.h2.reset(H2Code.CANCEL);
  }
}

/** Uncompressed flag and big-endian length: the 5 bytes before every gRPC message. */
function writePrefix(p: Uint8Array, length: number): void {
  p[0] = 0;
  p[1] = length >>> 24;
  p[2] = (length >>> 16) & 0xff;
  p[3] = (length >>> 8) & 0xff;
  p[4] = length & 0xff;
}
