// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Restart: a worker agent keeps its MLS group session in an encrypted store, is
// killed with SIGKILL in the middle of the work, starts again, restores the
// session (same id, same group, no new handshake) and goes on. The coordinator
// never notices more than a pause. Exits 1 if an answer is missing or wrong.
//
//   npx tsx --conditions=@slim/source examples/restart/main.ts
//
// The worker is this same file run as a child process (`main.ts worker <url> <dir>`).

import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createApp, type GroupSession } from "@slim-ts/core";
import { startNode } from "@slim-ts/node-embedded";

const secret = process.env.SLIM_SECRET ?? "restart-example-shared-secret-0123456789abcdef";
const passphrase = process.env.STORE_PASSPHRASE ?? "restart example passphrase";

if (process.argv[2] === "worker") await worker(process.argv[3]!, process.argv[4]!);
else await coordinator();

/** The worker: answers every task in its group; after a restart, with the group it saved. */
async function worker(url: string, dir: string): Promise<void> {
  const app = await createApp({ name: "demo/restart/worker", secret, connect: url, persistence: { path: dir, passphrase } });
  const serve = async (s: GroupSession) => {
    for await (const m of s) {
      const task = m.text();
      await m.reply(`${task} = ${sum(task)}`);
    }
  };
  const restored = (await app.restoreSessions()) as GroupSession[];
  for (const s of restored) void serve(s);
  console.log(JSON.stringify({ ready: true, restored: restored.map((s) => ({ sessionId: s.sessionId, epoch: String(s.epoch) })) }));
  for await (const s of app.listen({ kind: "group" })) void serve(s);
}

/** "a + b" -> the sum (the worker's whole skill). */
function sum(task: string): number {
  const [a, b] = task.split("+").map((x) => Number(x.trim()));
  return (a ?? NaN) + (b ?? NaN);
}

async function coordinator(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "slim-ts-restart-"));
  await using node = await startNode({ listen: "127.0.0.1:0" });
  await using boss = await createApp({ name: "demo/restart/coordinator", secret, connect: node.url });
  let child: ChildProcess | undefined;
  const deadline = setTimeout(() => {
    console.error("timed out");
    child?.kill("SIGKILL");
    process.exit(1);
  }, 60_000);
  try {
    let worker = await startWorker(node.url, dir);
    child = worker.child;
    console.log("worker started, nothing to restore");
    const group = await boss.createSession({ type: "group", channel: "demo/restart/work" }, { mls: true, reliable: { intervalMs: 1_000, maxRetries: 10 } });
    await group.invite("demo/restart/worker");
    console.log(`group ${group.sessionId} (MLS epoch ${group.epoch}) with the worker`);
    const answers = group[Symbol.asyncIterator]();
    const ask = async (i: number) => {
      await group.publish(`${i} + ${i * 10}`);
      const r = await answers.next();
      const text = r.done === true ? "(session ended)" : r.value.text();
      console.log(`  ${i} + ${i * 10} -> ${text}`);
      return text === `${i} + ${i * 10} = ${i * 11}`;
    };
    let ok = true;
    for (let i = 0; i < 3; i++) ok = (await ask(i)) && ok;

    console.log("killing the worker (SIGKILL: no goodbye, nothing saved at exit)");
    child.kill("SIGKILL");
    await new Promise((r) => child!.once("exit", r));
    worker = await startWorker(node.url, dir);
    child = worker.child;
    const restored = worker.ready.restored;
    console.log(`worker started again and restored ${JSON.stringify(restored)}`);
    ok = restored.length === 1 && restored[0]!.sessionId === group.sessionId && ok;

    for (let i = 3; i < 6; i++) ok = (await ask(i)) && ok;
    await group.close();
    if (!ok) {
      console.error("a task went unanswered or was answered wrong");
      process.exitCode = 1;
    } else console.log("every task answered, before and after the restart");
  } finally {
    clearTimeout(deadline);
    child?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Ready {
  ready: true;
  restored: Array<{ sessionId: number; epoch: string }>;
}

/** This file as the worker, in its own process; resolves once it printed its ready line. */
async function startWorker(url: string, dir: string): Promise<{ child: ChildProcess; ready: Ready }> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "worker", url, dir], { stdio: ["ignore", "pipe", "inherit"] });
  for await (const line of createInterface({ input: child.stdout! })) {
    const ready = JSON.parse(line) as Ready;
    if (ready.ready) return { child, ready };
  }
  throw new Error("the worker exited before it was ready");
}
