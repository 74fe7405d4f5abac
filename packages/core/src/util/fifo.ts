// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * A first-in first-out queue with O(1) `shift`. `Array#shift` moves every
 * element once an array is large, which turns draining a backlog of n queued
 * sends into O(n²) work; this keeps a head index and compacts now and then.
 */
export class Fifo<T> {
  private items: Array<T | undefined> = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
