// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DataReceiver } from "../../src/session/receiver.js";
import { DataSender, type OutboundData } from "../../src/session/sender.js";

const R = { intervalMs: 100, maxRetries: 3 };

function receiver(firstId?: number) {
  const delivered: number[] = [];
  const errors: string[] = [];
  const rtx: number[] = [];
  const r = new DataReceiver<number>(
    { deliver: (x) => delivered.push(x), lost: (source, id) => errors.push(`${source}#${id}`), requestRtx: (id) => rtx.push(id) },
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

describe("DataSender", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const data = (t: string): OutboundData => ({ payloadType: "msg", blob: new TextEncoder().encode(t), metadata: new Map() });

  function sender(reliable = true) {
    const sent: Array<{ id: number; to: string | undefined; rtx: boolean }> = [];
    const lost: number[] = [];
    const silent: string[][] = [];
    const s = new DataSender(
      { send: (id, _d, to, rtx) => void sent.push({ id, to, rtx }), sendLost: (id) => lost.push(id), endpointsSilent: (k) => silent.push(k) },
      reliable ? R : undefined,
      () => ["peer"],
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
