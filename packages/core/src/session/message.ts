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


export class ReceivedMessage implements SessionMessage {
  readonly #session: Replier;

  constructor(
    readonly source: Name,
    readonly payloadType: string,
    readonly metadata: Record<string, string>,
    readonly payload: Uint8Array,
    readonly messageId: number,
    session: Replier,
  ) {
    this.#session = session;
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
