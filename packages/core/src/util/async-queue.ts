// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { SlimError } from "../errors.js";
import { Fifo } from "./fifo.js";

/**
 * A bounded push queue read as an AsyncIterable. Producers call `push`, which
 * returns false when the queue is full (the caller decides: drop and count, or
 * `fail` with SLOW_CONSUMER). Leaving a `for await` early closes the queue and
 * runs `onClose`.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items = new Fifo<T>();
  private waiter: ((r: IteratorResult<T>) => void) | undefined;
  private failWaiter: ((e: unknown) => void) | undefined;
  private ended = false;
  private error: unknown;
  private iterating = false;

  /** Called when the backlog falls back to `lowWater` after a `push` reported it above `highWater`. */
  private watermarks: { high: number; low: number; onHigh: () => void; onLow: () => void; above: boolean } | undefined;

  constructor(
    readonly maxPending: number,
    private readonly onClose?: () => void,
  ) {}

  /** Get told when the backlog crosses `high` (push) and drains back to `low` (reads). */
  setWatermarks(high: number, low: number, onHigh: () => void, onLow: () => void): void {
    this.watermarks = { high, low, onHigh, onLow, above: false };
  }

  get pending(): number {
    return this.items.length;
  }

  get closed(): boolean {
    return this.ended;
  }

  push(item: T): boolean {
    if (this.ended) return false;
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      this.failWaiter = undefined;
      w({ value: item, done: false });
      return true;
    }
    if (this.pending >= this.maxPending) return false;
    this.items.push(item);
    const marks = this.watermarks;
    if (marks !== undefined && !marks.above && this.pending >= marks.high) {
      marks.above = true;
      marks.onHigh();
    }
    return true;
  }

  /** End after the buffered items are read. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.wake();
  }

  /** End with an error, thrown after the buffered items are read. */
  fail(err: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.error = err;
    this.wake();
  }

  private wake(): void {
    if (this.pending > 0) return;
    const w = this.waiter;
    const f = this.failWaiter;
    this.waiter = undefined;
    this.failWaiter = undefined;
    if (this.error !== undefined) f?.(this.error);
    else w?.({ value: undefined, done: true });
  }

  private take(): T | undefined {
    const item = this.items.shift();
    const marks = this.watermarks;
    if (marks !== undefined && marks.above && this.pending <= marks.low) {
      marks.above = false;
      marks.onLow();
    }
    return item;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.pending > 0) return Promise.resolve({ value: this.take() as T, done: false });
    if (this.ended) {
      return this.error !== undefined ? Promise.reject(this.error) : Promise.resolve({ value: undefined, done: true });
    }
    if (this.waiter !== undefined) return Promise.reject(new SlimError("INVALID_ARGUMENT", "concurrent next() on a stream"));
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.failWaiter = reject;
    });
  }

  /** Drain synchronously whatever is buffered (for batch consumers). */
  drain(max = Infinity): T[] {
    const out: T[] = [];
    while (this.pending > 0 && out.length < max) out.push(this.take() as T);
    return out;
  }

  close(): void {
    if (!this.ended) {
      this.ended = true;
      this.items.clear();
      this.wake();
    }
    this.onClose?.();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.iterating) throw new SlimError("INVALID_ARGUMENT", "this stream is already being iterated");
    this.iterating = true;
    return {
      next: () => this.next(),
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
