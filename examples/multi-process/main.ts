// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The token-streaming and voting agents, each in its own process, talking
// through a standalone slim-ts-node (also its own process): a LangGraph
// writer moderates an MLS group, streams its draft to five voters (three
// LangGraph, two LlamaIndex; two of them review it), then opens a vote that
// every voter verifies. This program starts the processes, relays what they
// report, and exits 1 unless every voter got the same tokens the writer sent
// and every voter verified the writer's result.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { check, checkEqual, runExample, scripted, SECRET, shortName } from "../_lib/common.js";
import { roster } from "../_lib/roster.js";
import { barChart, heading, paint, say } from "../_lib/view.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const NODE_BIN = fileURLToPath(new URL("../../packages/node-embedded/bin/slim-ts-node.mjs", import.meta.url));
const NODE_DIST = fileURLToPath(new URL("../../packages/node-embedded/dist/cli.js", import.meta.url));
const AGENT = fileURLToPath(new URL("./agent.ts", import.meta.url));
const r = roster("multi");

type Event = { agent: string; event: string; [k: string]: unknown };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

interface Proc {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

const procs: Proc[] = [];
const t0 = performance.now();

function start(name: string, args: string[], env: Record<string, string>, onLine: (line: string) => void): Proc {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "inherit"] });
  createInterface({ input: child.stdout! }).on("line", onLine);
  const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
  const p = { name, child, exited };
  procs.push(p);
  return p;
}

/** Kill whatever is still running (only the processes this program started). */
function stopAll(): void {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGTERM");
}
process.on("exit", stopAll);

runExample("multi-process", 90_000, async () => {
  check(existsSync(NODE_DIST), "packages/node-embedded is not built: run `npm run build` first");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  heading("processes");
  let listening!: () => void;
  const nodeUp = new Promise<void>((res) => (listening = res));
  const nodeProc = start("slim-ts-node", [NODE_BIN, "--listen", `127.0.0.1:${port}`], {}, (line) => {
    if (line.includes("listening")) listening();
  });
  await Promise.race([nodeUp, nodeProc.exited.then((c) => Promise.reject(new Error(`slim-ts-node exited (${c})`)))]);
  say(`  slim-ts-node   pid ${nodeProc.child.pid}, ${url}`);

  // every agent process reports events; wait for them by (agent, event)
  const events: Event[] = [];
  const waiters: Array<{ match: (e: Event) => boolean; resolve: (e: Event) => void }> = [];
  const onEvent = (line: string) => {
    let e: Event;
    try {
      e = JSON.parse(line) as Event;
    } catch {
      return;
    }
    events.push(e);
    if (process.env.DEMO_EVENTS === "1") process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(2)} ${line}\n`);
    for (const w of waiters.splice(0)) {
      if (w.match(e)) w.resolve(e);
      else waiters.push(w);
    }
    if (e.event === "token") process.stdout.write(String(e.t));
  };
  const next = (match: (e: Event) => boolean): Promise<Event> => {
    const seen = events.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => waiters.push({ match, resolve }));
  };
  const of = (agent: string, event: string) => next((e) => e.agent === agent && e.event === event);

  const env = { SLIM_NODE_URL: url, SLIM_SECRET: SECRET };
  const tsx = ["--import", "tsx", "--conditions=@slim/source", AGENT];
  const writer = start("writer", [...tsx, "writer"], env, onEvent);
  const voters = r.voters.map((v, i) => start(v.name, [...tsx, "voter", String(i)], env, onEvent));
  const failed = Promise.race(
    procs.map((p) => p.exited.then((code) => (code === 0 ? new Promise<never>(() => {}) : Promise.reject(new Error(`${p.name} exited with ${code} before the end`))))),
  );
  failed.catch(() => undefined);
  const step = <T>(p: Promise<T>) => Promise.race([p, failed]);

  await step(Promise.all([r.writer, ...r.voters.map((v) => v.name)].map((a) => of(a, "ready"))));
  for (const p of [writer, ...voters]) say(`  ${shortName(p.name === "writer" ? r.writer : p.name).padEnd(14)} pid ${p.child.pid}`);

  writer.child.stdin!.write("go\n");
  const g = await step(of(r.writer, "group"));
  heading(`MLS group ${r.channel}: ${g.members} members, MLS ${g.mls ? "on" : "OFF"}, epoch ${g.epoch}`);
  say(paint.dim(`draft as it reaches ${shortName(r.reviewerLg.name)} (another process):`));
  const sent = await step(of(r.writer, "sent"));
  const got = await step(Promise.all(r.voters.map((v) => of(v.name, "tokens"))));
  say("");
  for (const e of got) say(`  ${shortName(e.agent).padEnd(12)} got ${e.tokens} tokens, sha256 ${String(e.sha256).slice(0, 16)}…`);

  const reviews = (await step(of(r.writer, "reviews"))).reviews as Array<{ from: string; review: string; sha256: string }>;
  heading("reviews");
  for (const rv of reviews) say(`  ${shortName(rv.from)}: ${rv.review}`);

  heading(`vote: "${PROPOSAL_TEXT}"`);
  const result = await step(of(r.writer, "result"));
  for (const e of events.filter((x) => x.event === "ballot")) say(`  ballot from ${shortName(String(e.voter))}`);
  const verified = await step(Promise.all(r.voters.map((v) => of(v.name, "verified"))));
  for (const e of verified) say(`  ${paint.green("✓")} ${shortName(e.agent).padEnd(12)} verified digest ${String(e.digest).slice(0, 12)}…`);
  await barChart(`result: ${result.status}, winner ${result.winner}`, result.scores as Record<string, number>);

  writer.child.stdin!.write("close\n");
  const codes = await step(Promise.all([writer, ...voters].map((p) => p.exited)));
  nodeProc.child.kill("SIGTERM");
  const nodeCode = await nodeProc.exited;

  // the checks
  checkEqual(g.mls, true, "MLS on the group");
  checkEqual(g.members, 6, "group members");
  check(Number(sent.tokens) > 1, `the writer streamed ${String(sent.tokens)} token(s)`);
  for (const e of got) checkEqual([e.tokens, e.sha256], [sent.tokens, sent.sha256], `tokens at ${e.agent}`);
  checkEqual(reviews.map((rv) => rv.from).sort(), [r.reviewerLg.name, r.reviewerLi.name].sort(), "reviews from");
  for (const rv of reviews) checkEqual(rv.sha256, sent.sha256, `draft digest in the review of ${rv.from}`);
  checkEqual(result.status, "decided", "status");
  checkEqual(result.turnout, 5, "turnout");
  checkEqual(result.recountOk, true, "the writer's own recount");
  for (const e of verified) {
    checkEqual(e.digest, result.digest, `digest verified by ${e.agent}`);
    checkEqual((e.result as { scores: unknown }).scores, result.scores, `scores verified by ${e.agent}`);
    checkEqual(e.moderator, r.writer, `moderator seen by ${e.agent}`);
    checkEqual(e.unconfirmed, [], `ballots ${e.agent} saw but were not counted`);
  }
  if (scripted()) {
    checkEqual(result.winner, "publish", "winner");
    checkEqual(result.scores, { publish: 3, revise: 2 }, "scores");
  }
  checkEqual(codes, [0, 0, 0, 0, 0, 0], "agent exit codes");
  checkEqual(nodeCode, 0, "slim-ts-node exit code");
  say(paint.ok(`\nok: 7 processes; ${String(sent.tokens)} tokens reached all 5 voters in order over MLS; vote closed in ${String(result.ms)} ms, verified by all 5`));
});

const PROPOSAL_TEXT = "Publish the draft as it stands?";
