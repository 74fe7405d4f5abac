// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// app.prepareMls(): the MLS engine loaded and run once ahead of the first MLS
// session. Its throwaway state must not leak into real sessions, and the call
// is bounded like every other async call.

import { createApp, SlimError, type GroupSession } from "@slim-ts/core";
import { MessageProcessor } from "@slim-ts/core/internal";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";
import { DEFAULT_SECRET } from "../helpers/official/index.js";
import { reader } from "../helpers/sessions.js";

const enc = new TextEncoder();

describe("prepareMls", () => {
  it("prepared apps join an MLS group and exchange messages; preparing twice is harmless", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    await using mod = await createApp({ name: "org/ns/mod", secret: DEFAULT_SECRET, connect: node.url });
    await using m1 = await createApp({ name: "org/ns/m1", secret: DEFAULT_SECRET, connect: node.url });
    await using m2 = await createApp({ name: "org/ns/m2", secret: DEFAULT_SECRET, connect: node.url });
    await Promise.all([mod.prepareMls(), m1.prepareMls(), m2.prepareMls({ timeoutMs: 20_000 }), m2.prepareMls()]);

    const accepted = [m1, m2].map((m) => m.listen({ kind: "group" })[Symbol.asyncIterator]().next());
    const group = await mod.createSession({ type: "group", channel: "org/ns/room" }, { reliable: { intervalMs: 300, maxRetries: 5 }, mls: true });
    await group.invite("org/ns/m1");
    await group.invite("org/ns/m2");
    const [g1, g2] = (await Promise.all(accepted)).map((r) => r.value as GroupSession) as [GroupSession, GroupSession];
    expect(g1.mls).toBeDefined();
    expect(g2.mls).toBeDefined();

    await group.publish(enc.encode("to all"));
    await g1.publish(enc.encode("from m1"));
    expect((await reader(g2).take(2, 5_000)).map((m) => m.text()).sort()).toEqual(["from m1", "to all"]);
  });

  it("an aborted signal stops it with SlimError ABORTED", async () => {
    const processor = new MessageProcessor();
    await using app = await createApp({ name: "org/ns/p", secret: DEFAULT_SECRET, processor });
    const err = await app.prepareMls({ signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlimError);
    expect((err as SlimError).code).toBe("ABORTED");
    processor.close();
  });
});
