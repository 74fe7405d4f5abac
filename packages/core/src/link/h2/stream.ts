// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// One HTTP/2 stream of an H2Connection: its flow-control windows, the data queued
// for the peer, what was received while its owner paused, and how it ends.

import type { H2Connection } from "./connection.js";
import { H2Code } from "./frames.js";
import type { HeaderList } from "./hpack.js";

/** What the owner of a stream is told. */
export interface H2StreamEvents {
  /** Response headers (client), or trailers (either role). */
  onHeaders(headers: HeaderList, endStream: boolean): void;
  onData(chunk: Uint8Array): void;
  /** The peer ended its side (END_STREAM after data). */
  onEnd(): void;
  /** The stream is gone: reset by the peer (`code`) or the connection closed (`code` undefined). */
  onClose(code: number | undefined, reason: string): void;
}


export class H2Stream {
  sendWindow: number;
  recvWindow: number;
  /** Received bytes handed to the owner and not yet credited back. */
  private unacked = 0;
  readonly queue: Uint8Array[] = [];
  /** For each queued chunk, the free bytes before it that the writer may fill (a DATA frame header). */
  readonly queueRoom: number[] = [];
  queuedBytes = 0;
  /** Headers to send once the queued data is out (trailers), with END_STREAM. */
  trailers: HeaderList | undefined;
  localEnded = false;
  remoteEnded = false;
  closed = false;
  private events: H2StreamEvents | undefined;
  private paused = false;
  private held: Array<Uint8Array | "end"> = [];
  readonly drainListeners: Array<() => void> = [];

  constructor(
    readonly id: number,
    private readonly conn: H2Connection,
    sendWindow: number,
    recvWindow: number,
  ) {
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }

  bind(events: H2StreamEvents): void {
    this.events = events;
  }

  get bufferedBytes(): number {
    return this.queuedBytes + this.conn.socketBuffered;
  }

  /** Send headers now (before any queued data: only for the response headers). */
  sendHeaders(headers: HeaderList, endStream = false): void {
    if (this.closed || this.localEnded) return;
    this.conn.writer.headers(this.id, headers, endStream);
    if (endStream) this.conn.endedLocally(this);
  }

  /**
   * Queue DATA bytes; they leave as the peer's windows allow. `room`: free bytes before `bytes` in its
   * buffer that are ours to write once (a chunk with 9 of them can leave as a DATA frame without a copy).
   */
  write(bytes: Uint8Array, room = 0): void {
    if (this.closed || this.localEnded || this.trailers !== undefined) return;
    this.queue.push(bytes);
    this.queueRoom.push(room);
    this.queuedBytes += bytes.length;
    this.conn.schedule(this);
  }

  /** End our side with trailers once the queued data is out. */
  end(trailers: HeaderList): void {
    if (this.closed || this.localEnded || this.trailers !== undefined) return;
    this.trailers = trailers;
    this.conn.schedule(this);
  }

  /** End our side with an empty DATA frame (a client half-close) once the queued data is out. */
  endData(): void {
    this.end([]);
  }

  reset(code: number = H2Code.CANCEL): void {
    if (this.closed) return;
    this.conn.writer.reset(this.id, code);
    this.conn.closeStream(this, undefined, "reset by this side", false);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const h of held) {
      if (this.paused || this.closed) {
        this.held.push(h);
        continue;
      }
      if (h === "end") this.events?.onEnd();
      else this.deliver(h);
    }
  }

  /** @internal inbound DATA payload (already checked against the windows) */
  receive(chunk: Uint8Array, end: boolean): void {
    if (chunk.length > 0) {
      if (this.paused) this.held.push(chunk);
      else this.deliver(chunk);
    }
    if (end) {
      this.remoteEnded = true;
      if (this.paused) this.held.push("end");
      else this.events?.onEnd();
      this.conn.maybeForget(this);
    }
  }

  private deliver(chunk: Uint8Array): void {
    this.unacked += chunk.length;
    this.conn.credit(this, chunk.length);
    this.events?.onData(chunk);
  }

  /** @internal padding bytes: credited back with the data */
  padding(n: number): void {
    this.unacked += n;
  }

  /** @internal how much stream credit to give back now (0 = not yet) */
  takeCredit(threshold: number): number {
    if (this.unacked < threshold || this.remoteEnded) return 0;
    const n = this.unacked;
    this.unacked = 0;
    this.recvWindow += n;
    return n;
  }

  /** @internal */
  headers(headers: HeaderList, end: boolean): void {
    if (end) this.remoteEnded = true;
    this.events?.onHeaders(headers, end);
    if (!end) return;
    // trailers end the peer's side, after any data still held for a paused owner
    if (this.paused) this.held.push("end");
    else this.events?.onEnd();
    this.conn.maybeForget(this);
  }

  /** @internal */
  gone(code: number | undefined, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.queueRoom.length = 0;
    this.queuedBytes = 0;
    this.held = [];
    this.events?.onClose(code, reason);
  }
}
