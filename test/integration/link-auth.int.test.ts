// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Link-level authentication: a node that requires Basic or Bearer credentials.

import { SharedSecretProvider, SlimError } from "@slim-ts/core";
import { DialedLink, MessageProcessor, type DialOptions } from "@slim-ts/core/internal";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";

const SECRET = "link-auth-test-secret-0123456789abcdef";

async function dial(url: string, auth?: DialOptions["auth"]) {
  const p = new MessageProcessor();
  const t0 = Date.now();
  try {
    const l = await DialedLink.connect(p, url, { connectTimeoutMs: 5_000, ...(auth === undefined ? {} : { auth }) });
    l.close();
    return { ok: true as const, ms: Date.now() - t0 };
  } catch (err) {
    return { ok: false as const, ms: Date.now() - t0, err: err as SlimError };
  } finally {
    p.close();
  }
}

describe("link authentication", () => {
  it("Basic: right credentials connect; wrong or missing ones are refused at once with AUTH", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0", auth: { kind: "basic", username: "edge", password: "s3cret" } });
    expect((await dial(node.url, { kind: "basic", username: "edge", password: "s3cret" })).ok).toBe(true);
    for (const auth of [{ kind: "basic" as const, username: "edge", password: "wrong" }, undefined]) {
      const r = await dial(node.url, auth);
      expect(r.ok).toBe(false);
      expect(r.ok ? "" : r.err.code).toBe("AUTH");
      expect(r.ms).toBeLessThan(2_000); // not the 5 s connect timeout
    }
    expect(node.status().connections).toHaveLength(0);
  });

  it("Bearer: a shared-secret identity token signed with the node's secret is accepted, others are not", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0", auth: { kind: "bearer", secret: SECRET } });
    const good = new SharedSecretProvider("org/ns/edge", SECRET);
    const bad = new SharedSecretProvider("org/ns/edge", "another-secret-of-enough-length-0123456789");
    expect((await dial(node.url, { kind: "bearer", token: good })).ok).toBe(true);
    const r = await dial(node.url, { kind: "bearer", token: bad });
    expect(r.ok ? "" : r.err.code).toBe("AUTH");
    expect(r.ok ? "" : r.err.message).not.toContain(SECRET);
  });
});
