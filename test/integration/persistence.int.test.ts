// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Sessions kept across an app restart (persistence), between our apps through our
// node: the restarted app gets its sessions back with the same ids, members and
// MLS groups and no new handshake; messages flow both ways after it; the moderator
// can still invite and remove; a session closed for good is not restored.

import { readdirSync, readFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { createApp, type GroupSession, type P2PSession, type SlimApp } from "@slim-ts/core";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";
import { DEFAULT_SECRET } from "../helpers/official/index.js";
import { acceptGroup } from "../helpers/nodes.js";
import { nextTexts } from "../helpers/sessions.js";
import { tempDirs } from "../helpers/temp.js";

const RELIABLE = { intervalMs: 300, maxRetries: 5 };
const PASSPHRASE = "correct horse battery staple";
const storeDir = tempDirs("slim-ts-persist-");

/** Every file under `dir`, concatenated. */
function allBytes(dir: string): Buffer {
  const out: Buffer[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(readFileSync(join(entry.parentPath, entry.name)));
  }
  return Buffer.concat(out);
}

const texts = nextTexts;

for (const mls of [false, true]) {
  describe(`persistence, MLS ${mls ? "on" : "off"}`, () => {
    it("a group moderator restarts: its group comes back; data flows both ways; it invites and removes afterwards", async () => {
      await using node = await startNode({ listen: "127.0.0.1:0" });
      const path = storeDir();
      const persistence = { path, passphrase: PASSPHRASE };
      let mod: SlimApp = await createApp({ name: "org/ns/mod", secret: DEFAULT_SECRET, connect: node.url, persistence });
      await using b = await createApp({ name: "org/ns/b", secret: DEFAULT_SECRET, connect: node.url });
      await using c = await createApp({ name: "org/ns/c", secret: DEFAULT_SECRET, connect: node.url });
      const modName = mod.name.toString();
      const group = await mod.createSession({ type: "group", channel: "org/ns/room" }, { reliable: RELIABLE, mls });
      const incoming = acceptGroup(b);
      await group.invite("org/ns/b");
      const gb = await incoming;
      await group.publish("before the restart");
      expect(await texts(gb, 1)).toEqual(["before the restart"]);
      const epoch = group.epoch;

      await mod.close();
      // nothing in the store is in the clear
      const disk = allBytes(path);
      expect(disk.includes(Buffer.from("before the restart"))).toBe(false);
      expect(disk.includes(Buffer.from("org/ns/room"))).toBe(false);
      expect(disk.includes(Buffer.from(DEFAULT_SECRET))).toBe(false);

      mod = await createApp({ name: "org/ns/mod", secret: DEFAULT_SECRET, connect: node.url, persistence });
      try {
        expect(mod.name.toString()).toBe(modName); // same identity, same name id
        const restored = await mod.restoreSessions();
        expect(restored.map((s) => s.sessionId)).toEqual([group.sessionId]);
        const g2 = restored[0] as GroupSession;
        expect(g2.kind).toBe("group");
        expect(g2.isModerator).toBe(true);
        expect(g2.epoch).toBe(epoch);
        expect(g2.participants().map((n) => n.toString()).sort()).toEqual([modName, b.name.toString()].sort());

        await g2.publish("after the restart");
        expect(await texts(gb, 1)).toEqual(["after the restart"]);
        await gb.publish("to the restored moderator");
        expect(await texts(g2, 1)).toEqual(["to the restored moderator"]);

        const incomingC = acceptGroup(c);
        await g2.invite("org/ns/c");
        const gc = await incomingC;
        await g2.publish("three of us");
        expect(await texts(gb, 1)).toEqual(["three of us"]);
        expect(await texts(gc, 1)).toEqual(["three of us"]);
        await g2.remove("org/ns/b");
        await gb.closed;
        await g2.publish("without b");
        expect(await texts(gc, 1)).toEqual(["without b"]);

        // closed for good: not restored again
        await g2.close();
      } finally {
        await mod.close();
      }
      mod = await createApp({ name: "org/ns/mod", secret: DEFAULT_SECRET, connect: node.url, persistence });
      try {
        expect(await mod.restoreSessions()).toEqual([]);
      } finally {
        await mod.close();
      }
    });

    it("a group participant restarts: it is back in the group; the moderator's data reaches it and its data reaches the others", async () => {
      await using node = await startNode({ listen: "127.0.0.1:0" });
      const persistence = { path: storeDir(), passphrase: PASSPHRASE };
      await using mod = await createApp({ name: "org/ns/mod", secret: DEFAULT_SECRET, connect: node.url });
      await using c = await createApp({ name: "org/ns/c", secret: DEFAULT_SECRET, connect: node.url });
      let b: SlimApp = await createApp({ name: "org/ns/b", secret: DEFAULT_SECRET, connect: node.url, persistence });
      const group = await mod.createSession({ type: "group", channel: "org/ns/room" }, { reliable: RELIABLE, mls });
      const inB = acceptGroup(b);
      await group.invite("org/ns/b");
      const gb = await inB;
      const inC = acceptGroup(c);
      await group.invite("org/ns/c");
      const gc = await inC;
      await gb.publish("b before");
      expect(await texts(group, 1)).toEqual(["b before"]);
      expect(await texts(gc, 1)).toEqual(["b before"]);

      await b.close();
      b = await createApp({ name: "org/ns/b", secret: DEFAULT_SECRET, connect: node.url, persistence });
      try {
        const [gb2] = (await b.restoreSessions()) as GroupSession[];
        expect(gb2?.sessionId).toBe(gb.sessionId);
        expect(gb2!.isModerator).toBe(false);
        await group.publish("to everyone after b's restart");
        expect(await texts(gb2!, 1)).toEqual(["to everyone after b's restart"]);
        expect(await texts(gc, 1)).toEqual(["to everyone after b's restart"]);
        await gb2!.publish("b after");
        expect(await texts(group, 1)).toEqual(["b after"]);
        expect(await texts(gc, 1)).toEqual(["b after"]);
        // the moderator can still remove the restored member
        await group.remove("org/ns/b");
        await gb2!.closed;
      } finally {
        await b.close();
      }
    });

    it("p2p: each side restarts in turn; the session goes on with its id and the peer's messages", async () => {
      await using node = await startNode({ listen: "127.0.0.1:0" });
      const pa = { path: storeDir(), passphrase: PASSPHRASE };
      const pb = { path: storeDir(), passphrase: PASSPHRASE, fsync: true }; // b flushes every save to the disk
      let a: SlimApp = await createApp({ name: "org/ns/a", secret: DEFAULT_SECRET, connect: node.url, persistence: pa });
      let b: SlimApp = await createApp({ name: "org/ns/b", secret: DEFAULT_SECRET, connect: node.url, persistence: pb });
      try {
        const incoming = b.listen({ kind: "p2p" })[Symbol.asyncIterator]().next();
        const sa = await a.createSession({ type: "p2p", peer: "org/ns/b" }, { reliable: RELIABLE, mls });
        let sb = (await incoming).value as P2PSession;
        await sa.publish("one");
        expect(await texts(sb, 1)).toEqual(["one"]);

        await a.close();
        a = await createApp({ name: "org/ns/a", secret: DEFAULT_SECRET, connect: node.url, persistence: pa });
        const [sa2] = (await a.restoreSessions()) as P2PSession[];
        expect(sa2?.sessionId).toBe(sa.sessionId);
        expect(sa2!.initiator).toBe(true);
        await sa2!.publish("two");
        expect(await texts(sb, 1)).toEqual(["two"]);
        await sb.publish("three");
        expect(await texts(sa2!, 1)).toEqual(["three"]);

        await b.close();
        b = await createApp({ name: "org/ns/b", secret: DEFAULT_SECRET, connect: node.url, persistence: pb });
        sb = ((await b.restoreSessions()) as P2PSession[])[0]!;
        expect(sb.initiator).toBe(false);
        await sa2!.publish("four");
        expect(await texts(sb!, 1)).toEqual(["four"]);
        await sb.publish("five");
        expect(await texts(sa2!, 1)).toEqual(["five"]);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}

describe("persistence: agents", () => {
  it("an agent hub restores its ports under the same labels; messages reach its inbox again", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    const persistence = { path: storeDir(), passphrase: PASSPHRASE };
    const { AgentHub } = await import("@slim-ts/core");
    await using peerApp = await createApp({ name: "org/ns/peer", secret: DEFAULT_SECRET, connect: node.url });
    const peerHub = new AgentHub(peerApp, { allow: ["org/ns/agent"] });
    const stopAccepting = new AbortController();
    const accepting = peerHub.accept({ signal: stopAccepting.signal });
    let app: SlimApp = await createApp({ name: "org/ns/agent", secret: DEFAULT_SECRET, connect: node.url, persistence });
    let hub = new AgentHub(app, { allow: ["org/ns/peer"] });
    const port = await hub.peer("org/ns/peer");
    const theirs = await peerHub.port("org/ns/agent", { timeoutMs: 5_000 });
    await theirs.publish("before");
    expect((await hub.inbox.next({}, { timeoutMs: 5_000 })).text).toBe("before");
    await hub.close({ keepSessions: true });
    await app.close();

    app = await createApp({ name: "org/ns/agent", secret: DEFAULT_SECRET, connect: node.url, persistence });
    try {
      hub = new AgentHub(app, { allow: ["org/ns/peer"] });
      const ports = await hub.restore();
      expect(ports.map((p) => p.label)).toEqual([port.label]);
      expect(await hub.port("org/ns/peer", { timeoutMs: 1_000 })).toBe(ports[0]);
      await theirs.publish("after");
      expect((await hub.inbox.next({}, { timeoutMs: 5_000 })).text).toBe("after");
      await ports[0]!.publish("back");
      expect((await peerHub.inbox.next({}, { timeoutMs: 5_000 })).text).toBe("back");
    } finally {
      await hub.close();
      await app.close();
      stopAccepting.abort();
      await accepting.catch(() => undefined);
      await peerHub.close();
    }
  });
});

describe("persistence: the group moved on while we were down", () => {
  it("a participant restored an epoch behind (a member joined meanwhile) is told so (NACK), rejoins, and is back", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    const persistence = { path: storeDir(), passphrase: PASSPHRASE };
    await using mod = await createApp({ name: "org/ns/mod", secret: DEFAULT_SECRET, connect: node.url });
    await using c = await createApp({ name: "org/ns/c", secret: DEFAULT_SECRET, connect: node.url });
    let b: SlimApp = await createApp({ name: "org/ns/b", secret: DEFAULT_SECRET, connect: node.url, persistence });
    try {
      const group = await mod.createSession({ type: "group", channel: "org/ns/moving" }, { reliable: RELIABLE, mls: true });
      const inB = acceptGroup(b);
      await group.invite("org/ns/b");
      const gb = await inB;
      const before = gb.epoch!;
      await b.close();
      const inC = acceptGroup(c);
      await group.invite("org/ns/c"); // a commit b does not see
      const gc = await inC;
      expect(group.epoch! > before).toBe(true);

      b = await createApp({ name: "org/ns/b", secret: DEFAULT_SECRET, connect: node.url, persistence });
      const [gb2] = (await b.restoreSessions()) as GroupSession[];
      expect(gb2!.epoch).toBe(before);
      // the rejoin (remove and re-add in one commit) moves everyone on once more
      await expect.poll(() => gb2!.epoch !== before && gb2!.epoch === group.epoch, { timeout: 10_000 }).toBe(true);
      await group.publish("all three");
      expect(await texts(gb2!, 1)).toEqual(["all three"]);
      expect(await texts(gc, 1)).toEqual(["all three"]);
      await gb2!.publish("b is back");
      expect(await texts(group, 1)).toEqual(["b is back"]);
      expect(await texts(gc, 1)).toEqual(["b is back"]);
    } finally {
      await b.close();
    }
  });
});

describe("persistence: refusals and damage", () => {
  it("a wrong passphrase, a short one, a store in use and another identity are refused with clear errors", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    const path = storeDir();
    const a = await createApp({ name: "org/ns/a", secret: DEFAULT_SECRET, connect: node.url, persistence: { path, passphrase: PASSPHRASE } });
    try {
      await expect(createApp({ name: "org/ns/a", secret: DEFAULT_SECRET, connect: node.url, persistence: { path, passphrase: PASSPHRASE } })).rejects.toMatchObject({
        code: "STORAGE",
        message: expect.stringMatching(/in use by process .*another app with the same name/),
      });
    } finally {
      await a.close();
    }
    await expect(createApp({ name: "org/ns/a", secret: DEFAULT_SECRET, connect: node.url, persistence: { path, passphrase: "not the passphrase" } })).rejects.toMatchObject({
      code: "STORAGE",
      message: expect.stringMatching(/wrong passphrase/),
    });
    await expect(createApp({ name: "org/ns/a", secret: DEFAULT_SECRET, connect: node.url, persistence: { path, passphrase: "short" } })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringMatching(/persistence\.passphrase/),
    });
    const { JwtProvider, SharedSecretVerifier } = await import("@slim-ts/core");
    await expect(
      createApp({
        name: "org/ns/a",
        provider: new JwtProvider({ key: { algorithm: "HS256", key: { data: DEFAULT_SECRET } }, subject: "someone-else" }),
        verifier: new SharedSecretVerifier(DEFAULT_SECRET),
        connect: node.url,
        persistence: { path, passphrase: PASSPHRASE },
      }),
    ).rejects.toMatchObject({ code: "STORAGE", message: expect.stringMatching(/written by another identity/) });
  });

  it("a save that fails stops the session: publish rejects with STORAGE, and nothing unsaved is sent", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    const path = storeDir();
    await using b = await createApp({ name: "org/ns/b", secret: DEFAULT_SECRET, connect: node.url });
    const a = await createApp({ name: "org/ns/a", secret: DEFAULT_SECRET, connect: node.url, persistence: { path, passphrase: PASSPHRASE } });
    try {
      const incoming = b.listen({ kind: "p2p" })[Symbol.asyncIterator]().next();
      const sa = await a.createSession({ type: "p2p", peer: "org/ns/b" }, { reliable: RELIABLE, mls: true });
      const sb = (await incoming).value as P2PSession;
      await sa.publish("saved");
      expect(await texts(sb, 1)).toEqual(["saved"]);
      // the disk fills up: every file write fails as a full disk makes it fail
      const probe = await open(join(path, "probe"), "w");
      const proto = Object.getPrototypeOf(probe) as { write: (...args: unknown[]) => Promise<unknown> };
      await probe.close();
      const write = proto.write;
      proto.write = () => Promise.reject(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }));
      try {
        await expect(sa.publish("not saved")).rejects.toMatchObject({ code: "STORAGE", message: expect.stringMatching(/could not be saved.*no space left/) });
      } finally {
        proto.write = write;
      }
      await sa.closed;
      await expect(sa.publish("after")).rejects.toMatchObject({ code: "STORAGE" });
      await expect(texts(sb, 1, 1_000)).rejects.toThrow(/only 0 of 1/);
    } finally {
      await a.close();
    }
  });

  it("a restore that times out, or is aborted half-way, puts back what it took: a second restore gets every session", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    const persistence = { path: storeDir(), passphrase: PASSPHRASE };
    await using mod = await createApp({ name: "org/ns/mod", secret: DEFAULT_SECRET, connect: node.url });
    let b: SlimApp = await createApp({ name: "org/ns/b", secret: DEFAULT_SECRET, connect: node.url, persistence });
    const invitations = b.listen({ kind: "group" })[Symbol.asyncIterator]();
    const groups: GroupSession[] = [];
    for (const room of ["one", "two"]) {
      const g = await mod.createSession({ type: "group", channel: `org/ns/${room}` }, { reliable: RELIABLE, mls: true });
      const inB = invitations.next();
      await g.invite("org/ns/b");
      await inB;
      groups.push(g);
    }
    await b.close();
    b = await createApp({ name: "org/ns/b", secret: DEFAULT_SECRET, connect: node.url, persistence });
    try {
      await expect(b.restoreSessions({ timeoutMs: 1 })).rejects.toMatchObject({ code: "TIMEOUT" });
      // aborted after the first session came back (a signal that turns aborted once read twice): that one is put back
      let reads = 0;
      const abortsMidway = { get aborted() { return ++reads > 1; }, reason: new Error("enough") } as unknown as AbortSignal;
      const layer = (b as unknown as { layer: { restore(signal?: AbortSignal): Promise<unknown[]> } }).layer;
      await expect(layer.restore(abortsMidway)).rejects.toMatchObject({ code: "ABORTED" });
      expect(reads).toBeGreaterThan(1);
      const restored = await b.restoreSessions();
      expect(restored.map((s) => s.sessionId).sort()).toEqual(groups.map((g) => g.sessionId).sort());
      await groups[1]!.publish("after a second try");
      const mine = restored.find((s) => s.sessionId === groups[1]!.sessionId)!;
      expect(await texts(mine, 1)).toEqual(["after a second try"]);
    } finally {
      await b.close();
    }
  });

  it("JWT identities: a new JwtProvider (new random signing key) takes the saved key back; its sessions restore", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    const { JwtProvider, JwtVerifier } = await import("@slim-ts/core");
    const key = { algorithm: "HS256" as const, key: { data: DEFAULT_SECRET } };
    const jwtApp = () =>
      createApp({
        name: "org/ns/jwt",
        provider: new JwtProvider({ key, subject: "org/ns/jwt-agent" }),
        verifier: new JwtVerifier({ key }),
        connect: node.url,
        persistence: { path, passphrase: PASSPHRASE },
      });
    const path = storeDir();
    await using peer = await createApp({
      name: "org/ns/peer",
      provider: new JwtProvider({ key, subject: "org/ns/peer-agent" }),
      verifier: new JwtVerifier({ key }),
      connect: node.url,
    });
    let a = await jwtApp();
    try {
      const incoming = peer.listen({ kind: "p2p" })[Symbol.asyncIterator]().next();
      const s = await a.createSession({ type: "p2p", peer: "org/ns/peer" }, { reliable: RELIABLE, mls: true });
      const ps = (await incoming).value as P2PSession;
      await s.publish("one");
      expect(await texts(ps, 1)).toEqual(["one"]);
      const name = a.name.toString();
      await a.close();
      a = await jwtApp();
      expect(a.name.toString()).toBe(name);
      const [s2] = (await a.restoreSessions()) as P2PSession[];
      await s2!.publish("two");
      expect(await texts(ps, 1)).toEqual(["two"]);
    } finally {
      await a.close();
    }
  });

  it("a damaged session record is skipped (logged); the others come back; a session the moderator ended is not kept", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    const path = storeDir();
    const persistence = { path, passphrase: PASSPHRASE };
    await using mod = await createApp({ name: "org/ns/mod", secret: DEFAULT_SECRET, connect: node.url });
    let b: SlimApp = await createApp({ name: "org/ns/b", secret: DEFAULT_SECRET, connect: node.url, persistence });
    const groups: GroupSession[] = [];
    const joined: GroupSession[] = [];
    const invitations = b.listen({ kind: "group" })[Symbol.asyncIterator]();
    for (const room of ["one", "two", "three"]) {
      const g = await mod.createSession({ type: "group", channel: `org/ns/${room}` }, { reliable: RELIABLE, mls: true });
      const inB = invitations.next();
      await g.invite("org/ns/b");
      groups.push(g);
      joined.push((await inB).value as GroupSession);
    }
    // the moderator ends group three: b's record of it goes
    await groups[2]!.close();
    await joined[2]!.closed;
    await b.close();
    const dir = join(path, "org.ns.b");
    const { existsSync, writeFileSync } = await import("node:fs");
    for (const slot of [0, 1]) {
      const damaged = join(dir, `session-${joined[0]!.sessionId}.${slot}`);
      if (!existsSync(damaged)) continue;
      const bytes = readFileSync(damaged);
      bytes[bytes.length - 5]! ^= 1;
      writeFileSync(damaged, bytes);
    }

    const warnings: string[] = [];
    const logger = {
      trace() {},
      debug() {},
      info() {},
      warn(msg: string, fields?: Record<string, unknown>) {
        warnings.push(`${msg} ${JSON.stringify(fields)}`);
      },
      error() {},
      child() {
        return logger;
      },
    };
    b = await createApp({ name: "org/ns/b", secret: DEFAULT_SECRET, connect: node.url, persistence, logger });
    try {
      const restored = await b.restoreSessions();
      expect(restored.map((s) => s.sessionId)).toEqual([joined[1]!.sessionId]);
      expect(warnings.some((w) => w.includes("saved session not restored") && w.includes("does not open"))).toBe(true);
      await groups[1]!.publish("still here");
      expect(await texts(restored[0]!, 1)).toEqual(["still here"]);
    } finally {
      await b.close();
    }
  });
});
