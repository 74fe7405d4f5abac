// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// What the agent adapters cost on top of SLIM (not a test; prints a table).
//
// Token streaming, N tokens from a scripted model inside a one-node LangGraph
// graph, time to first token (TTFT) and per-token time after the first:
//   A  the graph in-process, no SLIM (graph.stream, streamMode "messages")
//   B  the same graph behind a raw session: the server pipes the graph's tokens
//      into SessionMux.sendStream, the client sends a request and reads the stream
//   C  the same graph behind the adapters: serveGraph on the server, askAgent on the client
//   D  as C, read through a LangGraph graph on the client (slimRemoteGraph node,
//      streamMode "messages"): what a LangGraph caller sees
// Adapter overhead = C - B (both include the graph and the session).
//
// Vote: five scripted voters (3 LangGraph, 2 LlamaIndex, as in examples/voting)
// in a group, MLS on and then off; time from just before the moderator opens the proposal until
// every voter has its verified result; also the same with voters that cast
// directly (no agent framework), to show what the frameworks add.
//
//   npx tsx --conditions=@slim/source bench/agents.ts [--tokens 200] [--runs 30] [--votes 10] [--only stream|vote|vote-plain|vote-mp]
//     [--direct-only | --agents-only] [--attach grpc|inproc]

import { randomBytes, randomUUID } from "node:crypto";
import { AIMessageChunk, HumanMessage } from "@langchain/core/messages";
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { AgentHub, askAgent, createApp, SessionMux, splitTokens, type P2PSession, type SlimApp } from "@slim-ts/core";
import { messageText, ScriptedChatModel, serveGraph, slimRemoteGraph } from "@slim-ts/langgraph";
import { startNode } from "@slim-ts/node-embedded";
import type { MessageProcessor } from "@slim-ts/core/internal";
import { runVoter, type VoterSpec } from "../examples/_lib/agents.js";
import { createMlsGroup } from "../examples/_lib/group.js";
import { multiProcessVotes } from "./vote-multiprocess.js";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = arg("tokens", 200);
const RUNS = arg("runs", 30);
const WARMUP = 5;
const VOTES = arg("votes", 10);
/** Warm-up votes for the multi-process runs: each process has its own JIT to warm. */
const MP_WARMUP = arg("mp-warmup", 20);
const SECRET = randomBytes(32).toString("hex");
const TEXT = Array.from({ length: N }, (_, i) => `w${i} `).join("");
const TOKENS = splitTokens(TEXT);
const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * The scripted model, yielding to the event loop after each token as a model
 * streaming over the network does. Without it the whole answer is produced in
 * one burst of microtasks, and nothing (the first token included) reaches a
 * socket before the last token is made: TTFT would measure the generation.
 */
class PacedModel extends ScriptedChatModel {
  override async *_streamResponseChunks(...args: Parameters<ScriptedChatModel["_streamResponseChunks"]>) {
    for await (const chunk of super._streamResponseChunks(...args)) {
      yield chunk;
      await new Promise((r) => setImmediate(r));
    }
  }
}

function makeGraph() {
  const model = new PacedModel({ script: [{ text: TEXT }], whenDone: "repeat-last" });
  return new StateGraph(MessagesAnnotation)
    .addNode("answer", async (s, config) => ({ messages: [await model.invoke(s.messages, config)] }))
    .addEdge(START, "answer")
    .addEdge("answer", END)
    .compile();
}
type Graph = ReturnType<typeof makeGraph>;

async function* graphTokens(graph: Graph, prompt: string): AsyncGenerator<string> {
  for await (const [msg] of await graph.stream({ messages: [new HumanMessage(prompt)] }, { streamMode: "messages" })) {
    if (AIMessageChunk.isInstance(msg)) {
      const t = messageText(msg);
      if (t !== "") yield t;
    }
  }
}

interface Sample {
  ttft: number;
  perToken: number;
  /** CPU of this whole process (apps, node, graph) per token, µs: steadier than wall time on a busy machine. */
  cpuPerToken: number;
}

