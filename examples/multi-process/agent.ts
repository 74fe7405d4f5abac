// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// One agent of the multi-process demo, in its own process, connected to a
// standalone slim-ts-node. main.ts starts one writer and five voters:
//
//   agent.ts writer          the LangGraph writer: moderates the MLS group, streams the draft, opens the vote
//   agent.ts voter <i>       voter i of the roster (two of them also review the draft)
//
// Environment: SLIM_NODE_URL, SLIM_SECRET. Events go to stdout as JSON lines
// ({ agent, event, ... }); main.ts reads them. The writer waits for "go" on
// stdin before it invites, and for "close" before it closes the group.

import { createInterface } from "node:readline";
import { AgentHub, createApp, tally, type SessionPort } from "@slim-ts/core";
import type { VoteRecord } from "@slim-ts/langgraph";
import { runVoter } from "../_lib/agents.js";
import { service, sha256, tokenDelayMs } from "../_lib/common.js";
import { createMlsGroup, nextAnnouncedStream, readTokens, streamToGroup } from "../_lib/group.js";
import { roster } from "../_lib/roster.js";
import { DRAFT, PROPOSAL, PROPOSAL_CHOICES, REVIEW_LG, REVIEW_LI, TOPIC, WRITER_SYSTEM } from "../_lib/script.js";

export const REVIEW_TYPE = "application/vnd.slim-ts.example.review+json";
const WAIT_MS = 30_000;
const r = roster("multi");

const url = process.env.SLIM_NODE_URL;
const secret = process.env.SLIM_SECRET;
const [role, index] = process.argv.slice(2);
let me = role ?? "?";

function emit(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ agent: me, event, ...fields })}\n`);
}

const stdinLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function waitFor(word: string): Promise<void> {
  for (;;) {
    const line = await stdinLines.next();
    if (line.done === true) throw new Error(`stdin closed before "${word}"`);
    if (line.value.trim() === word) return;
  }
}

// Each process loads only the framework its agent uses.
async function writer(): Promise<void> {
  me = r.writer;
  const { Annotation, END, START, StateGraph } = await import("@langchain/langgraph");
  const { slimVoteNode } = await import("@slim-ts/langgraph");
  const { langgraphWriter } = await import("../_lib/langgraph-agents.js");
  const app = await createApp({ name: r.writer, secret: secret!, connect: url! });
  const hub = new AgentHub(app);
  emit("ready");
  await waitFor("go");

  const group = await createMlsGroup(hub, r.channel, r.voters.map((v) => v.name));
  emit("group", { members: group.session.participants().length, mls: group.session.mls !== undefined, epoch: String(group.session.epoch) });

  const write = langgraphWriter([{ text: DRAFT }], { system: WRITER_SYSTEM, delayMs: tokenDelayMs(10) });
  const sent = await streamToGroup(group, write(TOPIC), { kind: "draft", topic: TOPIC });
  emit("sent", { tokens: sent.length, sha256: sha256(sent.join("")) });

  const reviews = await hub.inbox.collect({ filter: { to: r.channel, payloadType: REVIEW_TYPE }, max: 2, timeoutMs: WAIT_MS });
  emit("reviews", { reviews: reviews.map((e) => ({ from: service(e.from), ...(JSON.parse(e.text ?? "{}") as object) })) });

  const Chair = Annotation.Root({ vote: Annotation<VoteRecord>() });
  const graph = new StateGraph(Chair)
    .addNode(
      "open_vote",
      slimVoteNode(group, {
        resultKey: "vote",
        proposal: () => ({ question: PROPOSAL, choices: [...PROPOSAL_CHOICES], strategy: "majority", durationMs: 20_000, earlyClose: false }),
      }),
    )
    .addEdge(START, "open_vote")
    .addEdge("open_vote", END)
    .compile();
  let vote: VoteRecord | undefined;
  const t0 = performance.now();
  for await (const [mode, chunk] of await graph.stream({}, { streamMode: ["custom", "values"] })) {
    if (mode === "custom") {
      const p = chunk as { type?: string; voter?: string };
      if (p.type === "accepted") emit("ballot", { voter: service(p.voter ?? "") });
    } else vote = (chunk as { vote?: VoteRecord }).vote ?? vote;
  }
  if (vote === undefined) throw new Error("no vote result");
  const recount = JSON.stringify(tally(vote.proposal, vote.ballots)) === JSON.stringify(vote.result);
  emit("result", { ...vote.result, ms: Math.round(performance.now() - t0), recountOk: recount, ballots: vote.ballots.map((b) => [service(b.voter), b.selection]) });

  await waitFor("close");
  const c0 = performance.now();
  await hub.close(); // closes the group: members see their session end
  await app.close();
  emit("closed", { ms: Math.round(performance.now() - c0) });
}

async function voter(i: number): Promise<void> {
  const spec = r.voters[i];
  if (spec === undefined) throw new Error(`no voter ${i}`);
  me = spec.name;
  const app = await createApp({ name: spec.name, secret: secret!, connect: url! });
  await app.prepareMls(); // the writer's group is MLS: load the engine before the invitation comes
  const hub = new AgentHub(app);
  const accepting = new AbortController();
  void hub.accept({ signal: accepting.signal }).catch(() => undefined);
  emit("ready");

  const port: SessionPort = await hub.port(r.channel, { timeoutMs: WAIT_MS });
  const s = await nextAnnouncedStream(hub, port, { kind: "draft", timeoutMs: WAIT_MS });
  const live = spec === r.reviewerLg; // one process shows the stream as it arrives
  const tokens = await readTokens(s.tokens, live ? (t) => emit("token", { t }) : undefined);
  const draft = tokens.join("");
  emit("tokens", { tokens: tokens.length, sha256: sha256(draft) });

  if (spec === r.reviewerLg || spec === r.reviewerLi) {
    const review =
      spec === r.reviewerLg
        ? await (await import("../_lib/langgraph-agents.js")).langgraphReview([{ text: REVIEW_LG }], draft)
        : await (await import("../_lib/llamaindex-agents.js")).llamaindexReview([{ text: REVIEW_LI }], "reviewer_li", draft);
    await port.publish(JSON.stringify({ review, tokens: tokens.length, sha256: sha256(draft) }), { payloadType: REVIEW_TYPE });
  }

  const outcome = await runVoter(hub, port, spec, `The group is deciding whether to publish this draft:\n${draft}`, { timeoutMs: WAIT_MS });
  emit("verified", { digest: outcome.result.digest, result: outcome.result, moderator: service(outcome.moderator), unconfirmed: outcome.unconfirmed });

  const w0 = performance.now();
  await Promise.race([port.done, new Promise((res) => setTimeout(res, WAIT_MS))]); // stay until the writer closes the group
  const c0 = performance.now();
  accepting.abort();
  await hub.close();
  await app.close();
  emit("closed", { waitedMs: Math.round(c0 - w0), ms: Math.round(performance.now() - c0) });
}

const main = role === "writer" ? writer() : role === "voter" ? voter(Number(index)) : Promise.reject(new Error("usage: agent.ts writer | voter <i>"));
main.then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${me}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
