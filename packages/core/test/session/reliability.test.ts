// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DataReceiver, MAX_AHEAD, MAX_RTX_GAP } from "../../src/session/receiver.js";
import { DataSender, type OutboundData } from "../../src/session/sender.js";

const R = { intervalMs: 100, maxRetries: 3 };

function receiver(firstId?: number) {
  const delivered: number[] = [];
  const errors: string[] = [];
  const rtx: number[] = [];
  const r = new DataReceiver<number>(
    { deliver: (x) => delivered.push(x), lost: (source, id, count) => errors.push(count === 1 ? `${source}#${id}` : `${source}#${id}+${count}`), requestRtx: (id) => rtx.push(id) },
    R,
    firstId,
  );
  return { r, delivered, errors, rtx };
}

describe("DataReceiver", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("delivers in order, drops duplicates, and asks for each missing id at once", () => {
    const { r, delivered, rtx } = receiver(1);
    for (const id of [1, 2, 2, 5, 4, 1]) r.onData("a", id, id);
    expect(delivered).toEqual([1, 2]);
    expect(rtx).toEqual([3, 4]); // 5 revealed the gap 3..4; 4 then arrived
    r.onData("a", 3, 3);
    expect(delivered).toEqual([1, 2, 3, 4, 5]);
    vi.advanceTimersByTime(1_000);
    expect(rtx).toEqual([3, 4]); // satisfied requests are not repeated
  });

  it("repeats an unanswered RTX request, then reports the id lost and moves on", () => {
    const { r, delivered, errors, rtx } = receiver(1);
    r.onData("a", 1, 1);
    r.onData("a", 3, 3);
    vi.advanceTimersByTime(R.intervalMs * (R.maxRetries + 1));
    expect(rtx).toEqual([2, 2, 2, 2]);
    expect(errors).toEqual(["a#2"]);
    expect(delivered).toEqual([1, 3]);
  });

  it("an explicit lost notice for a missing id releases what follows; a stale one is ignored", () => {
    const { r, delivered, errors } = receiver(1);
    r.onData("a", 1, 1);
    r.onData("a", 3, 3);
    r.onLost("a", 1);
    expect(errors).toEqual([]);
    r.onLost("a", 2);
    expect(errors).toEqual(["a#2"]);
    expect(delivered).toEqual([1, 3]);
  });

  it("with a known first id, a lost first message is requested rather than skipped", () => {
    const { r, delivered, rtx } = receiver(1);
    r.onData("a", 2, 2);
    expect(rtx).toEqual([1]);
    r.onData("a", 1, 1);
    expect(delivered).toEqual([1, 2]);
  });

  it("without a first id the stream starts wherever it is joined; sources are independent", () => {
    const { r, delivered } = receiver();
    r.onData("a", 40, 40);
    r.onData("b", 7, 7);
    r.onData("a", 41, 41);
    expect(delivered).toEqual([40, 7, 41]);
  });

  it("handles the wrap from 2^31-1 to 0", () => {
    const { r, delivered } = receiver();
    r.onData("a", 0x7fff_fffe, 1);
    r.onData("a", 0x7fff_ffff, 2);
    r.onData("a", 0, 3);
    r.onData("a", 0x7fff_fffe, 99);
    expect(delivered).toEqual([1, 2, 3]);
  });
});