/** Time one run of `tokens`: ms to the first token, µs per later token; checks count and order. */
async function timeStream(start: () => AsyncIterable<string>): Promise<Sample> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let first = 0;
  let n = 0;
  let text = "";
  for await (const t of start()) {
    if (n === 0) first = performance.now();
    n++;
    text += t;
  }
  const end = performance.now();
  if (n !== TOKENS.length || text !== TEXT) throw new Error(`got ${n} tokens, want ${TOKENS.length} (or the text differs)`);
  const cpu = process.cpuUsage(cpu0);
  return { ttft: first - t0, perToken: ((end - first) / (n - 1)) * 1000, cpuPerToken: (cpu.user + cpu.system) / n };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)] as number;

/** Run the paths in turn, round after round, so they share whatever load the machine has. */
async function measure(paths: Array<{ label: string; start: () => AsyncIterable<string> }>): Promise<Array<{ label: string; ttft: number; ttftP90: number; perToken: number; cpuPerToken: number }>> {
  const samples: Sample[][] = paths.map(() => []);
  for (let round = 0; round < WARMUP + RUNS; round++) {
    for (const [i, p] of paths.entries()) {
      const s = await timeStream(p.start);
      if (round >= WARMUP) samples[i]!.push(s);
    }
  }
  return paths.map((p, i) => {
    const xs = samples[i]!;
    return {
      label: p.label,
      ttft: median(xs.map((s) => s.ttft)),
      ttftP90: p90(xs.map((s) => s.ttft)),
      perToken: median(xs.map((s) => s.perToken)),
      cpuPerToken: median(xs.map((s) => s.cpuPerToken)),
    };
  });
}

async function streaming(url: string): Promise<void> {
  const graph = makeGraph();

  // B: raw session; the request carries the stream id the server must use
  const rawServer = await createApp({ name: "bench/agents/raw-server", secret: SECRET, connect: url });
  const rawClient = await createApp({ name: "bench/agents/raw-client", secret: SECRET, connect: url });
  const serverGraph = makeGraph();
  const serving = (async () => {
    for await (const s of rawServer.listen({ kind: "p2p" })) {
      const mux = new SessionMux(s);
      mux.serve(async (req) => {
        const { id, prompt } = JSON.parse(dec.decode(req.payload)) as { id: string; prompt: string };
        await mux.sendStream(graphTokens(serverGraph, prompt), { id });
        return "done";
      });
    }
  })();
  const rawSession: P2PSession = await rawClient.createSession({ type: "p2p", peer: "bench/agents/raw-server" }, { reliable: { intervalMs: 1_000, maxRetries: 10 } });
  const rawMux = new SessionMux(rawSession);
  const incoming = rawMux.incoming()[Symbol.asyncIterator]();
  const raw = async function* () {
    const id = randomUUID();
    const replied = rawMux.request(enc.encode(JSON.stringify({ id, prompt: "go" })), { timeoutMs: 30_000 });
    const next = await incoming.next();
    if (next.done === true || next.value.id !== id) throw new Error("no stream");
    for await (const m of next.value) yield dec.decode(m.payload);
    await replied;
  };

  // C, D: the adapters
  const server = await createApp({ name: "bench/agents/server", secret: SECRET, connect: url });
  const client = await createApp({ name: "bench/agents/client", secret: SECRET, connect: url });
  const served = serveGraph(server, makeGraph());
  const hub = new AgentHub(client, { allow: ["bench/agents/server"] });
  const port = await hub.peer("bench/agents/server");
  const caller = new StateGraph(MessagesAnnotation)
    .addNode("remote", slimRemoteGraph({ hub, to: "bench/agents/server", name: "remote" }))
    .addEdge(START, "remote")
    .addEdge("remote", END)
    .compile();
  const rows = await measure([
    { label: "A  graph in-process (no SLIM)", start: () => graphTokens(graph, "go") },
    { label: "B  same graph, raw session (SessionMux)", start: raw },
    { label: "C  same graph, adapters (serveGraph + askAgent)", start: () => askAgent(port, [{ role: "user", content: "go" }]) },
    { label: "D  as C, read by a LangGraph caller (slimRemoteGraph)", start: () => graphTokens(caller as unknown as Graph, "go") },
  ]);

  console.log(`\nToken streaming: ${N} tokens, ${RUNS} runs after ${WARMUP} warm-up, paths interleaved (median; TTFT p90 in brackets); a scripted model yielding to the event loop after each token; apps on gRPC loopback links to an embedded node`);
  console.log("| path | TTFT ms | per token µs | CPU per token µs |\n|---|---:|---:|---:|");
  for (const r of rows) console.log(`| ${r.label} | ${r.ttft.toFixed(2)} (${r.ttftP90.toFixed(2)}) | ${r.perToken.toFixed(1)} | ${r.cpuPerToken.toFixed(1)} |`);
  const [a, b, c] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
  console.log(`SLIM raw session over in-process (B - A): TTFT ${(b.ttft - a.ttft).toFixed(2)} ms, per token ${(b.perToken - a.perToken).toFixed(1)} µs`);
  console.log(
    `\nadapters over the raw session (C - B): TTFT ${(c.ttft - b.ttft).toFixed(2)} ms, per token ${(c.perToken - b.perToken).toFixed(1)} µs of wall time, ` +
      `${(c.cpuPerToken - b.cpuPerToken).toFixed(1)} µs of CPU (every app and the node run in this process, so CPU counts all of it; the wall-time difference of two medians of about 400 µs is at the mercy of the machine's load)`,
  );

  await served.close();
  await hub.close();
  await rawSession.close();
  await Promise.all([rawServer, rawClient, server, client].map((a) => a.close()));
  await serving.catch(() => undefined);
}

