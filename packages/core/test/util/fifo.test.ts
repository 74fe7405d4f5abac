// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { describe, expect, it } from "vitest";
import { Fifo } from "../../src/util/fifo.js";

describe("Fifo", () => {
  it("hands items back in push order across compactions, interleaved with pushes", () => {
    const q = new Fifo<number>();
    const out: number[] = [];
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 300; i++) q.push(next++);
      for (let i = 0; i < 200; i++) out.push(q.shift()!);
    }
    while (q.length > 0) out.push(q.shift()!);
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
    expect(q.shift()).toBeUndefined();
    expect(q.length).toBe(0);
  });

  it("clear empties it", () => {
    const q = new Fifo<string>();
    q.push("a");
    q.push("b");
    q.clear();
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
  });
});
