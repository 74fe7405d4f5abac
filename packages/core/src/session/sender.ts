// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The data sender of one session: sequence ids, and in reliable mode a bounded
// buffer, per-endpoint ack sets, timer resends and RTX replies.

import { randomInt } from "node:crypto";
import { SlimError } from "../errors.js";
import { Fifo } from "../util/fifo.js";
import { MAX_DATA_MESSAGE_ID } from "./build.js";

/** Unacknowledged messages one reliable sender may have; publish() waits for room beyond. */
export const MAX_IN_FLIGHT = 4_096;
/**
 * The same for MLS sessions: every message costs the receiver a decryption in a single lane, so
 * a long queue there delays acks past the resend timer, and each resend (re-encrypted) adds work.
 */
export const MAX_IN_FLIGHT_MLS = 256;
/**
 * Sent messages kept for retransmission requests. Twice the in-flight window, so a
 * late or repeated request for a message acknowledged moments ago is still answered
 * (upstream keeps 512 and then answers "lost" for messages the receiver may well have).
 */
export const SENDER_BUFFER = 2 * MAX_IN_FLIGHT;

export interface ReliableSettings {
  intervalMs: number;
  maxRetries: number;
}

export interface OutboundData {
  payloadType: string;
  blob: Uint8Array;
  metadata: Map<string, string>;
}

interface InFlight {
  /** Send order (ids wrap and direct messages take random ids). */
  seq: number;
  data: OutboundData;
  waiting: Set<string>;
  /** A direct message (publish_to): resent to this endpoint only. */
  to: string | undefined;
  sends: number;
  /** Timer rounds in which a resend was held for an endpoint that is behind (bounded: {@link deferLimit}). */
  deferrals: number;
  timer: NodeJS.Timeout | undefined;
  done: (err?: SlimError) => void;
}

export interface SenderIo {
  /**
   * Send data message `id` to one endpoint (or to the session destination when `to` is undefined).
   * MLS sessions seal it first: the promise says when it reached the datapath (the resend timer
   * starts then, not while it waits to be sealed).
   */
  send(id: number, data: OutboundData, to: string | undefined, asRtxReply: boolean, forwardTo?: bigint): void | Promise<void>;
  /** Send an error RTX_REPLY: the requested id is gone from the buffer. */
  sendLost(id: number, to: string, forwardTo?: bigint): void;
  /** Endpoints that stopped acking after the retry budget. */
  endpointsSilent(keys: string[]): void;
}

/**
 * Timer rounds a message's resends may be held for endpoints that are behind: however slowly a
 * receiver works through a backlog, a message is resent (and, after maxRetries, given up on) within
 * about (2 × (maxRetries + 1) + maxRetries + 1) intervals.
 */
const deferLimit = (r: ReliableSettings): number => 2 * (r.maxRetries + 1);

/** The latest ack from one endpoint: when, and for the latest message (in send order) it acked. */
interface Progress {
  at: number;
  seq: number;
}

export class DataSender {
  private nextId = 0;
  private nextSeq = 0;
  private readonly progress = new Map<string, Progress>();
  private readonly inFlight = new Map<number, InFlight>();
  private readonly ring: number[] = [];
  private readonly buffered = new Map<number, OutboundData>();
  private readonly roomWaiters = new Fifo<() => void>();

  constructor(
    private readonly io: SenderIo,
    private readonly reliable: ReliableSettings | undefined,
    private readonly endpoints: () => string[],
    private readonly maxInFlight: number = MAX_IN_FLIGHT,
  ) {}

  /** The id of the last data message sent (0 before the first). */
  get lastId(): number {
    return this.nextId;
  }

  /** A restored session goes on after the ids it used before the restart. */
  resumeAfter(lastId: number): void {
    this.nextId = lastId % (MAX_DATA_MESSAGE_ID + 1);
  }

  private takeId(): number {
    this.nextId = (this.nextId + 1) % (MAX_DATA_MESSAGE_ID + 1);
    return this.nextId;
  }

  /** Send one message; resolves at once (unreliable) or when every endpoint acked or went silent. */
  async publish(data: OutboundData): Promise<void> {
    if (this.reliable === undefined) {
      this.io.send(this.takeId(), data, undefined, false);
      return;
    }
    if (this.mustWait()) {
      await new Promise<void>((r) => this.roomWaiters.push(r));
      this.handedOver--;
    }
    return this.send(this.takeId(), data);
  }

  /**
   * Room in the window goes to publishes in call order: a newcomer waits while others wait, and a
   * slot handed to a woken waiter is kept for it. (Otherwise a later message could take an earlier
   * id than one woken a microtask before it, and a stream's chunks would be reordered.)
   */
  private mustWait(): boolean {
    return this.roomWaiters.length > 0 || this.inFlight.size + this.handedOver >= this.maxInFlight;
  }

  /** Slots handed to woken waiters that have not taken them yet. */
  private handedOver = 0;

  private wake(): void {
    while (this.roomWaiters.length > 0 && this.inFlight.size + this.handedOver < this.maxInFlight) {
      this.handedOver++;
      this.roomWaiters.shift()!();
    }
  }

  /**
   * Send one message to a single endpoint (upstream's publish_to, a direct reply): a random id
   * above the data range, never reordered by the receiver, not kept for RTX requests; in
   * reliable mode acked and resent like any other message, by that endpoint only.
   */
  async publishTo(data: OutboundData, to: string): Promise<void> {
    const id = randomInt(MAX_DATA_MESSAGE_ID + 1, 0xffff_ffff);
    if (this.reliable === undefined) {
      this.io.send(id, data, to, false);
      return;
    }
    if (this.mustWait()) {
      await new Promise<void>((r) => this.roomWaiters.push(r));
      this.handedOver--;
    }
    return this.track(id, data, new Set([to]), to);
  }

