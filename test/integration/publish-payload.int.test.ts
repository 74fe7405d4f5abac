// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// What publish accepts: bytes, or a string sent as UTF-8; anything else is
// refused with a SlimError (it used to go out as an empty payload).

import { createApp, SlimError, type P2PSession } from "@slim-ts/core";
import { MessageProcessor } from "@slim-ts/core/internal";
import { describe, expect, it } from "vitest";
import { DEFAULT_SECRET } from "../helpers/official/index.js";
import { reader } from "../helpers/sessions.js";

describe("publish payloads", () => {
  it("strings arrive as their UTF-8 bytes; numbers, objects and null are refused and nothing is sent", async () => {
    const processor = new MessageProcessor();
    await using a = await createApp({ name: "org/ns/a", secret: DEFAULT_SECRET, processor });
    await using b = await createApp({ name: "org/ns/b", secret: DEFAULT_SECRET, processor });
    const incoming = b.listen({ kind: "p2p" })[Symbol.asyncIterator]().next();
    const sa = await a.createSession({ type: "p2p", peer: "org/ns/b" }, { reliable: { intervalMs: 200, maxRetries: 3 } });
    const sb = (await incoming).value as P2PSession;
    for (const bad of [42, { text: "x" }, null]) {
      const err = await sa.publish(bad as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SlimError);
      expect((err as SlimError).code).toBe("INVALID_ARGUMENT");
    }
    await sa.publish("héllo ✓");
    await sa.publish(new TextEncoder().encode("bytes"));
    const got = await reader(sb).take(2, 5_000);
    expect(got.map((m) => m.text())).toEqual(["héllo ✓", "bytes"]);
    expect(Buffer.from(got[0]!.payload).equals(Buffer.from("héllo ✓", "utf8"))).toBe(true);
    processor.close();
  });
});
