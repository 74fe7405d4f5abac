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
//   npx tsx --conditions=@slim/source bench/agents.ts [--tokens 200] [--runs 30] [--votes 10]

import { randomBytes, randomUUID } from "node:crypto";
import { AIMessageChunk, HumanMessage } from "@langchain/core/messages";
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { AgentHub, askAgent, createApp, SessionMux, splitTokens, type P2PSession, type SlimApp } from "@slim-ts/core";
import { messageText, ScriptedChatModel, serveGraph, slimRemoteGraph } from "@slim-ts/langgraph";
import { startNode } from "@slim-ts/node-embedded";
import { runVoter, type VoterSpec } from "../examples/_lib/agents.js";
import { createMlsGroup } from "../examples/_lib/group.js";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = arg("tokens", 200);
const RUNS = arg("runs", 30);
const WARMUP = 5;
const VOTES = arg("votes", 10);
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
}

/** Time one run of `tokens`: ms to the first token, µs per later token; checks count and order. */
async function timeStream(start: () => AsyncIterable<string>): Promise<Sample> {
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
  return { ttft: first - t0, perToken: ((end - first) / (n - 1)) * 1000 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)] as number;

/** Run the paths in turn, round after round, so they share whatever load the machine has. */
async function measure(paths: Array<{ label: string; start: () => AsyncIterable<string> }>): Promise<Array<{ label: string; ttft: number; ttftP90: number; perToken: number }>> {
  const samples: Sample[][] = paths.map(() => []);
  for (let round = 0; round < WARMUP + RUNS; round++) {
    for (const [i, p] of paths.entries()) {
      const s = await timeStream(p.start);
      if (round >= WARMUP) samples[i]!.push(s);
    }
  }
  return paths.map((p, i) => {
    const xs = samples[i]!;
    return { label: p.label, ttft: median(xs.map((s) => s.ttft)), ttftP90: p90(xs.map((s) => s.ttft)), perToken: median(xs.map((s) => s.perToken)) };
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
  console.log("| path | TTFT ms | per token µs |\n|---|---:|---:|");
  for (const r of rows) console.log(`| ${r.label} | ${r.ttft.toFixed(2)} (${r.ttftP90.toFixed(2)}) | ${r.perToken.toFixed(1)} |`);
  const [a, b, c] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
  console.log(`SLIM raw session over in-process (B - A): TTFT ${(b.ttft - a.ttft).toFixed(2)} ms, per token ${(b.perToken - a.perToken).toFixed(1)} µs`);
  console.log(`\nadapters over the raw session (C - B): TTFT ${(c.ttft - b.ttft).toFixed(2)} ms, per token ${(c.perToken - b.perToken).toFixed(1)} µs`);

  await served.close();
  await hub.close();
  await rawSession.close();
  await Promise.all([rawServer, rawClient, server, client].map((a) => a.close()));
  await serving.catch(() => undefined);
}

async function voting(url: string, mls: boolean): Promise<void> {
  const voters: VoterSpec[] = [
    { name: "bench/vote/v1", framework: "langgraph", choice: "yes" },
    { name: "bench/vote/v2", framework: "llamaindex", choice: "yes" },
    { name: "bench/vote/v3", framework: "langgraph", style: "ballot-node", choice: "no" },
    { name: "bench/vote/v4", framework: "llamaindex", choice: "yes" },
    { name: "bench/vote/v5", framework: "langgraph", choice: "no" },
  ];
  const ns = mls ? "bench/vote" : "bench/vote-plain";
  for (const v of voters) v.name = v.name.replace("bench/vote/", `${ns}/`);
  const apps: SlimApp[] = await Promise.all([`${ns}/chair`, ...voters.map((v) => v.name)].map((name) => createApp({ name, secret: SECRET, connect: url })));
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
    const round = await group.voting!.open({ question: "ship?", choices: ["yes", "no"], strategy: "majority", durationMs: 10_000, earlyClose: false });
    const [outcome, ...verified] = await Promise.all([round.result(), ...verifying]);
    const ms = performance.now() - t0;
    if (outcome.result.turnout !== 5 || verified.some((v) => v.result.digest !== outcome.result.digest)) throw new Error("vote did not verify");
    return ms;
  };
  const results: Record<string, number[]> = { agents: [], direct: [] };
  for (const direct of [false, true]) {
    for (let i = 0; i < 2; i++) await oneVote(direct); // warm-up
    for (let i = 0; i < VOTES; i++) results[direct ? "direct" : "agents"]!.push(await oneVote(direct));
  }
  console.log(`\n5-voter vote, MLS ${mls ? "on" : "off"}, from opening the proposal to all 5 voters holding a verified result (${VOTES} votes after 2 warm-up)`);
  console.log("| voters | median ms | p90 ms | min ms |\n|---|---:|---:|---:|");
  const row = (label: string, xs: number[]) => console.log(`| ${label} | ${median(xs).toFixed(1)} | ${p90(xs).toFixed(1)} | ${Math.min(...xs).toFixed(1)} |`);
  row("scripted agents (3 LangGraph incl. a ballot node, 2 LlamaIndex, via tools)", results.agents!);
  row("direct cast (no framework)", results.direct!);

  accepting.abort();
  await Promise.all([chair, ...hubs].map((h) => h.close()));
  await Promise.all(apps.map((a) => a.close()));
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
await streaming(node.url);
await voting(node.url, true);
await voting(node.url, false);
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
