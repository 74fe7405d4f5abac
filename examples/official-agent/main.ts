// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// An agent built on the official SLIM bindings (@agntcy/slim-bindings, in its
// own process: official-agent.mjs) takes part with ours: our LangGraph writer
// invites it into an MLS group with a LangGraph and a LlamaIndex reviewer,
// streams a draft to all three, collects their reviews, then opens a vote.
// The official agent casts its ballot with plain messages and recounts the
// result itself; our reviewers verify it too. Exits 1 unless the official
// agent got every token in order, its ballot counted, and every member
// (official one included) verified the same result.

import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { AgentHub, createApp, tally } from "@slim-ts/core";
import { startNode } from "@slim-ts/node-embedded";
import { runVoter } from "../_lib/agents.js";
import { check, checkEqual, runExample, scripted, SECRET, service, sha256, shortName, tokenDelayMs } from "../_lib/common.js";
import { createMlsGroup, nextAnnouncedStream, readTokens, streamToGroup } from "../_lib/group.js";
import { langgraphReview, langgraphWriter } from "../_lib/langgraph-agents.js";
import { llamaindexReview } from "../_lib/llamaindex-agents.js";
import { roster } from "../_lib/roster.js";
import { DRAFT, PROPOSAL, PROPOSAL_CHOICES, REVIEW_LG, REVIEW_LI, TOPIC, WRITER_SYSTEM } from "../_lib/script.js";
import { barChart, heading, paint, say } from "../_lib/view.js";

const REVIEW_TYPE = "application/vnd.slim-ts.example.review+json";
const AGENT = fileURLToPath(new URL("./official-agent.mjs", import.meta.url));
const WAIT_MS = 20_000;
const r = roster("official");
const OFFICIAL = "demo/official/agent";

type Event = { agent: string; event: string; [k: string]: unknown };

