// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Link-level authentication: a node that requires Basic or Bearer credentials.

import { createApp, SharedSecretProvider, SlimError, type P2PSession } from "@slim-ts/core";
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

  it("apps: createApp({ auth }) reaches a node that requires Basic or Bearer; a session runs over it; wrong or missing credentials are AUTH", async () => {
    await using basicNode = await startNode({ listen: "127.0.0.1:0", auth: { kind: "basic", username: "edge", password: "s3cret" } });
    await using bearerNode = await startNode({ listen: "127.0.0.1:0", auth: { kind: "bearer", secret: SECRET } });
    for (const [node, auth, wrong] of [
      [basicNode, { kind: "basic" as const, username: "edge", password: "s3cret" }, { kind: "basic" as const, username: "edge", password: "nope" }],
      [bearerNode, { kind: "bearer" as const, token: new SharedSecretProvider("org/ns/edge", SECRET) }, { kind: "bearer" as const, token: () => "not-a-token" }],
    ] as const) {
      await using a = await createApp({ name: "org/ns/a", secret: SECRET, connect: node.url, auth });
      await using b = await createApp({ name: "org/ns/b", secret: SECRET, connect: node.url, auth });
      const incoming = b.listen({ kind: "p2p" })[Symbol.asyncIterator]().next();
      const s = await a.createSession({ type: "p2p", peer: "org/ns/b" }, { timeoutMs: 5_000 });
      const at = (await incoming).value as P2PSession;
      await s.publish("over an authenticated link");
      const got = await at[Symbol.asyncIterator]().next();
      expect(new TextDecoder().decode(got.value!.payload)).toBe("over an authenticated link");
      for (const bad of [wrong, undefined]) {
        const err = await createApp({ name: "org/ns/c", secret: SECRET, connect: node.url, ...(bad === undefined ? {} : { auth: bad }) }).then(
          () => undefined,
          (e: unknown) => e as SlimError,
        );
        expect(err?.code).toBe("AUTH");
      }
    }
    // auth only makes sense on a link
    await expect(createApp({ name: "org/ns/d", secret: SECRET, processor: new MessageProcessor(), auth: { kind: "basic", username: "u", password: "p" } })).rejects.toThrow(/apply to `connect`/);
  });

  it("node links: a node dials another that requires Basic or Bearer with the credentials of its config, and apps on both reach each other", async () => {
    for (const [serverAuth, linkAuth] of [
      [{ kind: "basic" as const, username: "peer", password: "pw" }, { kind: "basic" as const, username: "peer", password: "pw" }],
      [{ kind: "bearer" as const, secret: SECRET }, { kind: "bearer" as const, secret: SECRET }],
    ] as const) {
      await using upstream = await startNode({ listen: "127.0.0.1:0", auth: serverAuth });
      await using edge = await startNode({ listen: "127.0.0.1:0", links: [{ url: upstream.url, auth: linkAuth }] });
      expect(upstream.status().connections).toHaveLength(1);
      await using far = await createApp({ name: "org/ns/far", secret: SECRET, connect: upstream.url, auth: serverAuth.kind === "basic" ? serverAuth : { kind: "bearer", token: new SharedSecretProvider("org/ns/far", SECRET) } });
      await using near = await createApp({ name: "org/ns/near", secret: SECRET, connect: edge.url });
      const incoming = far.listen({ kind: "p2p" })[Symbol.asyncIterator]().next();
      const s = await near.createSession({ type: "p2p", peer: "org/ns/far" }, { timeoutMs: 10_000 });
      const at = (await incoming).value as P2PSession;
      await s.publish("across two nodes");
      expect(new TextDecoder().decode((await at[Symbol.asyncIterator]().next()).value!.payload)).toBe("across two nodes");
    }
    // a link with wrong credentials fails the node's start, readably
    await using upstream = await startNode({ listen: "127.0.0.1:0", auth: { kind: "basic", username: "peer", password: "pw" } });
    await expect(startNode({ listen: "127.0.0.1:0", links: [{ url: upstream.url, auth: { kind: "basic", username: "peer", password: "bad" } }] })).rejects.toMatchObject({ code: "AUTH" });
  });
});
