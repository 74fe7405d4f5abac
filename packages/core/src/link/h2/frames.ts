// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// HTTP/2 frame constants (RFC 9113 §6, §7, §11).

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

export const H2Code = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  ENHANCE_YOUR_CALM: 0xb,
} as const;

/** What a peer's SETTINGS mean until it sends others. */
export const DEFAULT_PEER_SETTINGS: { readonly initialWindowSize: number; readonly maxFrameSize: number } = { initialWindowSize: 65_535, maxFrameSize: 16_384 };

/** A connection error: the connection is closed with GOAWAY carrying `code`. */
export class H2ProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export const FRAME_HEADER_BYTES = 9;

export function frameHeader(length: number, type: number, flags: number, streamId: number): Uint8Array {
  const h = new Uint8Array(FRAME_HEADER_BYTES);
  writeFrameHeader(h, 0, length, type, flags, streamId);
  return h;
}

/** The 9-byte frame header at `at` in `h`. */
export function writeFrameHeader(h: Uint8Array, at: number, length: number, type: number, flags: number, streamId: number): void {
  h[at] = length >>> 16;
  h[at + 1] = (length >>> 8) & 0xff;
  h[at + 2] = length & 0xff;
  h[at + 3] = type;
  h[at + 4] = flags;
  h[at + 5] = (streamId >>> 24) & 0x7f;
  h[at + 6] = (streamId >>> 16) & 0xff;
  h[at + 7] = (streamId >>> 8) & 0xff;
  h[at + 8] = streamId & 0xff;
}

export function readU32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

export function writeU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

/** The payload of a DATA or HEADERS frame without its padding. */
export function unpad(flags: number, payload: Uint8Array): Uint8Array {
  if ((flags & Flag.PADDED) === 0) return payload;
  if (payload.length < 1) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "padded frame without a pad length");
  const pad = payload[0]!;
  if (pad >= payload.length) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "padding exceeds the frame");
  return payload.subarray(1, payload.length - pad);
}

export interface HeaderBlock {
  streamId: number;
  endStream: boolean;
  block: Uint8Array;
}

/** Collects a header block from a HEADERS frame and its CONTINUATION frames, up to `maxBytes`. */
export class HeaderBlockReader {
  private pending: { streamId: number; endStream: boolean; parts: Uint8Array[]; bytes: number } | undefined;

  constructor(private readonly maxBytes: number) {}

  /** A block is open: only its CONTINUATION frames may come next. */
  get open(): boolean {
    return this.pending !== undefined;
  }

  headers(flags: number, streamId: number, payload: Uint8Array): HeaderBlock | undefined {
    if (streamId === 0) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "HEADERS on stream 0");
    let frag = unpad(flags, payload);
    if (flags & Flag.PRIORITY) {
      if (frag.length < 5) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "malformed HEADERS priority");
      frag = frag.subarray(5);
    }
    this.pending = { streamId, endStream: (flags & Flag.END_STREAM) !== 0, parts: [], bytes: 0 };
    return this.add(flags, frag);
  }

  continuation(flags: number, streamId: number, payload: Uint8Array): HeaderBlock | undefined {
    if (this.pending === undefined || this.pending.streamId !== streamId) throw new H2ProtocolError(H2Code.PROTOCOL_ERROR, "unexpected CONTINUATION");
    return this.add(flags, payload);
  }

  private add(flags: number, frag: Uint8Array): HeaderBlock | undefined {
    const b = this.pending!;
    b.bytes += frag.length;
    if (b.bytes > this.maxBytes) throw new H2ProtocolError(H2Code.ENHANCE_YOUR_CALM, "header block too large");
    b.parts.push(frag);
    if ((flags & Flag.END_HEADERS) === 0) return undefined;
    this.pending = undefined;
    return { streamId: b.streamId, endStream: b.endStream, block: b.parts.length === 1 ? b.parts[0]! : Buffer.concat(b.parts) };
  }
}
