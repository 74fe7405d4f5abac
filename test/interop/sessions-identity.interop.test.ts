// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Identity at session level, against live official apps: a peer whose token was
// signed with another secret is refused exactly where the official refuses it
// (the discovery request), and the failure reaches the initiator as a typed
// error after its retries, never as a hang.

import { createApp, SlimError } from "@slim-ts/core";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";
import { DEFAULT_SECRET, startOfficialApp } from "../helpers/official/index.js";

const OTHER_SECRET = "a-different-shared-secret-of-enough-length-42";

describe("session identity checks against official apps", () => {
  it("our app refuses an official app whose token is signed with another secret", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    await using official = await startOfficialApp({ name: "org/ns/intruder", url: node.url, secret: OTHER_SECRET });
    await using app = await createApp({ name: "org/ns/ours", secret: DEFAULT_SECRET, connect: node.url });
    await official.route("org/ns/ours");
    const accepted: unknown[] = [];
    const listening = (async () => {
      for await (const s of app.listen()) accepted.push(s);
    })();
    await expect(official.create({ type: "p2p", peer: "org/ns/ours", maxRetries: 2, intervalMs: 300 })).rejects.toThrow(/retries exhausted/);
    expect(accepted).toEqual([]);
    await app.close();
    await listening;
  });

  it("an official app refuses ours when our token is signed with another secret; we get a SESSION error", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    await using official = await startOfficialApp({ name: "org/ns/official", url: node.url });
    await using app = await createApp({ name: "org/ns/intruder", secret: OTHER_SECRET, connect: node.url });
    const listening = official.listen({ timeoutMs: 4_000 }).then(() => "accepted", () => "nothing");
    const err = await app.createSession({ type: "p2p", peer: "org/ns/official" }, { reliable: { intervalMs: 300, maxRetries: 2 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlimError);
    expect((err as SlimError).code).toBe("SESSION");
    expect((err as SlimError).message).toContain("retries exhausted");
    expect(await listening).toBe("nothing");
  });

  it("a session setup that can never complete is bounded by its timeout", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    await using app = await createApp({ name: "org/ns/lonely", secret: DEFAULT_SECRET, connect: node.url });
    const t0 = Date.now();
    const err = await app.createSession({ type: "p2p", peer: "org/ns/nobody" }, { timeoutMs: 800 }).catch((e: unknown) => e);
    expect((err as SlimError).code).toBe("TIMEOUT");
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});
