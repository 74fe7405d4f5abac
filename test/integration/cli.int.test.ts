// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The slim-ts-node binary as a user runs it (built by `tsc -b`, which `npm test` runs first).

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { freePort, startOfficialApp } from "../helpers/official/index.js";
import { conversation } from "../helpers/ts-clients.js";
import { waitFor } from "../helpers/wait.js";

const BIN = fileURLToPath(new URL("../../packages/node-embedded/bin/slim-ts-node.mjs", import.meta.url));

interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, out: () => out, err: () => err, exited };
}

describe("slim-ts-node CLI", () => {
  it("prints 'listening', serves official apps and our clients, reports status, exits 0 on SIGTERM", async () => {
    const port = await freePort();
    const statusPort = await freePort();
    const node = run(["--listen", `127.0.0.1:${port}`, "--status", `127.0.0.1:${statusPort}`]);
    try {
      await waitFor(() => node.out().includes("listening"), "listening");
      const url = `http://127.0.0.1:${port}`;
      const talk = await conversation(url);
      talk.send(10);
      await talk.check();
      await using app = await startOfficialApp({ name: "org/ns/official", url });
      expect(app.appId).toMatch(/^[0-9a-f-]{36}$/);

      const st = run(["status", `http://127.0.0.1:${statusPort}`]);
      expect(await st.exited).toBe(0);
      const status = JSON.parse(st.out()) as { connections: Array<{ kind: string; mac: boolean }>; subscriptions: Array<{ name: string }> };
      expect(status.connections).toHaveLength(3);
      expect(status.connections.every((c) => c.kind === "edge" && c.mac)).toBe(true);
      expect(status.subscriptions.map((s) => s.name)).toContain("org/ns/official");
      await talk.close();
    } finally {
      node.child.kill("SIGTERM");
    }
    expect(await node.exited).toBe(0);
    expect(node.out()).toContain("shutting down");
  });

  it("links to another node given with --link and from a config file", async () => {
    const portA = await freePort();
    const statusA = await freePort();
    const a = run(["--listen", `127.0.0.1:${portA}`, "--status", `127.0.0.1:${statusA}`]);
    const dir = mkdtempSync(join(tmpdir(), "slim-ts-cli-"));
    const cfg = join(dir, "node.yaml");
    const portB = await freePort();
    writeFileSync(cfg, `listen: 127.0.0.1:${portB}\nlinks:\n  - url: http://127.0.0.1:${portA}\n`);
    try {
      await waitFor(() => a.out().includes("listening"), "node a listening");
      const b = run(["--config", cfg]);
      try {
        await waitFor(() => b.out().includes("listening"), "node b listening");
        // alice on node A, bob on node B: traffic crosses the peer link
        const talk = await conversation(`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`);
        const bobName = talk.bob.ep.name.components.join("/");
        const known = async () => {
          const s = (await (await fetch(`http://127.0.0.1:${statusA}/status`)).json()) as { subscriptions: Array<{ name: string; kind: string }> };
          return s.subscriptions.some((x) => x.name === bobName && x.kind === "peer");
        };
        const end = Date.now() + 5_000;
        while (!(await known()) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
        talk.send(20);
        await talk.check();
        await talk.close();
      } finally {
        b.child.kill("SIGINT");
        expect(await b.exited).toBe(0);
      }
    } finally {
      a.child.kill("SIGINT");
      await a.exited;
    }
  });

  it("a bad config file fails fast with a readable message and exit code 2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "slim-ts-cli-"));
    const cfg = join(dir, "bad.yaml");
    writeFileSync(cfg, "listen: not-an-address\nlinks: 3\n");
    const r = run(["--config", cfg]);
    expect(await r.exited).toBe(2);
    expect(r.err()).toContain("invalid config file");
    expect(r.err()).toContain("listen");
    expect(r.err()).toContain("links");
    const bad = run(["--no-such-flag"]);
    expect(await bad.exited).toBe(2);
  });
});
