// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Participant events of one session, as an async iterable. Nobody has to read
// them: the feed keeps the latest EVENT_BACKLOG and drops older ones, so an
// app that ignores events never slows its session down.

import { SlimError } from "../errors.js";
import type { Name } from "../names/name.js";
import { AsyncQueue } from "../util/async-queue.js";
import type { ParticipantEvent } from "./types.js";

export const EVENT_BACKLOG = 1_024;

export class EventFeed {
  private readonly queue = new AsyncQueue<ParticipantEvent>(EVENT_BACKLOG);
  private iterated = false;

  emit(type: ParticipantEvent["type"], participant: Name, reason?: string, messageId?: number, count?: number): void {
    if (this.queue.closed) return;
    const e: ParticipantEvent = reason === undefined ? { type, participant } : { type, participant, reason };
    if (messageId !== undefined) e.messageId = messageId;
    if (count !== undefined) e.count = count;
    if (!this.queue.push(e)) {
      this.queue.drain(1);
      this.queue.push(e);
    }
  }

  /** Messages `id` to `id + count - 1` from `participant` cannot be recovered. */
  lost(participant: Name, id: number, count: number): void {
    const what = count === 1 ? `message ${id}` : `messages ${id} to ${(id + count - 1) % 0x8000_0000} (${count})`;
    this.emit("lost", participant, `${what} could not be recovered`, id, count);
  }

  /** The events, in order; ends when the session ends. Iterate once. */
  iterable(): AsyncIterable<ParticipantEvent> {
    if (this.iterated) throw new SlimError("INVALID_ARGUMENT", "session events can be iterated once");
    this.iterated = true;
    return this.queue;
  }

  end(): void {
    this.queue.end();
  }
}
