// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Several stream chunks in one message (a "chunks" frame), for senders that
// produce chunks faster than one message each is worth: each chunk as its
// length (unsigned LEB128) followed by its bytes. The reader hands them out
// one by one, as if they had come in separate "chunk" frames.

import { SlimError } from "../errors.js";
import type { SessionMessage, SessionPublishOptions } from "../session/types.js";

/** Chunks and bytes a sender puts in one frame at most (defaults of `coalesce: true`). */
export const DEFAULT_BATCH_CHUNKS = 256;
export const DEFAULT_BATCH_BYTES = 64 * 1024;

function lebSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

export function packChunks(chunks: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const c of chunks) size += lebSize(c.length) + c.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    let n = c.length;
    while (n >= 0x80) {
      out[at++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 0x80);
    }
    out[at++] = n;
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Chunks a reader takes from one "chunks" frame, at most: a 4 MiB frame of empty chunks would
 * otherwise become four million objects before anything else could refuse it.
 */
export const MAX_UNPACKED_CHUNKS = 16_384;

/** The chunks of a "chunks" frame (views into `payload`); a malformed frame is SlimError("RECEIVE"). */
export function unpackChunks(payload: Uint8Array, maxChunks = MAX_UNPACKED_CHUNKS): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < payload.length) {
    if (out.length === maxChunks) throw new SlimError("RECEIVE", `malformed stream batch: more than ${maxChunks} chunks`);
    let n = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (at >= payload.length || i === 5) throw new SlimError("RECEIVE", "malformed stream batch: bad chunk length");
      const b = payload[at++]!;
      n += (b & 0x7f) * scale;
      scale *= 0x80;
      if ((b & 0x80) === 0) break;
    }
    if (at + n > payload.length) throw new SlimError("RECEIVE", "malformed stream batch: chunk runs past the frame");
    out.push(payload.subarray(at, at + n));
    at += n;
  }
  return out;
}

/** One chunk of a "chunks" frame, read like any other message of the stream. */
export class StreamChunk implements SessionMessage {
  readonly source;
  readonly payloadType;
  readonly metadata;
  readonly messageId;

  constructor(
    private readonly frame: SessionMessage,
    readonly payload: Uint8Array,
  ) {
    this.source = frame.source;
    this.payloadType = frame.payloadType;
    this.metadata = frame.metadata;
    this.messageId = frame.messageId;
  }

  text(): string {
    return new TextDecoder().decode(this.payload);
  }

  reply(data: Uint8Array | string, options?: SessionPublishOptions): Promise<void> {
    return this.frame.reply(data, options);
  }
}

export interface CoalesceOptions {
  /** Chunks per frame at most (default 256; readers take up to MAX_UNPACKED_CHUNKS). */
  maxChunks?: number;
  /** Payload bytes per frame at most, roughly (default 64 KiB; a frame is sent once it reaches this). */
  maxBytes?: number;
}

function positive(what: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new SlimError("INVALID_ARGUMENT", `coalesce.${what} must be a positive integer, got ${String(value)}`);
  return value;
}

/**
 * Collects the chunks a stream's source produces within one turn of the event loop and sends
 * them as one frame: the first chunk of a stream at once (time to first token), then whatever
 * has piled up when the event loop comes round (setImmediate), when a frame is full, or on
 * flush(). A source that waits between chunks (a model producing tokens) gets a frame per chunk.
 */
export class ChunkBatcher {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private timer: NodeJS.Immediate | undefined;
  private readonly maxChunks: number;
  private readonly maxBytes: number;

  constructor(
    options: CoalesceOptions,
    private readonly send: (payload: Uint8Array, kind: "chunk" | "chunks") => void,
  ) {
    this.maxChunks = positive("maxChunks", options.maxChunks, DEFAULT_BATCH_CHUNKS);
    if (this.maxChunks > MAX_UNPACKED_CHUNKS) throw new SlimError("INVALID_ARGUMENT", `coalesce.maxChunks must be at most ${MAX_UNPACKED_CHUNKS} (what readers take), got ${this.maxChunks}`);
    this.maxBytes = positive("maxBytes", options.maxBytes, DEFAULT_BATCH_BYTES);
  }

  /** Add a chunk; true when a frame went out (then let the event loop write it before producing more). */
  add(chunk: Uint8Array, now = false): boolean {
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (now || this.chunks.length >= this.maxChunks || this.size >= this.maxBytes) {
      this.flush();
      return true;
    }
    this.timer ??= setImmediate(() => {
      this.timer = undefined;
      this.flush();
    });
    return false;
  }

  flush(): void {
    if (this.timer !== undefined) {
      clearImmediate(this.timer);
      this.timer = undefined;
    }
    if (this.chunks.length === 0) return;
    const chunks = this.chunks;
    this.chunks = [];
    this.size = 0;
    if (chunks.length === 1) this.send(chunks[0]!, "chunk");
    else this.send(packChunks(chunks), "chunks");
  }
}