  private send(id: number, data: OutboundData): Promise<void> {
    this.remember(id, data);
    return this.track(id, data, new Set(this.endpoints()), undefined);
  }

  private track(id: number, data: OutboundData, waiting: Set<string>, to: string | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const f: InFlight = { seq: ++this.nextSeq, data, waiting, to, sends: 1, deferrals: 0, timer: undefined, done: (err) => (err ? reject(err) : resolve()) };
      this.inFlight.set(id, f);
      const sent = this.io.send(id, data, to, false);
      if (waiting.size === 0) return this.finish(id, f);
      // armed after this turn's socket write (queued by the send as a microtask before this one):
      // the timer's cost then does not delay the message
      queueMicrotask(() => {
        if (this.inFlight.get(id) === f && f.timer === undefined) this.armAfter(id, f, sent);
      });
    });
  }

  private armAfter(id: number, f: InFlight, sent: void | Promise<void>): void {
    if (!(sent instanceof Promise)) return this.arm(id, f);
    sent.then(
      () => {
        if (this.inFlight.get(id) === f) this.arm(id, f);
      },
      () => undefined,
    );
  }

  private remember(id: number, data: OutboundData): void {
    this.buffered.set(id, data);
    this.ring.push(id);
    if (this.ring.length > SENDER_BUFFER) this.buffered.delete(this.ring.shift()!);
  }

  private arm(id: number, f: InFlight): void {
    const r = this.reliable!;
    f.timer = setTimeout(() => {
      // Not every endpoint missing the message gets it again now:
      // - one that acked nothing since an older message it also owes is stuck on that one, whose
      //   own timer resends it (an overloaded receiver gets one copy per interval, not a flood);
      // - one that acked, within the last interval, messages sent before this one but none after
      //   it is working through a backlog (an MLS member decrypting a burst): it will get here, and
      //   a copy now would only lengthen its queue.
      // Both end: the older message is acked or given up on, an endpoint that acks nothing for an
      // interval is deferred to no more, and a message is held at most deferLimit rounds. One that
      // acked later messages lost this one or its ack.
      const now = performance.now();
      const oldest = this.oldestOwed(f);
      const mayDefer = f.deferrals < deferLimit(r);
      const missing = [...f.waiting].filter((key) => {
        if (!mayDefer) return true;
        const p = this.progress.get(key);
        const stuckAt = oldest.get(key);
        if (stuckAt !== undefined && (p === undefined || p.seq < stuckAt)) return false;
        return p === undefined || p.seq > f.seq || now - p.at >= r.intervalMs;
      });
      if (missing.length < f.waiting.size) f.deferrals++;
      if (missing.length === 0) return this.arm(id, f);
      if (f.sends > r.maxRetries) {
        this.io.endpointsSilent(missing);
        // the session may have dropped those endpoints (acking this) or closed (finishing it)
        if (this.inFlight.get(id) !== f) return;
        for (const key of missing) f.waiting.delete(key);
        if (f.waiting.size === 0) return this.finish(id, f);
        return this.arm(id, f);
      }
      f.sends++;
      // several endpoints missing it: once to everyone (the others ack a duplicate and drop it),
      // rather than one copy per endpoint, each sealed anew in MLS sessions
      if (f.to === undefined && missing.length > 1) return this.armAfter(id, f, this.io.send(id, f.data, undefined, false));
      let last: void | Promise<void> = undefined;
      for (const to of missing) last = this.io.send(id, f.data, to, false);
      this.armAfter(id, f, last);
    }, r.intervalMs);
  }

  /** For each endpoint of `f.waiting` that owes an older message too, the oldest such message's seq. */
  private oldestOwed(f: InFlight): Map<string, number> {
    const out = new Map<string, number>();
    for (const g of this.inFlight.values()) {
      if (g === f || out.size === f.waiting.size) break;
      for (const key of g.waiting) if (f.waiting.has(key) && !out.has(key)) out.set(key, g.seq);
    }
    return out;
  }

  private finish(id: number, f: InFlight, err?: SlimError): void {
    if (f.timer !== undefined) clearTimeout(f.timer);
    this.inFlight.delete(id);
    f.done(err);
    this.wake();
  }

  onAck(id: number, from: string): void {
    const f = this.inFlight.get(id);
    if (f === undefined) return;
    if (!f.waiting.delete(from)) return;
    const at = performance.now();
    const p = this.progress.get(from);
    if (p === undefined) this.progress.set(from, { at, seq: f.seq });
    else {
      p.at = at;
      if (f.seq > p.seq) p.seq = f.seq;
    }
    if (f.waiting.size === 0) this.finish(id, f);
  }

  /** A receiver asks for `id` again: it counts as its ack; answer from the buffer or say it is lost. */
  onRtxRequest(id: number, from: string, forwardTo?: bigint): void {
    // unacknowledged messages are always answerable; acknowledged ones while in the ring
    const data = this.inFlight.get(id)?.data ?? this.buffered.get(id);
    this.onAck(id, from);
    if (data === undefined) this.io.sendLost(id, from, forwardTo);
    else this.io.send(id, data, from, true, forwardTo);
  }

  /** An endpoint left: nothing more is owed by it. */
  dropEndpoint(key: string): void {
    for (const id of [...this.inFlight.keys()]) this.onAck(id, key);
    this.progress.delete(key);
  }

  close(err: SlimError): void {
    for (const [id, f] of [...this.inFlight]) this.finish(id, f, err);
    for (let w = this.roomWaiters.shift(); w !== undefined; w = this.roomWaiters.shift()) {
      this.handedOver++;
      w();
    }
  }
}
