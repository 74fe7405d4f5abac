// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { describe, expect, it } from "vitest";
import { SlimError } from "../../src/errors.js";
import {
  decodeProtoGroupClosePayload,
  decodeProtoSubscriptionAck,
  encodeProtoGroupClosePayload,
  encodeProtoSubscriptionAck,
} from "../../src/wire/gen/dataplane.js";
import { MAX_NESTED_MESSAGES } from "../../src/wire/proto-runtime.js";

describe("decode limits", () => {
  it("refuses a message that would create more nested objects than the budget", () => {
    // GroupClosePayload.participants (field 1, length-delimited): N empty Names
    const n = MAX_NESTED_MESSAGES + 1;
    const bytes = new Uint8Array(n * 2);
    for (let i = 0; i < n; i++) bytes[i * 2] = 0x0a;
    let err: unknown;
    try {
      decodeProtoGroupClosePayload(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SlimError);
    expect((err as SlimError).code).toBe("PROTOCOL");
    // just under the budget still decodes
    const ok = decodeProtoGroupClosePayload(bytes.subarray(0, 1_000 * 2));
    expect(ok.participants).toHaveLength(1_000);
    expect(encodeProtoGroupClosePayload(ok)).toEqual(bytes.subarray(0, 2_000));
  });

  it("encoded bytes are never rewritten by later encodes (results may share a slab)", () => {
    const kept: Array<[bigint, Uint8Array]> = [];
    for (let i = 0; i < 20_000; i++) {
      kept.push([BigInt(i), encodeProtoSubscriptionAck({ subscriptionId: BigInt(i), success: i % 2 === 0, error: "e".repeat(i % 700) })]);
    }
    for (const [i, b] of kept) expect(decodeProtoSubscriptionAck(b).subscriptionId).toBe(i);
  });
});
