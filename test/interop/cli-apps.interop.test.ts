// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// `slim-ts-node app echo|send` as black boxes, against each other and against
// an official app, through our node.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";
import { DEFAULT_SECRET, startOfficialApp } from "../helpers/official/index.js";
import { waitFor } from "../helpers/wait.js";

const BIN = fileURLToPath(new URL("../../packages/node-embedded/bin/slim-ts-node.mjs", import.meta.url));

function run(args: string[], input?: string) {
  const child = spawn(process.execPath, [BIN, "app", ...args], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, SLIM_SECRET: DEFAULT_SECRET } });
  let out = "";
  let err = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (err += b.toString()));
  if (input !== undefined) child.stdin.end(input);
  else child.stdin.end();
  const exited = new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  const events = () => out.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { child, exited, events, err: () => err };
}

describe("slim-ts-node app echo / send", () => {
  it("send gets every stdin line echoed back in order by our echo app, and exits 0", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    const echo = run(["echo", "--name", "org/cli/bob", "--connect", node.url]);
    try {
      await waitFor(() => echo.events().some((e) => e.event === "ready"), "echo ready");
      const send = run(["send", "--name", "org/cli/alice", "--to", "org/cli/bob", "--connect", node.url, "--reliable"], "one\ntwo\nthree\n");
      expect(await send.exited).toBe(0);
      const replies = send.events().filter((e) => e.event === "reply");
      expect(replies.map((e) => e.text)).toEqual(["one", "two", "three"]);
      expect(send.events().at(-1)).toMatchObject({ event: "done", sent: 3, ok: true });
      await waitFor(() => echo.events().filter((e) => e.event === "message").length === 3, "3 echoed messages");
    } finally {
      echo.child.kill("SIGINT");
      expect(await echo.exited).toBe(0);
    }
  });

  it("--basic-auth reaches a node that requires it; without, send fails readably; a malformed value is refused", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0", auth: { kind: "basic", username: "cli", password: "pw-1" } });
    const echo = run(["echo", "--name", "org/cli/bob", "--connect", node.url, "--basic-auth", "cli:pw-1"]);
    try {
      await waitFor(() => echo.events().some((e) => e.event === "ready"), "echo ready");
      const send = run(["send", "--name", "org/cli/alice", "--to", "org/cli/bob", "--connect", node.url, "--basic-auth", "cli:pw-1", "--count", "2"]);
      expect(await send.exited).toBe(0);
      expect(send.events().filter((e) => e.event === "reply")).toHaveLength(2);
      const refused = run(["send", "--name", "org/cli/alice", "--to", "org/cli/bob", "--connect", node.url, "--count", "1"]);
      expect(await refused.exited).not.toBe(0);
      expect(refused.err()).toMatch(/AUTH|unauthenticated|authoriz/i);
      const malformed = run(["send", "--name", "org/cli/alice", "--to", "org/cli/bob", "--connect", node.url, "--basic-auth", "no-colon"]);
      expect(await malformed.exited).toBe(2);
      expect(malformed.err()).toContain("--basic-auth must be user:password");
    } finally {
      echo.child.kill("SIGINT");
      expect(await echo.exited).toBe(0);
    }
  });

  it("send to an official echoing app prints its replies and exits 1 when they differ; send to nobody fails readably", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    await using official = await startOfficialApp({ name: "org/cli/official", url: node.url });
    await official.route("org/cli/alice");
    const listening = official.listen({ timeoutMs: 20_000 });
    const send = run(["send", "--name", "org/cli/alice", "--to", "org/cli/official", "--connect", node.url, "--count", "5"]);
    await listening;
    const echoed = await official.echo({ count: 5, timeoutMs: 10_000 });
    expect(echoed.echoed).toBe(5);
    expect(await send.exited).toBe(1); // the official echo prefixes "echo:", so replies do not match
    const replies = send.events().filter((e) => e.event === "reply");
    expect(replies.map((e) => e.text)).toEqual([0, 1, 2, 3, 4].map((i) => `echo:message ${i}`));

    const nobody = run(["send", "--name", "org/cli/alice2", "--to", "org/cli/nobody", "--connect", node.url, "--count", "1"]);
    // discovery is retried 10 times at 1 s before the session fails
    expect(await nobody.exited).toBe(1);
    expect(nobody.err()).toContain("retries exhausted");
  }, 40_000);

  it("send --group --invite: both echo apps answer every message, in order per member", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    const echoes = ["org/cli/m1", "org/cli/m2"].map((n) => run(["echo", "--name", n, "--connect", node.url]));
    try {
      for (const e of echoes) await waitFor(() => e.events().some((x) => x.event === "ready"), "echo ready");
      const send = run(["send", "--name", "org/cli/mod", "--group", "org/cli/room", "--invite", "org/cli/m1,org/cli/m2", "--connect", node.url, "--count", "4"]);
      const t0 = Date.now();
      expect(await send.exited).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5_000); // nothing left running once it is done
      const replies = send.events().filter((e) => e.event === "reply");
      expect(replies).toHaveLength(8);
      for (const member of ["org/cli/m1", "org/cli/m2"]) {
        const mine = replies.filter((r) => String(r.from).startsWith(`${member}/`)).map((r) => r.text);
        expect(mine).toEqual([0, 1, 2, 3].map((i) => `message ${i}`));
      }
      expect(send.events().at(-1)).toMatchObject({ event: "done", peers: 2, ok: true });
    } finally {
      for (const e of echoes) e.child.kill("SIGINT");
      for (const e of echoes) expect(await e.exited).toBe(0);
    }
  });

  it("--mls: send encrypts its p2p session (our echo app and an official one) and its group; echo follows the inviter", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    const echoes = ["org/cli/bob", "org/cli/m2"].map((n) => run(["echo", "--name", n, "--connect", node.url]));
    await using official = await startOfficialApp({ name: "org/cli/official", url: node.url });
    await official.route("org/cli/carol");
    try {
      for (const e of echoes) await waitFor(() => e.events().some((x) => x.event === "ready"), "echo ready");
      const p2p = run(["send", "--name", "org/cli/alice", "--to", "org/cli/bob", "--connect", node.url, "--mls", "--reliable", "--count", "3"]);
      expect(await p2p.exited).toBe(0);
      expect(p2p.events().find((e) => e.event === "session")).toMatchObject({ mls: true });
      expect(p2p.events().filter((e) => e.event === "reply").map((e) => e.text)).toEqual([0, 1, 2].map((i) => `message ${i}`));
      await waitFor(() => echoes[0]!.events().some((e) => e.event === "session" && e.mls === true), "bob saw an MLS session");

      const group = run(["send", "--name", "org/cli/mod", "--group", "org/cli/room", "--invite", "org/cli/bob,org/cli/m2", "--connect", node.url, "--mls", "--count", "2"]);
      expect(await group.exited).toBe(0);
      expect(group.events().filter((e) => e.event === "reply")).toHaveLength(4);

      const listening = official.listen({ timeoutMs: 20_000 });
      const toOfficial = run(["send", "--name", "org/cli/carol", "--to", "org/cli/official", "--connect", node.url, "--mls", "--count", "2"]);
      expect((await listening).mls).toBe(true);
      expect((await official.echo({ count: 2, timeoutMs: 10_000 })).echoed).toBe(2);
      expect(await toOfficial.exited).toBe(1); // "echo:" prefix: the replies differ, but they were opened
      expect(toOfficial.events().filter((e) => e.event === "reply").map((e) => e.text)).toEqual(["echo:message 0", "echo:message 1"]);
    } finally {
      for (const e of echoes) e.child.kill("SIGINT");
      for (const e of echoes) expect(await e.exited).toBe(0);
    }
  }, 40_000);

  it("refuses invalid options with a readable error and exit code 2", async () => {
    const r = run(["send", "--name", "a/b/c", "--to", "a/b/d", "--connect", "http://127.0.0.1:1", "--heartbeat-ms", "0"]);
    expect(await r.exited).toBe(2);
    expect(r.err()).toContain("--heartbeat-ms must be a positive integer");
  });
});
