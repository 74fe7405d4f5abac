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

export interface PeerSettings {
  initialWindowSize: number;
  maxFrameSize: number;
}

export const DEFAULT_PEER_SETTINGS: PeerSettings = { initialWindowSize: 65_535, maxFrameSize: 16_384 };

/** A connection error: the connection is closed with GOAWAY carrying `code`. */
export class H2ProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export function frameHeader(length: number, type: number, flags: number, streamId: number): Uint8Array {
  const h = new Uint8Array(9);
  h[0] = length >>> 16;
  h[1] = (length >>> 8) & 0xff;
  h[2] = length & 0xff;
  h[3] = type;
  h[4] = flags;
  h[5] = (streamId >>> 24) & 0x7f;
  h[6] = (streamId >>> 16) & 0xff;
  h[7] = (streamId >>> 8) & 0xff;
  h[8] = streamId & 0xff;
  return h;
}
