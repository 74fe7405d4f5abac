// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A message as the app receives it from a session, with reply(): a direct
// answer to its sender (upstream's publish_to in a group, a plain publish in a
// point-to-point session, where the peer is the only one listening anyway).

import type { Name } from "../names/name.js";
import type { SessionMessage, SessionPublishOptions } from "./types.js";

/** The session side of reply(). */
export interface Replier {
  replyTo(to: Name, data: Uint8Array | string, options: SessionPublishOptions): Promise<void>;
}


/**
 * A payload decoded from a link is a view into the socket read it arrived in (up to 64 KiB,
 * shared with the messages around it). One the app keeps would keep that whole read alive,
 * so a payload much smaller than its buffer gets its own copy.
 */
function ownBytes(b: Uint8Array): Uint8Array {
  return b.byteLength * 8 < b.buffer.byteLength ? b.slice() : b;
}

export class ReceivedMessage implements SessionMessage {
  readonly #session: Replier;
  readonly payload: Uint8Array;

  constructor(
    readonly source: Name,
    readonly payloadType: string,
    readonly metadata: Record<string, string>,
    payload: Uint8Array,
    readonly messageId: number,
    session: Replier,
  ) {
    this.#session = session;
    this.payload = ownBytes(payload);
  }

  /** The payload as UTF-8 text. */
  text(): string {
    return new TextDecoder().decode(this.payload);
  }

  /**
   * Answer the sender only. In a reliable session it resolves once the sender acked it;
   * other group members never see it.
   */
  reply(data: Uint8Array | string, options: SessionPublishOptions = {}): Promise<void> {
    return this.#session.replyTo(this.source, data, options);
  }
}
