// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Backpressure in the datapath, per destination. A destination is congested while
// a link has too much output queued, or while a local app's inbox (or one of its
// sessions) is behind. A link that hands a message to a congested destination
// stops being read until every destination it wrote to drained: HTTP/2 flow control
// then slows that sender, and only that one. Links whose traffic goes elsewhere keep
// flowing (upstream awaits the destination's bounded channel in the task of the
// incoming stream: the same per-sender blocking).

import type { Connection } from "./types.js";
import { Fifo } from "../util/fifo.js";

interface Pausable {
  readonly id: number;
  readonly kind: Connection["kind"];
  setReading?(on: boolean): void;
}

export class FlowControl {
  /** Congested destinations: links with too much output queued, local apps whose inbox is behind. */
  private readonly congested = new Set<number>();
  /** Local apps holding their input (a session's unread backlog): they pause the links that feed them, not local senders. */
  private readonly held = new Set<number>();
  /** Links not being read, with the congested destinations they wrote to. */
  private readonly blocked = new Map<number, Set<number>>();
  private readonly writableQueue = new Fifo<() => void>();

  constructor(private readonly conns: ReadonlyMap<number, Pausable>) {}

  /** `id` started or stopped being congested. */
  set(id: number, congested: boolean): void {
    if (congested) {
      this.congested.add(id);
      return;
    }
    if (!this.congested.delete(id)) return;
    if (!this.held.has(id)) this.unblock(id);
    this.releaseWritable();
  }

  /**
   * A local app started or stopped holding its input. Local senders do not wait for it: an app
   * whose session is behind must still be able to send (it may be its own reader).
   */
  hold(id: number, held: boolean): void {
    if (held) this.held.add(id);
    else if (this.held.delete(id) && !this.congested.has(id)) this.unblock(id);
  }

  private unblock(id: number): void {
    for (const [source, on] of this.blocked) {
      if (!on.delete(id) || on.size > 0) continue;
      this.blocked.delete(source);
      this.conns.get(source)?.setReading?.(true);
    }
  }

  /** `from` just handed a message to `to` (after the send, which may have congested `to`). */
  sent(from: Pausable | undefined, to: number): void {
    if (from === undefined || from.kind === "local" || from.id === to || !(this.congested.has(to) || this.held.has(to))) return;
    let on = this.blocked.get(from.id);
    if (on === undefined) {
      this.blocked.set(from.id, (on = new Set()));
      from.setReading?.(false);
    }
    on.add(to);
  }

  /** A connection went away: it is neither a blocked source nor a congested destination any more. */
  gone(id: number): void {
    this.blocked.delete(id);
    this.hold(id, false);
    this.set(id, false);
  }

  /** For status: whether `id` is a congested (or held) destination, and the destinations it waits for. */
  state(id: number): { congested: boolean; waitingFor: number[] } {
    return { congested: this.congested.has(id) || this.held.has(id), waitingFor: [...(this.blocked.get(id) ?? [])] };
  }

  /** Whether a (re)attached link must start paused: only if it is still blocked. */
  isBlocked(id: number): boolean {
    return this.blocked.has(id);
  }

  /**
   * Local senders (apps in this process) cannot be paused: `send` runs now if nothing is
   * congested, else once nothing is, in call order; queued sends stop as soon as one congests
   * something again. Held input does not count (see hold()).
   */
  runWhenWritable(send: () => void): void {
    if (this.writableQueue.length === 0 && this.congested.size === 0) return send();
    this.writableQueue.push(send);
  }

  private releaseWritable(): void {
    while (this.writableQueue.length > 0 && this.congested.size === 0) this.writableQueue.shift()!();
  }
}
