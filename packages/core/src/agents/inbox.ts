// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Where an agent's arriving messages wait until a node, a tool or a pump
// takes them. Bounded: past `maxEntries` the oldest unread message is dropped
// and counted (an agent's model reads a window, not a complete history).
// Retransmitted or re-fed messages with an id seen recently are ignored.

import { SlimError } from "../errors.js";
import { parkUntilAborted, withDeadline, type AbortOptions } from "../util/abort.js";
import type { SlimEnvelope } from "./envelope.js";

export const DEFAULT_INBOX_ENTRIES = 1_000;
export const DEFAULT_DEDUPE_WINDOW = 10_000;
/** Longest a wait without a timeout lasts. */
export const DEFAULT_INBOX_WAIT_MS = 60_000;

export interface InboxOptions {
  /** Unread messages kept; default 1000, then the oldest is dropped. */
  maxEntries?: number;
  /** How many recent ids are remembered to drop duplicates; default 10 000. */
  dedupeWindow?: number;
}

/** Which envelopes a reader wants; every given field must match. */
export interface EnvelopeFilter {
  /** Sender service (`org/ns/svc`, any instance) or full name. */
  from?: string;
  /** The peer or group channel it came in on. */
  to?: string;
  payloadType?: string;
  where?: (e: SlimEnvelope) => boolean;
}

export function matches(e: SlimEnvelope, f: EnvelopeFilter | undefined): boolean {
  if (f === undefined) return true;
  if (f.from !== undefined && e.from !== f.from && !e.from.startsWith(`${f.from}/`)) return false;
  if (f.to !== undefined && e.to !== f.to) return false;
  if (f.payloadType !== undefined && e.payloadType !== f.payloadType) return false;
  return f.where === undefined || f.where(e);
}

interface Waiter {
  filter: EnvelopeFilter | undefined;
  resolve: (e: SlimEnvelope) => void;
  reject: (err: unknown) => void;
}

export class Inbox {
  private items: SlimEnvelope[] = [];
  private readonly seen = new Set<string>();
  private readonly waiters: Waiter[] = [];
  private readonly maxEntries: number;
  private readonly dedupeWindow: number;
  private droppedCount = 0;
  private error: SlimError | undefined;

  constructor(options: InboxOptions = {}) {
    this.maxEntries = options.maxEntries ?? DEFAULT_INBOX_ENTRIES;
    this.dedupeWindow = options.dedupeWindow ?? DEFAULT_DEDUPE_WINDOW;
    if (!(this.maxEntries >= 1) || !(this.dedupeWindow >= 1)) throw new SlimError("INVALID_ARGUMENT", "inbox sizes must be at least 1");
  }

  /** Unread messages. */
  get size(): number {
    return this.items.length;
  }

  /** Messages dropped unread because the inbox was full. */
  get dropped(): number {
    return this.droppedCount;
  }

  get closed(): boolean {
    return this.error !== undefined;
  }

  /** Hand a message to the first waiting reader that wants it, or keep it. False for a duplicate or a closed inbox. */
  push(e: SlimEnvelope): boolean {
    if (this.error !== undefined || this.seen.has(e.id)) return false;
    this.seen.add(e.id);
    if (this.seen.size > this.dedupeWindow) this.seen.delete(this.seen.values().next().value as string);
    const i = this.waiters.findIndex((w) => matches(e, w.filter));
    if (i >= 0) {
      this.waiters.splice(i, 1)[0]!.resolve(e);
      return true;
    }
    this.items.push(e);
    if (this.items.length > this.maxEntries) {
      this.items.shift();
      this.droppedCount++;
    }
    return true;
  }

  /** Unread messages matching `filter`, oldest first, without taking them. */
  peek(filter?: EnvelopeFilter): SlimEnvelope[] {
    return this.items.filter((e) => matches(e, filter));
  }

  /** Take up to `max` unread messages matching `filter`, oldest first. */
  take(filter?: EnvelopeFilter, max = Infinity): SlimEnvelope[] {
    const out: SlimEnvelope[] = [];
    const keep: SlimEnvelope[] = [];
    for (const e of this.items) {
      if (out.length < max && matches(e, filter)) out.push(e);
      else keep.push(e);
    }
    this.items = keep;
    return out;
  }

  /** Take the next message matching `filter`, waiting for one (default at most {@link DEFAULT_INBOX_WAIT_MS}). */
  next(filter?: EnvelopeFilter, options: AbortOptions = {}): Promise<SlimEnvelope> {
    const [ready] = this.take(filter, 1);
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.error !== undefined) return Promise.reject(this.error);
    return withDeadline("inbox wait", options, DEFAULT_INBOX_WAIT_MS, (signal) => {
      return new Promise<SlimEnvelope>((resolve, reject) => parkUntilAborted<Waiter>(this.waiters, { filter, resolve, reject }, signal));
    });
  }

  /**
   * Gather matching messages until `until(got)` holds, `max` arrived, or the
   * window of `timeoutMs` ends (then what arrived so far is returned; an abort
   * through `signal` still rejects).
   */
  async collect(options: { filter?: EnvelopeFilter; until?: (got: readonly SlimEnvelope[]) => boolean; max?: number; timeoutMs: number; signal?: AbortSignal }): Promise<SlimEnvelope[]> {
    const max = options.max ?? Infinity;
    const got: SlimEnvelope[] = [];
    const done = () => got.length >= max || (options.until !== undefined && options.until(got));
    const deadline = Date.now() + options.timeoutMs;
    got.push(...this.take(options.filter, max));
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      try {
        got.push(await this.next(options.filter, { timeoutMs: left, ...(options.signal === undefined ? {} : { signal: options.signal }) }));
      } catch (err) {
        if (err instanceof SlimError && err.code === "TIMEOUT") break;
        throw err;
      }
    }
    return got;
  }

  /** Stop: waiting readers reject with `err` (CLOSED by default); unread messages stay readable with take(). */
  close(err: SlimError = new SlimError("CLOSED", "inbox closed")): void {
    if (this.error !== undefined) return;
    this.error = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }
}
