// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The data receiver of one session: per source, in-order delivery without
// duplicates; a gap triggers an RTX request at once, retried on a timer.
//
// Bounds, since a data message's id is whatever its sender wrote: ids outside
// the 31-bit data range are ignored; a message more than MAX_AHEAD ids past the
// last one delivered makes the receiver give up on what is still missing before
// it; and one message never starts more than MAX_RTX_GAP resend requests (the
// missing ids further back count as lost at once, reported as one run).

import type { ReliableSettings } from "./sender.js";

const HALF = 0x4000_0000;
const MOD = 0x8000_0000;

/**
 * Newly missing ids one message may make the receiver ask for, at most; older ones in the
 * same gap count as lost at once. Twice what an official sender keeps for resending (512).
 */
export const MAX_RTX_GAP = 1_024;

/**
 * How far past the last delivered id a source may get: messages held behind a missing one,
 * and requests outstanding, stay below this. A sender keeps going while a lost message is
 * resent (the later ones are acked), so this is well above any in-flight window.
 */
export const MAX_AHEAD = 65_536;

/** True when a comes before b in the wrapping 31-bit id space. */
function before(a: number, b: number): boolean {
  const d = (b - a + MOD) % MOD;
  return d !== 0 && d < HALF;
}

/** How far `b` is after `a` in the wrapping 31-bit id space. */
function distance(a: number, b: number): number {
  return (b - a + MOD) % MOD;
}

interface SourceState {
  /** The last id delivered (or reported lost). */
  last: number | undefined;
  /** The highest id seen: ids between `last` and `top` are held, requested, or in a lost run. */
  top: number;
  held: Map<number, unknown>;
  rtx: Map<number, { timer: NodeJS.Timeout; sends: number }>;
  /** Missing ids given up on without asking (a gap too long to request), in id order. */
  runs: Array<{ from: number; count: number }>;
}

export interface ReceiverIo<T> {
  deliver(item: T): void;
  /** Messages `id` to `id + count - 1` from `source` cannot be recovered; delivery goes on with what follows. */
  lost(source: string, id: number, count: number): void;
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
    if (!(id >= 0 && id < MOD)) return; // not a sequenced data id (those stay below 2^31)
    let s = this.sources.get(source);
    if (s === undefined) {
      const last = this.firstId === undefined ? undefined : (this.firstId - 1 + MOD) % MOD;
      s = { last, top: last ?? 0, held: new Map(), rtx: new Map(), runs: [] };
      this.sources.set(source, s);
    }
    if (s.last === undefined) {
      s.last = s.top = id;
      this.io.deliver(item);
      return this.release(s, source);
    }
    if (this.known(s, id)) return; // duplicate, late, or given up on
    this.clearRtx(s, id);
    if (distance(s.last, id) > MAX_AHEAD) this.giveUpBefore(s, source, (id - MAX_AHEAD + MOD) % MOD);
    if (id === (s.last + 1) % MOD) {
      s.last = id;
      if (before(s.top, id)) s.top = id;
      this.io.deliver(item);
      return this.release(s, source);
    }
    s.held.set(id, item);
    if (!before(s.top, id)) return; // inside a gap already asked for
    // ids between the old top and this one are newly missing: ask for the latest MAX_RTX_GAP
    const missing = distance(s.top, id) - 1;
    let from = (s.top + 1) % MOD;
    s.top = id;
    if (missing > MAX_RTX_GAP) {
      s.runs.push({ from, count: missing - MAX_RTX_GAP });
      from = (id - MAX_RTX_GAP + MOD) % MOD;
    }
    for (let m = from; m !== id; m = (m + 1) % MOD) if (!s.rtx.has(m)) this.askRtx(source, s, m);
    this.release(s, source); // a run may start right after `last`
  }

  /** Whether `id` from `source` was delivered or is held already (a resend of it needs no opening). */
  has(source: string, id: number): boolean {
    const s = this.sources.get(source);
    if (s === undefined || s.last === undefined) return false;
    return this.known(s, id);
  }

  /** The sender no longer has `id`: report it lost and move on. */
  onLost(source: string, id: number): void {
    const s = this.sources.get(source);
    if (s === undefined || s.last === undefined) return;
    if (this.known(s, id)) return; // already have it: a stale notice
    if (before(s.top, id)) return; // past anything seen: nothing we asked for
    this.clearRtx(s, id);
    if (id !== (s.last + 1) % MOD) {
      s.held.set(id, LOST);
      return;
    }
    s.last = id;
    this.io.lost(source, id, 1);
    this.release(s, source);
  }

  /** Delivered, reported lost, held, or in a run given up on. */
  private known(s: SourceState, id: number): boolean {
    const last = s.last!;
    if (id === last || before(id, last) || s.held.has(id)) return true;
    for (const r of s.runs) if (distance(r.from, id) < r.count) return true;
    return false;
  }

  private release(s: SourceState, source: string): void {
    for (;;) {
      const next = (s.last! + 1) % MOD;
      const run = s.runs[0];
      if (run !== undefined && run.from === next) {
        s.runs.shift();
        s.last = (run.from + run.count - 1) % MOD;
        this.io.lost(source, run.from, run.count);
        continue;
      }
      if (!s.held.has(next)) break;
      const item = s.held.get(next);
      s.held.delete(next);
      s.last = next;
      if (item === LOST) this.io.lost(source, next, 1);
      else this.io.deliver(item as T);
    }
    if (before(s.top, s.last!)) s.top = s.last!;
  }

  /**
   * Ids before `to` are no longer waited for: what is held among them is delivered in order,
   * each stretch of missing ones reported lost in one notice, their requests stopped.
   */
  private giveUpBefore(s: SourceState, source: string, to: number): void {
    const start = s.last!;
    const earlier = [...s.held.keys()].filter((k) => before(k, to)).sort((a, b) => distance(start, a) - distance(start, b));
    for (const k of earlier) {
      const gap = distance(s.last!, k) - 1;
      if (gap > 0) this.io.lost(source, (s.last! + 1) % MOD, gap);
      const item = s.held.get(k);
      s.held.delete(k);
      s.last = k;
      if (item === LOST) this.io.lost(source, k, 1);
      else this.io.deliver(item as T);
    }
    const gap = distance(s.last!, to) - 1;
    if (gap > 0) this.io.lost(source, (s.last! + 1) % MOD, gap);
    s.last = (to - 1 + MOD) % MOD;
    if (before(s.top, s.last)) s.top = s.last;
    for (const [m, e] of s.rtx) {
      if (before(m, to)) {
        clearTimeout(e.timer);
        s.rtx.delete(m);
      }
    }
    // runs before `to` were reported with the gaps above; one across it now starts at `to`
    s.runs = s.runs.flatMap((r) => {
      const end = (r.from + r.count) % MOD;
      if (!before(to, end)) return [];
      return before(r.from, to) ? [{ from: to, count: distance(to, end) }] : [r];
    });
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