describe("DataReceiver, long gaps and hostile ids", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("ignores ids outside the 31-bit data range (they used to spin the gap loop forever)", () => {
    const { r, delivered, rtx } = receiver(1);
    r.onData("a", 1, 1);
    for (const id of [0x8000_0000, 0xffff_ffff, -1, 2 ** 40, Number.NaN]) r.onData("a", id, id);
    r.onData("a", 2, 2);
    expect(delivered).toEqual([1, 2]);
    expect(rtx).toEqual([]);
  });

  it("one lost message with 5 000 later ones held behind it: one request, then everything in order", () => {
    const { r, delivered, errors, rtx } = receiver(1);
    r.onData("a", 1, 1);
    for (let id = 3; id <= 5_002; id++) r.onData("a", id, id); // the sender goes on while 2 is resent
    expect(rtx).toEqual([2]);
    expect(delivered).toEqual([1]);
    r.onData("a", 2, 2);
    expect(delivered.length).toBe(5_002);
    expect(delivered.every((x, i) => x === i + 1)).toBe(true);
    expect(errors).toEqual([]);
  });

  it("a gap longer than MAX_RTX_GAP: the latest MAX_RTX_GAP ids are asked for, the ones before them reported lost in one notice", () => {
    const { r, delivered, errors, rtx } = receiver(1);
    r.onData("a", 1, 1);
    const id = 2 + 3_000;
    r.onData("a", id, id);
    expect(errors).toEqual([`a#2+${3_000 - MAX_RTX_GAP}`]);
    expect(rtx.length).toBe(MAX_RTX_GAP);
    expect(rtx[0]).toBe(id - MAX_RTX_GAP);
    for (let m = id - MAX_RTX_GAP; m < id; m++) r.onData("a", m, m);
    expect(delivered).toEqual([1, ...Array.from({ length: MAX_RTX_GAP + 1 }, (_, i) => id - MAX_RTX_GAP + i)]);
    // a late copy of a given-up id changes nothing
    r.onData("a", 5, 5);
    expect(delivered.length).toBe(MAX_RTX_GAP + 2);
  });

  it("a sender more than MAX_AHEAD ids ahead: what is still missing before the window is given up, what is held comes out in order", () => {
    const { r, delivered, errors, rtx } = receiver(1);
    r.onData("a", 1, 1);
    r.onData("a", 3, 3); // held, 2 requested
    const far = 1_000_000_000; // 2^30 - a bit: still "after", not late
    r.onData("a", far, far);
    expect(delivered).toEqual([1, 3]);
    const windowStart = far - MAX_AHEAD;
    expect(errors).toEqual(["a#2", `a#4+${windowStart - 4}`, `a#${windowStart}+${MAX_AHEAD - MAX_RTX_GAP}`]);
    expect(rtx.length).toBe(1 + MAX_RTX_GAP);
    for (let id = far - MAX_RTX_GAP; id < far; id++) r.onData("a", id, id);
    expect(delivered.length).toBe(2 + MAX_RTX_GAP + 1);
    expect(delivered.at(-1)).toBe(far);
    // the old request for 2 was stopped: no retries for it later
    const sent = rtx.length;
    vi.advanceTimersByTime(R.intervalMs * 10);
    expect(rtx.slice(sent).includes(2)).toBe(false);
  });

  it("floods of far ids and lost notices keep held messages, requests and runs bounded", () => {
    const { r } = receiver(1);
    r.onData("a", 1, 1);
    for (let i = 0; i < 20_000; i++) r.onLost("a", 3 + ((i * 7919) % 0x3fff_0000));
    const state = (r as unknown as { sources: Map<string, { held: Map<number, unknown>; rtx: Map<number, unknown>; runs: unknown[] }> }).sources.get("a")!;
    expect(state.held.size).toBe(0); // notices for ids never seen are ignored
    for (let i = 0; i < 300; i++) r.onData("a", 10 + i * 2_000, i);
    for (let i = 0; i < 200; i++) r.onData("a", 700_000 + i * 5_000_000, i);
    expect(state.held.size).toBeLessThanOrEqual(MAX_AHEAD);
    expect(state.rtx.size).toBeLessThanOrEqual(MAX_AHEAD);
    expect(state.runs.length).toBeLessThanOrEqual(MAX_AHEAD / MAX_RTX_GAP);
  });
});

