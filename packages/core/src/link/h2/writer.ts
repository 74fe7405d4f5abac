// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The outbound half of an H2Connection: frames queued as they are produced and
// written to the socket together, once per event-loop turn or so.

import { DEFAULT_PEER_SETTINGS, FRAME_HEADER_BYTES, Flag, FrameType, frameHeader, writeFrameHeader, writeU32 } from "./frames.js";
import { encodeHeaders, type HeaderList } from "./hpack.js";
import type { H2Stream } from "./stream.js";

export const EMPTY = new Uint8Array(0);

export class FrameWriter {
  /** The peer's SETTINGS_MAX_FRAME_SIZE. */
  maxFrameSize = DEFAULT_PEER_SETTINGS.maxFrameSize;
  /** Set once the connection is gone: frames are dropped. */
  closed = false;
  private out: Uint8Array[] = [];
  private outBytes = 0;
  /** The dynamic table size our encoder announces (it never inserts): 4096 until the peer asks for less. */
  private encoderTableSize = 4096;
  /** A table size update owed at the start of the next header block we send. */
  private tableSizeUpdate: number | undefined;
  private flushQueued = false;
  /** A microtask flush already ran this event-loop turn (cleared when the turn ends). */
  private flushedThisTurn = false;
  private readonly endTurn = () => {
    this.flushedThisTurn = false;
  };
  private readonly run = () => {
    this.flushQueued = false;
    this.flush();
  };

  /** `flush` moves stream data into frames and writes `take()` to the socket. */
  constructor(private readonly flush: () => void) {}

  /** Bytes queued and not yet handed to the socket. */
  get buffered(): number {
    return this.outBytes;
  }

  /**
   * The first write of an event-loop turn leaves at the end of the current microtask
   * queue (lowest latency); writes later in the same turn wait for the turn to end
   * (setImmediate) and leave together. A producer whose messages each finish in a
   * separate microtask chain (sealing, awaited sends) would otherwise cost one socket
   * write per message.
   */
  schedule(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    if (this.flushedThisTurn) setImmediate(this.run);
    else {
      this.flushedThisTurn = true;
      setImmediate(this.endTurn);
      queueMicrotask(this.run);
    }
  }

  /** Everything queued, in one buffer; undefined when nothing is. */
  take(): Uint8Array | undefined {
    if (this.out.length === 0) return undefined;
    const bytes = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out, this.outBytes);
    this.out = [];
    this.outBytes = 0;
    return bytes;
  }

  discard(): void {
    this.closed = true;
    this.out = [];
    this.outBytes = 0;
  }

  raw(bytes: Uint8Array): void {
    this.out.push(bytes);
    this.outBytes += bytes.length;
    this.schedule();
  }

  frame(type: number, flags: number, streamId: number, payload: Uint8Array): void {
    if (this.closed) return;
    this.raw(frameHeader(payload.length, type, flags, streamId));
    if (payload.length > 0) this.raw(payload);
  }

  /** The peer set SETTINGS_HEADER_TABLE_SIZE: our encoder never indexes, but a decoder that shrank its table expects to be told. */
  peerTableSize(value: number): void {
    if (value < this.encoderTableSize) this.encoderTableSize = this.tableSizeUpdate = value;
  }

  headers(streamId: number, headers: HeaderList, endStream: boolean): void {
    const block = encodeHeaders(headers, this.tableSizeUpdate);
    this.tableSizeUpdate = undefined;
    let off = 0;
    let first = true;
    do {
      const part = block.subarray(off, off + this.maxFrameSize);
      off += part.length;
      const last = off >= block.length;
      const type = first ? FrameType.HEADERS : FrameType.CONTINUATION;
      const flags = (first && endStream ? Flag.END_STREAM : 0) | (last ? Flag.END_HEADERS : 0);
      this.frame(type, flags, streamId, part);
      first = false;
    } while (off < block.length);
  }

  reset(streamId: number, code: number): void {
    this.frame(FrameType.RST_STREAM, 0, streamId, u32(code));
  }

  windowUpdate(streamId: number, inc: number): void {
    this.frame(FrameType.WINDOW_UPDATE, 0, streamId, u32(inc));
  }

  settings(settings: Array<[number, number]>): void {
    const p = new Uint8Array(settings.length * 6);
    settings.forEach(([id, v], i) => {
      p[i * 6] = id >>> 8;
      p[i * 6 + 1] = id & 0xff;
      writeU32(p, i * 6 + 2, v);
    });
    this.frame(FrameType.SETTINGS, 0, 0, p);
  }

  goaway(lastStream: number, code: number, debug: string): void {
    const d = Buffer.from(debug.slice(0, 200), "utf8");
    const p = new Uint8Array(8 + d.length);
    writeU32(p, 0, lastStream);
    writeU32(p, 4, code);
    p.set(d, 8);
    this.frame(FrameType.GOAWAY, 0, 0, p);
  }

  /** DATA frames for what `s` has queued, within its window, `room` bytes of connection window and the frame size; the bytes framed. */
  data(s: H2Stream, room: number): number {
    const q = s.queue;
    const qRoom = s.queueRoom;
    // walk the queue by index and drop what went once: shifting one entry at a time is quadratic
    let i = 0;
    let sent = 0;
    while (s.queuedBytes > 0) {
      const n = Math.min(s.sendWindow, room - sent, this.maxFrameSize, s.queuedBytes);
      if (n <= 0) break;
      const head = q[i]!;
      let framed: number;
      if (i === q.length - 1 && qRoom[i]! >= FRAME_HEADER_BYTES && head.length <= n) {
        // the last chunk queued, whole, with room before it: its frame header goes there (several
        // chunks share one DATA frame instead: fewer frames for the peer to take apart)
        const frame = new Uint8Array(head.buffer, head.byteOffset - FRAME_HEADER_BYTES, head.length + FRAME_HEADER_BYTES);
        writeFrameHeader(frame, 0, head.length, FrameType.DATA, 0, s.id);
        this.raw(frame);
        i++;
        framed = head.length;
      } else {
        this.raw(frameHeader(n, FrameType.DATA, 0, s.id));
        let left = n;
        while (left > 0) {
          const c = q[i]!;
          if (c.length <= left) {
            this.raw(c);
            i++;
            left -= c.length;
          } else {
            this.raw(c.subarray(0, left));
            q[i] = c.subarray(left);
            qRoom[i] = 0; // the bytes before the rest are on their way out
            left = 0;
          }
        }
        framed = n;
      }
      s.queuedBytes -= framed;
      s.sendWindow -= framed;
      sent += framed;
    }
    if (i === q.length) {
      q.length = 0;
      qRoom.length = 0;
    } else if (i > 0) {
      q.splice(0, i);
      qRoom.splice(0, i);
    }
    return sent;
  }
}

function u32(v: number): Uint8Array {
  const p = new Uint8Array(4);
  writeU32(p, 0, v);
  return p;
}
