// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { describe, expect, it } from "vitest";
import { Name } from "../../src/names/name.js";
import { ReceivedMessage } from "../../src/session/message.js";

const replier = { replyTo: async () => {} };

describe("ReceivedMessage payload", () => {
  it("copies a small payload out of the large read it is a view into, so keeping it does not keep the read", () => {
    const read = new Uint8Array(64 * 1024).fill(7);
    const view = read.subarray(1000, 1064);
    const m = new ReceivedMessage(Name.parse("org/ns/a"), "msg", {}, view, 1, replier);
    expect(m.payload.buffer).not.toBe(read.buffer);
    expect(m.payload.buffer.byteLength).toBe(64);
    expect(Array.from(m.payload)).toEqual(Array.from(view));
  });

  it("keeps a payload that owns its buffer, or most of it, as it is", () => {
    const own = new Uint8Array(100).fill(1);
    expect(new ReceivedMessage(Name.parse("org/ns/a"), "msg", {}, own, 1, replier).payload).toBe(own);
    const big = new Uint8Array(1000).subarray(0, 900);
    expect(new ReceivedMessage(Name.parse("org/ns/a"), "msg", {}, big, 1, replier).payload).toBe(big);
  });
});