/** Where the voters' apps run: on gRPC links to the node, or attached to its datapath in this process. */
type Attach = { connect: string } | { processor: MessageProcessor };

async function voting(attach: Attach, mls: boolean, routed: () => number = () => 0): Promise<void> {
  const voters = VOTERS.map((v) => ({ ...v }));
  const ns = mls ? "bench/vote" : "bench/vote-plain";
  for (const v of voters) v.name = v.name.replace("bench/vote/", `${ns}/`);
  const apps: SlimApp[] = await Promise.all([`${ns}/chair`, ...voters.map((v) => v.name)].map((name) => createApp({ name, secret: SECRET, ...attach })));
  const [chair, ...hubs] = apps.map((a) => new AgentHub(a)) as [AgentHub, ...AgentHub[]];
  const accepting = new AbortController();
  for (const h of hubs) void h.accept({ signal: accepting.signal }).catch(() => undefined);
  const room = `${ns}/room`;
  const group = mls ? await createMlsGroup(chair, room, voters.map((v) => v.name)) : await chair.createGroup(room, voters.map((v) => v.name));
  const ports = await Promise.all(hubs.map((h) => h.port(room)));

  const oneVote = async (direct: boolean): Promise<number> => {
    const verifying = voters.map(async (spec, i) => {
      if (!direct) return runVoter(hubs[i]!, ports[i]!, spec, "", { timeoutMs: 10_000 });
      const inv = await ports[i]!.nextVote({ timeoutMs: 10_000 });
      await inv.cast([spec.choice]);
      return inv.result();
    });
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const routed0 = routed();
    const round = await group.voting!.open({ question: "ship?", choices: ["yes", "no"], strategy: "majority", durationMs: 10_000, earlyClose: false });
    const [outcome, ...verified] = await Promise.all([round.result(), ...verifying]);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    messages.push(routed() - routed0);
    cpuMs[direct ? "direct" : "agents"]!.push((cpu.user + cpu.system) / 1000);
    if (outcome.result.turnout !== 5 || verified.some((v) => v.result.digest !== outcome.result.digest)) throw new Error("vote did not verify");
    return ms;
  };
  const results: Record<string, number[]> = { agents: [], direct: [] };
  const cpuMs: Record<string, number[]> = { agents: [], direct: [] };
  const messages: number[] = [];
  const kinds = process.argv.includes("--direct-only") ? [true] : process.argv.includes("--agents-only") ? [false] : [false, true];
  for (const direct of kinds) {
    for (let i = 0; i < 2; i++) await oneVote(direct); // warm-up
    for (let i = 0; i < VOTES; i++) results[direct ? "direct" : "agents"]!.push(await oneVote(direct));
  }
  const where = "connect" in attach ? "apps on gRPC loopback links to the node" : "apps attached to the embedded node in-process";
  console.log(`\n5-voter vote, MLS ${mls ? "on" : "off"}, ${where}, from opening the proposal to all 5 voters holding a verified result (${VOTES} votes after 2 warm-up)`);
  console.log("| voters | median ms | p90 ms | min ms | CPU ms (median) |\n|---|---:|---:|---:|---:|");
  const row = (label: string, key: string) => {
    const xs = results[key]!;
    if (xs.length === 0) return;
    console.log(`| ${label} | ${median(xs).toFixed(1)} | ${p90(xs).toFixed(1)} | ${Math.min(...xs).toFixed(1)} | ${median(cpuMs[key]!).toFixed(1)} |`);
  };
  row("scripted agents (3 LangGraph incl. a ballot node, 2 LlamaIndex, via tools)", "agents");
  row("direct cast (no framework)", "direct");
  console.log(`messages the node routed per vote (median): ${median(messages)}`);

  accepting.abort();
  await Promise.all([chair, ...hubs].map((h) => h.close()));
  await Promise.all(apps.map((a) => a.close()));
}