describe("DataSender", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const data = (t: string): OutboundData => ({ payloadType: "msg", blob: new TextEncoder().encode(t), metadata: new Map() });

  function sender(reliable = true, endpoints = ["peer"]) {
    const sent: Array<{ id: number; to: string | undefined; rtx: boolean }> = [];
    const lost: number[] = [];
    const silent: string[][] = [];
    const s = new DataSender(
      { send: (id, _d, to, rtx) => void sent.push({ id, to, rtx }), sendLost: (id) => lost.push(id), endpointsSilent: (k) => silent.push(k) },
      reliable ? R : undefined,
      () => endpoints,
    );
    return { s, sent, lost, silent };
  }

  it("numbers messages from 1 and resolves a reliable publish on the ack", async () => {
    const { s, sent } = sender();
    let done = false;
    const p = s.publish(data("a")).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual([{ id: 1, to: undefined, rtx: false }]);
    expect(done).toBe(false);
    s.onAck(1, "peer");
    await p;
    expect(done).toBe(true);
  });

  it("resends to the silent endpoint every interval, then gives up and reports it", async () => {
    const { s, sent, silent } = sender();
    const p = s.publish(data("a"));
    await vi.advanceTimersByTimeAsync(R.intervalMs * (R.maxRetries + 1));
    await p;
    expect(sent.map((x) => x.to)).toEqual([undefined, "peer", "peer", "peer"]);
    expect(silent).toEqual([["peer"]]);
  });

  it("holds resends for an endpoint working through a backlog, and resends once its acks stop coming", async () => {
    const { s, sent } = sender();
    const done: number[] = [];
    for (let i = 1; i <= 3; i++) void s.publish(data(`m${i}`)).then(() => done.push(i));
    await vi.advanceTimersByTimeAsync(50);
    s.onAck(1, "peer"); // t=50: busy, but getting there
    await vi.advanceTimersByTimeAsync(100); // t=150: 2 and 3 are due; the peer acked 1 within the interval
    expect(sent.map((x) => x.id)).toEqual([1, 2, 3]);
    s.onAck(2, "peer");
    await vi.advanceTimersByTimeAsync(100); // t=250: 3 is due again; the peer acked 2 at 150
    expect(sent.map((x) => x.id)).toEqual([1, 2, 3]);
    await vi.advanceTimersByTimeAsync(100); // t=350: no ack for 200 ms: 3 goes again, to the peer
    expect(sent.map((x) => `${x.id}>${x.to ?? "all"}`)).toEqual(["1>all", "2>all", "3>all", "3>peer"]);
    s.onAck(3, "peer");
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toEqual([1, 2, 3]);
  });

  it("resends only the oldest message an endpoint owes; the younger ones wait for it", async () => {
    const { s, sent } = sender();
    for (let i = 1; i <= 3; i++) void s.publish(data(`m${i}`));
    await vi.advanceTimersByTimeAsync(R.intervalMs + 10);
    expect(sent.map((x) => `${x.id}>${x.to ?? "all"}`)).toEqual(["1>all", "2>all", "3>all", "1>peer"]);
    s.onAck(1, "peer");
    s.onAck(2, "peer");
    await vi.advanceTimersByTimeAsync(2 * R.intervalMs);
    // 3 waited behind 1, then behind the fresh acks; once they are an interval old it goes again
    expect(sent.map((x) => `${x.id}>${x.to ?? "all"}`)).toEqual(["1>all", "2>all", "3>all", "1>peer", "3>peer"]);
  });

  it("resends at once to an endpoint that acked later messages but not this one (its ack or the message was lost)", async () => {
    const { s, sent } = sender(true, ["a", "b"]);
    void s.publish(data("m1"));
    void s.publish(data("m2"));
    await vi.advanceTimersByTimeAsync(10);
    s.onAck(1, "a");
    s.onAck(2, "a");
    s.onAck(2, "b"); // b's ack for 1 went missing
    await vi.advanceTimersByTimeAsync(R.intervalMs);
    expect(sent.map((x) => `${x.id}>${x.to ?? "all"}`)).toEqual(["1>all", "2>all", "1>b"]);
  });

  it("gives up on an endpoint that stops acking altogether, even while another one is still behind", async () => {
    const { s, sent, silent } = sender(true, ["busy", "gone"]);
    let settled = false;
    void s.publish(data("m0")).then(() => (settled = true));
    void s.publish(data("m1"));
    await vi.advanceTimersByTimeAsync(10);
    s.onAck(1, "busy");
    // "busy" acks m0 only, then keeps acking nothing new for m1 until it is deferred no more
    await vi.advanceTimersByTimeAsync(R.intervalMs * (R.maxRetries + 2));
    expect(silent.flat()).toContain("gone");
    expect(settled).toBe(true);
    // m0 is resent to "gone"; m1 waits for "gone" behind m0 and for "busy" while its ack was recent, then goes to "busy"
    expect(sent.filter((x) => x.id === 1 && x.to !== undefined).every((x) => x.to === "gone")).toBe(true);
    expect(sent.filter((x) => x.id === 2).map((x) => x.to ?? "all").slice(0, 2)).toEqual(["all", "busy"]);
  });

  it("a receiver that keeps acking old messages, one per interval, cannot hold a message back for ever", async () => {
    const { s, sent, silent } = sender();
    let settled = false;
    for (let i = 1; i < 40; i++) void s.publish(data(`m${i}`));
    void s.publish(data("m40")).then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(10);
    // the peer acks message 1, 2, 3, ... one per interval: always "behind and progressing" for message 40
    for (let k = 1; k <= 16 && !settled; k++) {
      s.onAck(k, "peer");
      await vi.advanceTimersByTimeAsync(R.intervalMs);
    }
    // held for 2 × (maxRetries + 1) rounds, then resent maxRetries times, then given up on
    expect(sent.filter((x) => x.id === 40 && x.to === "peer")).toHaveLength(R.maxRetries);
    expect(silent.flat()).toContain("peer");
    expect(settled).toBe(true);
  });

  it("room in a full window goes to publishes in call order: one called right after an ack does not overtake a waiter", async () => {
    const sent: Array<{ id: number; text: string }> = [];
    const s = new DataSender(
      { send: (id, d) => void sent.push({ id, text: new TextDecoder().decode(d.blob) }), sendLost: () => undefined, endpointsSilent: () => undefined },
      R,
      () => ["a"],
      2,
    );
    for (const t of ["m0", "m1", "m2", "m3"]) void s.publish(data(t)); // m2 and m3 wait for room
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.map((x) => x.text)).toEqual(["m0", "m1"]);
    s.onAck(1, "a"); // a slot for m2 ...
    void s.publish(data("m4")); // ... which a newcomer called in the same turn must not take
    s.onAck(2, "a");
    await vi.advanceTimersByTimeAsync(0);
    s.onAck(3, "a");
    await vi.advanceTimersByTimeAsync(0);
    // ids follow the order of the publish calls, and so does what went out
    expect(sent.map((x) => `${x.id}:${x.text}`)).toEqual(["1:m0", "2:m1", "3:m2", "4:m3", "5:m4"]);
  });

  it("an endpoint given up on and dropped by the session: the next message takes its slot, the window holds", async () => {
    const sent: number[] = [];
    const s: DataSender = new DataSender(
      { send: (id) => void sent.push(id), sendLost: () => undefined, endpointsSilent: (keys) => keys.forEach((k) => s.dropEndpoint(k)) },
      R,
      () => ["a"],
      1,
    );
    for (let i = 0; i < 3; i++) void s.publish(data(`m${i}`));
    await vi.advanceTimersByTimeAsync(R.intervalMs * (R.maxRetries + 1) + 10);
    // 1 went 1 + maxRetries times, was given up on; 2 took its slot; 3 still waits for room
    expect(sent.filter((id) => id === 1)).toHaveLength(1 + R.maxRetries);
    expect(sent).toContain(2);
    expect(sent).not.toContain(3);
  });

  it("answers an RTX request from the buffer (counting it as the ack), or says lost", async () => {
    const { s, sent, lost } = sender();
    const p = s.publish(data("a"));
    await vi.advanceTimersByTimeAsync(0);
    s.onRtxRequest(1, "peer");
    await p;
    expect(sent.at(-1)).toEqual({ id: 1, to: "peer", rtx: true });
    s.onRtxRequest(999, "peer");
    expect(lost).toEqual([999]);
  });

  it("unreliable publishes resolve at once and keep nothing", async () => {
    const { s, sent, lost } = sender(false);
    await s.publish(data("a"));
    s.onRtxRequest(1, "peer");
    expect(sent).toHaveLength(1);
    expect(lost).toEqual([1]);
  });
});
