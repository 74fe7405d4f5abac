// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// What a link reads and writes: whole gRPC messages on one bidirectional stream
// (h2/grpc-stream.ts over our HTTP/2, or an in-process pair in tests).

import type { SlimError } from "../errors.js";

export const GRPC_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Free bytes a link keeps before each encoded message: the gRPC prefix (5) and an HTTP/2 frame header (9). */
export const LINK_FRAMING_ROOM = 14;

/** A bidirectional stream of whole gRPC messages. */
export interface FrameStream {
  /** Set the message and close handlers (once, before data flows). */
  start(onMessage: (bytes: Uint8Array) => void, onClose: (err: SlimError) => void): void;
  /**
   * Queue one message; false when it cannot be queued (closed, or too large). `room`: free bytes
   * before `bytes` in its buffer (see encodeWith) the stream may write its framing into, once.
   */
  write(bytes: Uint8Array, room?: number): boolean;
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
