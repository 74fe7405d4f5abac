// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Link-level authentication with the official implementation. Basic both ways: our
// app dials an official node that requires it, and an official app dials our node
// that requires it; the right credentials carry a session between our app and an
// official one, wrong ones are refused at connect. Bearer: our app presents a JWT
// it signs to an official node that verifies it.

import { createApp, JwtProvider, SlimError, type P2PSession } from "@slim-ts/core";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";
import { DEFAULT_SECRET, startOfficialApp, startOfficialNode } from "../helpers/official/index.js";
import { take, texts } from "../helpers/sessions.js";

const CREDENTIALS = { username: "edge-app", password: "link-password-42" };
const dec = new TextDecoder();

async function refusal(connect: () => Promise<unknown>): Promise<SlimError> {
  const t0 = Date.now();
  try {
    await connect();
  } catch (err) {
    expect(Date.now() - t0).toBeLessThan(5_000); // refused, not a connect timeout
    return SlimError.from(err);
  }
  throw new Error("the connection was not refused");
}

describe("link Basic authentication with the official implementation", () => {
  it("our app dials an official node that requires Basic: the right credentials carry a session with an official app, wrong or none are refused", async () => {
    await using node = await startOfficialNode({ basicAuth: CREDENTIALS });
    await using official = await startOfficialApp({ name: "org/ns/official", url: node.url, basicAuth: CREDENTIALS });
    await using app = await createApp({ name: "org/ns/ours", secret: DEFAULT_SECRET, connect: node.url, auth: { kind: "basic", ...CREDENTIALS } });
    await official.route("org/ns/ours");
    const accepted = official.listen({ timeoutMs: 20_000 });
    const session = await app.createSession({ type: "p2p", peer: "org/ns/official" }, { reliable: { intervalMs: 1_000, maxRetries: 5 } });
    await accepted;
    for (let i = 0; i < 5; i++) await session.publish(`ours-${i}`);
    expect(texts(await official.recv({ n: 5, timeoutMs: 10_000 }))).toEqual(["ours-0", "ours-1", "ours-2", "ours-3", "ours-4"]);
    for (let i = 0; i < 5; i++) await official.publish({ text: `theirs-${i}`, wait: true });
    expect((await take(session, 5)).map((m) => dec.decode(m.payload))).toEqual(["theirs-0", "theirs-1", "theirs-2", "theirs-3", "theirs-4"]);
    await session.close();

    for (const auth of [{ kind: "basic" as const, username: CREDENTIALS.username, password: "wrong" }, undefined]) {
      const err = await refusal(() => createApp({ name: "org/ns/intruder", secret: DEFAULT_SECRET, connect: node.url, ...(auth === undefined ? {} : { auth }) }));
      expect(err.code).toBe("AUTH");
    }
  }, 60_000);

  it("an official app dials our node that requires Basic: with the right credentials it holds a session with our app; with wrong ones it never connects", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0", auth: { kind: "basic", ...CREDENTIALS } });
    await using official = await startOfficialApp({ name: "org/ns/official", url: node.url, basicAuth: CREDENTIALS });
    await using app = await createApp({ name: "org/ns/ours", secret: DEFAULT_SECRET, connect: node.url, auth: { kind: "basic", ...CREDENTIALS } });
    await official.route("org/ns/ours");
    const incoming = app.listen({ kind: "p2p" })[Symbol.asyncIterator]().next();
    await official.create({ type: "p2p", peer: "org/ns/ours", intervalMs: 1_000, maxRetries: 5 });
    const session = (await incoming).value as P2PSession;
    for (let i = 0; i < 5; i++) await official.publish({ text: `theirs-${i}`, wait: true });
    expect((await take(session, 5)).map((m) => dec.decode(m.payload))).toEqual(["theirs-0", "theirs-1", "theirs-2", "theirs-3", "theirs-4"]);
    const before = node.status().connections.length;
    await expect(startOfficialApp({ name: "org/ns/intruder", url: node.url, basicAuth: { username: CREDENTIALS.username, password: "wrong" } })).rejects.toThrow();
    expect(node.status().connections.length).toBe(before);
  }, 60_000);

  it("our app presents a fresh HS256 JWT per connect to an official node that requires one; a wrong key, audience or none is refused", async () => {
    const SECRET = "link-jwt-secret-0123456789abcdefghij";
    await using node = await startOfficialNode({ jwtHs256Secret: SECRET });
    const jwt = (secret: string, audience: string) => new JwtProvider({ key: { algorithm: "HS256", key: { data: secret } }, subject: "org/ns/ours", issuer: "slim-ts-test", audience: [audience] });
    await using a = await createApp({ name: "org/ns/ours", secret: DEFAULT_SECRET, connect: node.url, auth: { kind: "bearer", token: jwt(SECRET, "slim-node") } });
    await using b = await createApp({ name: "org/ns/peer", secret: DEFAULT_SECRET, connect: node.url, auth: { kind: "bearer", token: jwt(SECRET, "slim-node") } });
    const incoming = b.listen({ kind: "p2p" })[Symbol.asyncIterator]().next();
    const s = await a.createSession({ type: "p2p", peer: "org/ns/peer" }, { timeoutMs: 10_000 });
    await s.publish("through an official node, JWT-authenticated");
    const at = (await incoming).value as P2PSession;
    expect(dec.decode((await at[Symbol.asyncIterator]().next()).value!.payload)).toBe("through an official node, JWT-authenticated");
    for (const auth of [{ kind: "bearer" as const, token: jwt("another-secret-0123456789abcdefghijkl", "slim-node") }, { kind: "bearer" as const, token: jwt(SECRET, "elsewhere") }, undefined]) {
      const err = await refusal(() => createApp({ name: "org/ns/intruder", secret: DEFAULT_SECRET, connect: node.url, ...(auth === undefined ? {} : { auth }) }));
      expect(err.code).toBe("AUTH");
    }
  }, 60_000);

  it("an official app presents its JWT (ClientConfig.auth Jwt) to our node that requires one (auth kind jwt) and holds a session with our app; one signed with another key never connects", async () => {
    const SECRET = "link-jwt-secret-0123456789abcdefghij";
    await using node = await startNode({ listen: "127.0.0.1:0", auth: { kind: "jwt", algorithm: "HS256", key: { data: SECRET }, audience: ["slim-node"], issuer: "slim-ts-test" } });
    await using official = await startOfficialApp({ name: "org/ns/official", url: node.url, jwtHs256Secret: SECRET });
    const ours = new JwtProvider({ key: { algorithm: "HS256", key: { data: SECRET } }, subject: "org/ns/ours", issuer: "slim-ts-test", audience: ["slim-node"] });
    await using app = await createApp({ name: "org/ns/ours", secret: DEFAULT_SECRET, connect: node.url, auth: { kind: "bearer", token: ours } });
    await official.route("org/ns/ours");
    const incoming = app.listen({ kind: "p2p" })[Symbol.asyncIterator]().next();
    await official.create({ type: "p2p", peer: "org/ns/ours", intervalMs: 1_000, maxRetries: 5 });
    const session = (await incoming).value as P2PSession;
    for (let i = 0; i < 3; i++) await official.publish({ text: `theirs-${i}`, wait: true });
    expect((await take(session, 3)).map((m) => dec.decode(m.payload))).toEqual(["theirs-0", "theirs-1", "theirs-2"]);
    const before = node.status().connections.length;
    await expect(startOfficialApp({ name: "org/ns/intruder", url: node.url, jwtHs256Secret: "another-secret-0123456789abcdefghijkl" })).rejects.toThrow();
    expect(node.status().connections.length).toBe(before);
  }, 60_000);
});