runExample("official-agent", 60_000, async () => {
  await using node = await startNode({ listen: "127.0.0.1:0" });
  say(`node listening on ${node.url}; models: ${scripted() ? "scripted (offline)" : "OpenAI-compatible endpoint"}`);

  // the official agent, in its own process
  const child = spawn(process.execPath, [AGENT], {
    env: { ...process.env, SLIM_NODE_URL: node.url, SLIM_SECRET: SECRET, AGENT_NAME: OFFICIAL, MODERATOR: r.writer },
    stdio: ["pipe", "pipe", "inherit"],
  });
  process.on("exit", () => child.exitCode === null && child.kill("SIGTERM"));
  const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
  const events: Event[] = [];
  const waiting: Array<{ event: string; resolve: (e: Event) => void }> = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const e = JSON.parse(line) as Event;
    events.push(e);
    if (e.event === "error") say(`  official agent: ${String(e.message)}`);
    for (const w of waiting.splice(0)) (w.event === e.event ? w.resolve(e) : waiting.push(w));
  });
  const officialEvent = (event: string): Promise<Event> => {
    const seen = events.find((e) => e.event === event);
    if (seen !== undefined) return Promise.resolve(seen);
    const got = new Promise<Event>((resolve) => waiting.push({ event, resolve }));
    const died = exited.then((code) => Promise.reject(new Error(`the official agent exited (${code}) before "${event}"`)));
    return Promise.race([got, died]);
  };
  const ready = await officialEvent("ready");
  say(`official agent (@agntcy/slim-bindings) pid ${child.pid}, app id ${String(ready.appId)}`);

  const apps = await Promise.all([r.writer, r.reviewerLg.name, r.reviewerLi.name].map((name) => createApp({ name, secret: SECRET, connect: node.url })));
  const [writer, lgHub, liHub] = apps.map((a) => new AgentHub(a)) as [AgentHub, AgentHub, AgentHub];
  const accepting = new AbortController();
  for (const h of [lgHub, liHub]) void h.accept({ signal: accepting.signal }).catch(() => undefined);

  heading(`MLS group ${r.channel}`);
  const group = await createMlsGroup(writer, r.channel, [r.reviewerLg.name, r.reviewerLi.name, OFFICIAL], (m) => say(`  invited ${m}`));
  const joined = await officialEvent("joined");
  say(`  the official agent joined ${String(joined.channel)} with MLS ${joined.mls ? "on" : "OFF"}`);

  // our reviewers read the draft, review it, then vote
  const ours = [
    { spec: r.reviewerLg, hub: lgHub, review: (d: string) => langgraphReview([{ text: REVIEW_LG }], d) },
    { spec: r.reviewerLi, hub: liHub, review: (d: string) => llamaindexReview([{ text: REVIEW_LI }], "reviewer_li", d) },
  ].map(async ({ spec, hub, review }) => {
    const port = await hub.port(r.channel, { timeoutMs: WAIT_MS });
    const s = await nextAnnouncedStream(hub, port, { kind: "draft", timeoutMs: WAIT_MS });
    const tokens = await readTokens(s.tokens);
    const draft = tokens.join("");
    await port.publish(JSON.stringify({ review: await review(draft), tokens: tokens.length, sha256: sha256(draft) }), { payloadType: REVIEW_TYPE });
    const outcome = await runVoter(hub, port, spec, `The group is deciding whether to publish this draft:\n${draft}`, { timeoutMs: WAIT_MS });
    return { tokens, outcome };
  });
  ours.forEach((p) => p.catch(() => undefined)); // awaited below

  heading(`writer (LangGraph) streams "${TOPIC}"`);
  const write = langgraphWriter([{ text: DRAFT }], { system: WRITER_SYSTEM, delayMs: tokenDelayMs(5) });
  const sent = await streamToGroup(group, write(TOPIC), { kind: "draft", topic: TOPIC });
  const officialStream = await officialEvent("stream");
  say(`  official agent reassembled ${String(officialStream.tokens)} tokens (sha256 ${String(officialStream.sha256).slice(0, 16)}…)`);

  heading("reviews");
  const reviews = await writer.inbox.collect({ filter: { to: r.channel, payloadType: REVIEW_TYPE }, max: 3, timeoutMs: WAIT_MS });
  for (const e of reviews) say(`  ${shortName(e.from)}: ${(JSON.parse(e.text ?? "{}") as { review: string }).review}`);

  heading(`vote: "${PROPOSAL}"`);
  const round = await group.voting!.open({ question: PROPOSAL, choices: [...PROPOSAL_CHOICES], strategy: "majority", durationMs: 15_000, earlyClose: false });
  for await (const p of round.progress()) {
    if (p.type === "accepted") say(`  ballot accepted from ${service(p.voter)}`);
    if (p.type === "rejected") say(`  ballot rejected from ${service(p.sender)}: ${p.reason} ${p.detail}`);
  }
  const outcome = await round.result();
  const officialBallot = await officialEvent("ballot");
  const officialVerified = await officialEvent("verified");
  const [lg, li] = await Promise.all(ours);
  say(`  ${paint.green("✓")} ${OFFICIAL} recounted it with its own code: digest ${String(officialVerified.digest).slice(0, 12)}…`);
  for (const [name, o] of [[r.reviewerLg.name, lg!.outcome], [r.reviewerLi.name, li!.outcome]] as const) {
    say(`  ${paint.green("✓")} ${name} verified it: digest ${o.result.digest.slice(0, 12)}…`);
  }
  await barChart(`result: ${outcome.result.status}, winner ${outcome.result.winner ?? "none"}`, outcome.result.scores);

  accepting.abort();
  await writer.close(); // closes the group; the official agent sees its session end and exits
  const code = await Promise.race([exited, new Promise<"timeout">((res) => setTimeout(() => res("timeout"), 10_000))]);
  await Promise.all([lgHub, liHub].map((h) => h.close()));
  await Promise.all(apps.map((a) => a.close()));

  // the checks
  checkEqual(joined.mls, true, "MLS at the official agent");
  check(sent.length > 1, `the writer streamed ${sent.length} token(s)`);
  const digest = sha256(sent.join(""));
  checkEqual([officialStream.tokens, officialStream.sha256], [sent.length, digest], "tokens the official agent reassembled");
  checkEqual(lg!.tokens, sent, "tokens at the LangGraph reviewer");
  checkEqual(li!.tokens, sent, "tokens at the LlamaIndex reviewer");
  checkEqual(reviews.map((e) => service(e.from)).sort(), [OFFICIAL, r.reviewerLg.name, r.reviewerLi.name].sort(), "reviews from");
  checkEqual(outcome.result.voted.map(service).sort(), [OFFICIAL, r.reviewerLg.name, r.reviewerLi.name].sort(), "who voted");
  checkEqual(outcome.rejected, [], "rejected ballots");
  checkEqual(tally(outcome.proposal, outcome.ballots), outcome.result, "the writer's own recount");
  checkEqual(outcome.ballots.find((b) => service(b.voter) === OFFICIAL)?.selection, officialBallot.selection, "the official agent's ballot as counted");
  checkEqual(officialVerified.digest, outcome.result.digest, "digest recounted by the official agent");
  checkEqual(officialVerified.scores, outcome.result.scores, "scores recounted by the official agent");
  for (const o of [lg!.outcome, li!.outcome]) {
    checkEqual(o.result, outcome.result, "result verified by our reviewers");
    checkEqual(o.unconfirmed, [], "ballots our reviewers saw but were not counted");
  }
  if (scripted()) checkEqual(outcome.result.scores, { publish: 3, revise: 0 }, "scores");
  checkEqual(code, 0, "official agent exit code");
  say(paint.ok(`\nok: the official agent got all ${sent.length} tokens in order over MLS, voted, and verified the same digest as ours`));
});
