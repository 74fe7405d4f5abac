// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Raw HTTP/2 bytes for tests that play a (broken or hostile) peer.

/** The client connection preface. */
export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** One frame: 9-byte header (length, type, flags, stream id) and `body`. */
export function frame(type: number, flags: number, id: number, body: Uint8Array): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(body.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(id >>> 0, 5);
  return Buffer.concat([h, body]);
}