const VOTERS: VoterSpec[] = [
  { name: "bench/vote/v1", framework: "langgraph", choice: "yes" },
  { name: "bench/vote/v2", framework: "llamaindex", choice: "yes" },
  { name: "bench/vote/v3", framework: "langgraph", style: "ballot-node", choice: "no" },
  { name: "bench/vote/v4", framework: "llamaindex", choice: "yes" },
  { name: "bench/vote/v5", framework: "langgraph", choice: "no" },
];

/** The same vote with each voter in its own process, through a standalone node process. */
async function votingMultiProcess(): Promise<void> {
  console.log(
    `\n5-voter vote, every agent in its own process (5 voters + the chair) through a standalone slim-ts-node process, ` +
      `from opening the proposal to the last voter's verified result (${VOTES} votes after ${MP_WARMUP} warm-up)`,
  );
  console.log("| MLS | voters | median ms | p90 ms | min ms |\n|---|---|---:|---:|---:|");
  for (const mls of [true, false]) {
    for (const direct of [false, true]) {
      const xs = await multiProcessVotes({ voters: VOTERS, secret: SECRET, mls, direct, votes: VOTES, warmup: MP_WARMUP });
      const label = direct ? "direct cast (no framework)" : "scripted agents (3 LangGraph incl. a ballot node, 2 LlamaIndex, via tools)";
      console.log(`| ${mls ? "on" : "off"} | ${label} | ${median(xs).toFixed(1)} | ${p90(xs).toFixed(1)} | ${Math.min(...xs).toFixed(1)} |`);
    }
  }
}

// everything printed also goes to BENCHMARKS.md with --write
const printed: string[] = [];
const print = console.log.bind(console);
console.log = (...parts: unknown[]) => {
  printed.push(parts.map(String).join(" "));
  print(...parts);
};
const started = new Date().toISOString().slice(0, 16).replace("T", " ");
await using node = await startNode({ listen: "127.0.0.1:0" });
const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined;
if (!only || only === "stream") await streaming(node.url);
const routed = () => node.status().routed;
if (!only || only === "vote-mp") await votingMultiProcess();
const attachArg = process.argv.includes("--attach") ? process.argv[process.argv.indexOf("--attach") + 1] : undefined;
const attaches: Attach[] = [];
if (attachArg !== "inproc") attaches.push({ connect: node.url });
if (attachArg !== "grpc") attaches.push({ processor: node.processor });
for (const attach of attaches) {
  if (!only || only === "vote") await voting(attach, true, routed);
  if (!only || only === "vote-plain") await voting(attach, false, routed);
}
if (process.argv.includes("--write")) {
  const { readFileSync, writeFileSync } = await import("node:fs");
  const file = new URL("../BENCHMARKS.md", import.meta.url);
  const start = "<!-- bench:agents:start -->";
  const end = "<!-- bench:agents:end -->";
  const body = [
    "## Agents (issue 5)",
    "",
    `Last run: ${started} UTC, \`bench/agents.ts\`. Targets: the adapters add ≤ 1 ms to time to first token and ≤ 20 µs per token over a raw session; a 5-agent vote with scripted models completes in ≤ 50 ms after the proposal opens.`,
    ...printed,
  ].join("\n");
  const block = `${start}\n\n${body}\n\n${end}`;
  let md = readFileSync(file, "utf8");
  md = md.includes(start) ? md.replace(new RegExp(`${start}[\\s\\S]*${end}`), block) : `${md.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, md);
}
process.exit(0);
