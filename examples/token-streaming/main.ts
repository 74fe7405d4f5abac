// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Token streaming in an MLS group: a LangGraph writer streams its answer token
// by token to two reviewers, one LangGraph and one LlamaIndex, shown live side
// by side. Each reviewer then reviews the draft with its own model and sends
// the review, with a digest of what it received, back to the group. Exits 1
// unless both reviewers got every token, in order.

import { AgentHub, createApp, splitTokens, type SessionPort } from "@slim-ts/core";
import { startNode } from "@slim-ts/node-embedded";
import { langgraphReview, langgraphWriter } from "../_lib/langgraph-agents.js";
import { llamaindexReview } from "../_lib/llamaindex-agents.js";
import { check, checkEqual, runExample, scripted, SECRET, sha256, tokenDelayMs } from "../_lib/common.js";
import { createMlsGroup, nextAnnouncedStream, readTokens, streamToGroup } from "../_lib/group.js";
import { roster } from "../_lib/roster.js";
import { DRAFT, REVIEW_LG, REVIEW_LI, TOPIC, WRITER_SYSTEM } from "../_lib/script.js";
import { heading, paint, say, SideBySide, type Pane } from "../_lib/view.js";

const REVIEW_TYPE = "application/vnd.slim-ts.example.review+json";
const WAIT_MS = 20_000;

interface Review {
  review: string;
  tokens: number;
  sha256: string;
}

runExample("token-streaming", 60_000, async () => {
  const r = roster("streaming");
  await using node = await startNode({ listen: "127.0.0.1:0" });
  say(`node listening on ${node.url}; models: ${scripted() ? "scripted (offline)" : "OpenAI-compatible endpoint"}`);

  const apps = await Promise.all([r.writer, r.reviewerLg.name, r.reviewerLi.name].map((name) => createApp({ name, secret: SECRET, connect: node.url })));
  const [writer, lgHub, liHub] = apps.map((app) => new AgentHub(app)) as [AgentHub, AgentHub, AgentHub];
  const accepting = new AbortController();
  for (const h of [lgHub, liHub]) void h.accept({ signal: accepting.signal }).catch(() => undefined);

  heading(`MLS group ${r.channel}`);
  const group = await createMlsGroup(writer, r.channel, [r.reviewerLg.name, r.reviewerLi.name], (m) => say(`  invited ${m}`));
  check(group.session.kind === "group" && group.session.mls !== undefined, "the group runs without MLS");
  say(`  MLS epoch ${group.session.epoch}, members: ${group.session.participants().length}`);
  const [lgPort, liPort] = await Promise.all([lgHub.port(r.channel, { timeoutMs: WAIT_MS }), liHub.port(r.channel, { timeoutMs: WAIT_MS })]);

  heading(`writer (LangGraph) -> "${TOPIC}"`);
  const view = new SideBySide([`${r.reviewerLg.name} (LangGraph)`, `${r.reviewerLi.name} (LlamaIndex)`]);
  const reviewer = async (hub: AgentHub, port: SessionPort, pane: Pane, review: (draft: string) => Promise<string>) => {
    const s = await nextAnnouncedStream(hub, port, { kind: "draft", timeoutMs: WAIT_MS });
    const tokens = await readTokens(s.tokens, (t) => pane.append(t));
    pane.finish(`${tokens.length} tokens from ${s.from.split("/")[2]}`);
    const draft = tokens.join("");
    const text = await review(draft);
    const body: Review = { review: text, tokens: tokens.length, sha256: sha256(draft) };
    await port.publish(JSON.stringify(body), { payloadType: REVIEW_TYPE });
    return tokens;
  };
  const lgDone = reviewer(lgHub, lgPort, view.pane(0), (d) => langgraphReview([{ text: REVIEW_LG }], d));
  const liDone = reviewer(liHub, liPort, view.pane(1), (d) => llamaindexReview([{ text: REVIEW_LI }], "reviewer_li", d));
  const write = langgraphWriter([{ text: DRAFT }], { system: WRITER_SYSTEM, delayMs: tokenDelayMs(15) });
  const t0 = performance.now();
  const sent = await streamToGroup(group, write(TOPIC), { kind: "draft", topic: TOPIC });
  const streamedMs = performance.now() - t0;
  const [lgGot, liGot] = await Promise.all([lgDone, liDone]);
  view.close();

  heading("reviews received by the writer");
  const reviews = await writer.inbox.collect({ filter: { to: r.channel, payloadType: REVIEW_TYPE }, max: 2, timeoutMs: WAIT_MS });
  for (const e of reviews) {
    const body = JSON.parse(e.text ?? "{}") as Review;
    say(`  ${e.from.split("/")[2]}: ${body.review}`);
    say(paint.dim(`    (${body.tokens} tokens, sha256 ${body.sha256.slice(0, 16)}…)`));
  }

  // the checks
  if (scripted()) checkEqual(sent, splitTokens(DRAFT), "tokens the writer's graph streamed");
  check(sent.length > 1, `the writer streamed ${sent.length} token(s)`);
  checkEqual(lgGot, sent, "tokens the LangGraph reviewer got");
  checkEqual(liGot, sent, "tokens the LlamaIndex reviewer got");
  checkEqual(reviews.map((e) => e.from.split("/").slice(0, 3).join("/")).sort(), [r.reviewerLg.name, r.reviewerLi.name].sort(), "reviews from");
  for (const e of reviews) {
    const body = JSON.parse(e.text ?? "{}") as Review;
    checkEqual([body.tokens, body.sha256], [sent.length, sha256(sent.join(""))], `what ${e.from} says it received`);
  }
  say(paint.ok(`\nok: ${sent.length} tokens streamed in ${streamedMs.toFixed(0)} ms over MLS; both reviewers got every token in order`));

  accepting.abort();
  await Promise.all([writer, lgHub, liHub].map((h) => h.close()));
  await Promise.all(apps.map((a) => a.close()));
});
