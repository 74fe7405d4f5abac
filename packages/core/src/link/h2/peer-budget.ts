// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// What one HTTP/2 peer may cost us in work it causes without sending data: streams
// it resets, and answers (PING and SETTINGS acks, RST_STREAM) it makes us write but
// does not read. Past either bound the connection ends with ENHANCE_YOUR_CALM.

import { H2Code, H2ProtocolError } from "./frames.js";

/** Streams a peer may reset over a connection's life: a link uses one stream per connection ("rapid reset"). */
const MAX_PEER_RESETS = 1_000;
/**
 * Answers a peer may leave unread: past this, its control frames are a flood (the ping,
 * settings and reset floods of CVE-2019-9512/9514/9515).
 */
const MAX_OWED_ANSWERS = 10_000;

export class PeerBudget {
  private resets = 0;
  private owed = 0;

  /** The peer reset a stream. Throws H2ProtocolError past the bound. */
  reset(): void {
    if (++this.resets > MAX_PEER_RESETS) throw new H2ProtocolError(H2Code.ENHANCE_YOUR_CALM, "too many streams reset by the peer");
  }

  /**
   * We are about to answer one of the peer's frames; `drained`: everything we wrote before has
   * left (a peer that reads keeps it so, and its count starts over). Throws H2ProtocolError past the bound.
   */
  answer(drained: boolean): void {
    if (drained) this.owed = 0;
    if (++this.owed > MAX_OWED_ANSWERS) throw new H2ProtocolError(H2Code.ENHANCE_YOUR_CALM, "too many control frames whose answers the peer does not read");
  }
}
