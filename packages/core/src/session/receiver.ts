// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The data receiver of one session: per source, in-order delivery without
// duplicates; a gap triggers an RTX request at once, retried on a timer.

import type { ReliableSettings } from "./sender.js";

const HALF = 0x4000_0000;
const MOD = 0x8000_0000;

/** True when a comes before b in the wrapping 31-bit id space. */
function before(a: number, b: number): boolean {
  const d = (b - a + MOD) % MOD;
  return d !== 0 && d < HALF;
}

interface SourceState {
  last: number | undefined;
  held: Map<number, unknown>;
  rtx: Map<number, { timer: NodeJS.Timeout; sends: number }>;
}

export interface ReceiverIo<T> {
  deliver(item: T): void;
  /** Message `id` from `source` cannot be recovered; delivery goes on with what follows it. */
  lost(source: string, id: number): void;
  requestRtx(id: number, source: string): void;
}

export class DataReceiver<T> {
  private readonly sources = new Map<string, SourceState>();

  /**
   * @param firstId the id every source starts at, when known (p2p sessions start at 1);
   *   undefined accepts whatever arrives first as the start (a member joining a running group).
   */
  constructor(
    private readonly io: ReceiverIo<T>,
    private readonly reliable: ReliableSettings | undefined,
    private firstId?: number,
  ) {}

  /** A restored session: every source starts wherever its next message is (what came before was delivered or is gone). */
  acceptAnyStart(): void {
    this.firstId = undefined;
  }

  /** A data message (or RTX reply) arrived from `source` with id `id`. */
  onData(source: string, id: number, item: T): void {
    if (this.reliable === undefined) return this.io.deliver(item);
    let s = this.sources.get(source);
    if (s === undefined) {
      s = { last: this.firstId === undefined ? undefined : (this.firstId - 1 + MOD) % MOD, held: new Map(), rtx: new Map() };
      this.sources.set(source, s);
    }
    if (s.last === undefined) {
      s.last = id;
      this.io.deliver(item);
      return this.release(s, source);
    }
    if (id === s.last || before(id, s.last) || s.held.has(id)) return; // duplicate or late
    const next = (s.last + 1) % MOD;
    this.clearRtx(s, id);
    if (id === next) {
      s.last = id;
      this.io.deliver(item);
      return this.release(s, source);
    }
    s.held.set(id, item);
    for (let m = next; m !== id; m = (m + 1) % MOD) {
      if (!s.held.has(m) && !s.rtx.has(m)) this.askRtx(source, s, m);
    }
  }

  /** Whether `id` from `source` was delivered or is held already (a resend of it needs no opening). */
  has(source: string, id: number): boolean {
    const s = this.sources.get(source);
    if (s === undefined || s.last === undefined) return false;
    return id === s.last || before(id, s.last) || s.held.has(id);
  }

  /** The sender no longer has `id`: report it lost and move on. */
  onLost(source: string, id: number): void {
    const s = this.sources.get(source);
    if (s === undefined || s.last === undefined) return;
    if (id === s.last || before(id, s.last) || s.held.has(id)) return; // already have it: a stale notice
    this.clearRtx(s, id);
    if (id !== (s.last + 1) % MOD) {
      s.held.set(id, LOST);
      return;
    }
    s.last = id;
    this.io.lost(source, id);
    this.release(s, source);
  }

  private release(s: SourceState, source: string): void {
    for (;;) {
      const next = (s.last! + 1) % MOD;
      if (!s.held.has(next)) return;
      const item = s.held.get(next);
      s.held.delete(next);
      s.last = next;
      if (item === LOST) this.io.lost(source, next);
      else this.io.deliver(item as T);
    }
  }

  private askRtx(source: string, s: SourceState, id: number): void {
    const r = this.reliable!;
    const entry = { timer: undefined as unknown as NodeJS.Timeout, sends: 0 };
    const fire = () => {
      if (entry.sends > r.maxRetries) {
        s.rtx.delete(id);
        this.onLost(source, id);
        return;
      }
      entry.sends++;
      this.io.requestRtx(id, source);
      entry.timer = setTimeout(fire, r.intervalMs);
    };
    s.rtx.set(id, entry);
    fire();
  }

  private clearRtx(s: SourceState, id: number): void {
    const e = s.rtx.get(id);
    if (e !== undefined) {
      clearTimeout(e.timer);
      s.rtx.delete(id);
    }
  }

  dropSource(source: string): void {
    const s = this.sources.get(source);
    if (s === undefined) return;
    for (const e of s.rtx.values()) clearTimeout(e.timer);
    this.sources.delete(source);
  }

  close(): void {
    for (const k of [...this.sources.keys()]) this.dropSource(k);
  }
}

const LOST = Symbol("lost");
