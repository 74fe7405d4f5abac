// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The flagship demo (`npm start`): one process, one embedded SLIM node, eight
// apps in one MLS group. A LangGraph writer and a LlamaIndex writer answer the
// same question at the same time, streaming token by token to the group
// (shown side by side); then five judges, three LangGraph and two LlamaIndex,
// vote on the better answer, and every judge recounts the result before it
// accepts it (shown as a bar chart). Exits 1 if a token went missing or out of
// order anywhere, or the vote does not verify.

import { AgentHub, createApp, tally, type SlimApp, type VerifiedOutcome, type VoteOutcome } from "@slim-ts/core";
import { startNode } from "@slim-ts/node-embedded";
import { runVoter, type VoterSpec } from "../_lib/agents.js";
import { langgraphWriter } from "../_lib/langgraph-agents.js";
import { llamaindexWriter } from "../_lib/llamaindex-agents.js";
import { check, checkEqual, runExample, scripted, SECRET, service } from "../_lib/common.js";
import { createMlsGroup, nextAnnouncedStream, readTokens, streamToGroup } from "../_lib/group.js";
import { label } from "../_lib/roster.js";
import { barChart, heading, paint, say, SideBySide } from "../_lib/view.js";
import { ANSWER_LG, ANSWER_LI, QUESTION, WRITER_SYSTEM } from "./script.js";

const NS = "demo/flagship";
const CHANNEL = `${NS}/room`;
const HOST = `${NS}/host`;
const WRITERS = { langgraph: `${NS}/langgraph-writer`, llamaindex: `${NS}/llamaindex-writer` } as const;
const JUDGES: VoterSpec[] = [
  { name: `${NS}/judge-1`, framework: "langgraph", choice: "langgraph" },
  { name: `${NS}/judge-2`, framework: "llamaindex", choice: "llamaindex" },
  { name: `${NS}/judge-3`, framework: "langgraph", style: "ballot-node", choice: "llamaindex" },
  { name: `${NS}/judge-4`, framework: "llamaindex", choice: "langgraph" },
  { name: `${NS}/judge-5`, framework: "langgraph", choice: "llamaindex" },
];
const QUESTION_TYPE = "application/vnd.slim-ts.example.question+json";
const WAIT_MS = 20_000;

runExample("flagship", 55_000, async () => {
  const started = performance.now();
  await using node = await startNode({ listen: "127.0.0.1:0" });
  heading("SLIM flagship: two frameworks, one encrypted group");
  say(`embedded node on ${node.url}; models: ${scripted() ? "scripted (offline; set OPENAI_BASE_URL/OPENAI_MODEL for a real one)" : "OpenAI-compatible endpoint"}`);

  const names = [HOST, WRITERS.langgraph, WRITERS.llamaindex, ...JUDGES.map((j) => j.name)];
  const apps: SlimApp[] = await Promise.all(names.map((name) => createApp({ name, secret: SECRET, connect: node.url })));
  const [host, lgWriter, liWriter, ...judges] = apps.map((a) => new AgentHub(a)) as [AgentHub, AgentHub, AgentHub, ...AgentHub[]];
  const accepting = new AbortController();
  for (const h of [lgWriter, liWriter, ...judges]) void h.accept({ signal: accepting.signal }).catch(() => undefined);

  const group = await createMlsGroup(host, CHANNEL, names.slice(1));
  check(group.session.kind === "group" && group.session.mls !== undefined, "the group runs without MLS");
  say(`MLS group ${CHANNEL}: ${group.session.participants().length} members, epoch ${group.session.epoch} (${((performance.now() - started) / 1000).toFixed(1)} s)`);

  // the writers: each waits for the question, then streams its answer to the whole group
  const writer = (hub: AgentHub, framework: "langgraph" | "llamaindex", write: (prompt: string) => AsyncIterable<string>) =>
    (async () => {
      const port = await hub.port(CHANNEL, { timeoutMs: WAIT_MS });
      const q = await hub.inbox.next({ to: CHANNEL, payloadType: QUESTION_TYPE }, { timeoutMs: WAIT_MS });
      return streamToGroup(port, write(q.text ?? ""), { kind: "answer", framework });
    })();
  const lgSent = writer(lgWriter, "langgraph", langgraphWriter([{ text: ANSWER_LG }], { system: WRITER_SYSTEM, delayMs: 28 }));
  const liSent = writer(liWriter, "llamaindex", llamaindexWriter([{ text: ANSWER_LI }], { name: "llamaindex_writer", system: WRITER_SYSTEM, delayMs: 34 }));

  // the judges: read both answers as they stream, then vote and verify
  const judging = JUDGES.map(async (spec, i) => {
    const hub = judges[i]!;
    const port = await hub.port(CHANNEL, { timeoutMs: WAIT_MS });
    const got: Record<string, string[]> = {};
    await Promise.all(
      [0, 1].map(async () => {
        const s = await nextAnnouncedStream(hub, port, { kind: "answer", timeoutMs: WAIT_MS });
        got[String(s.info.framework)] = await readTokens(s.tokens);
      }),
    );
    const context = `Question: ${QUESTION}\nAnswer "langgraph":\n${(got.langgraph ?? []).join("")}\nAnswer "llamaindex":\n${(got.llamaindex ?? []).join("")}\nVote for the clearer answer.`;
    const outcome: VerifiedOutcome = await runVoter(hub, port, spec, context, { timeoutMs: WAIT_MS });
    return { got, outcome };
  });
  judging.forEach((p) => p.catch(() => undefined)); // awaited below

  heading(`Q: ${QUESTION}`);
  await group.publish(QUESTION, { payloadType: QUESTION_TYPE });
  const view = new SideBySide(["LangGraph writer", "LlamaIndex writer"], { height: 6 });
  const shown: Record<string, string[]> = {};
  const t0 = performance.now();
  await Promise.all(
    [0, 1].map(async () => {
      const s = await nextAnnouncedStream(host, group, { kind: "answer", timeoutMs: WAIT_MS });
      const pane = view.pane(s.info.framework === "langgraph" ? 0 : 1);
      const t1 = performance.now();
      const tokens = await readTokens(s.tokens, (t) => pane.append(t));
      pane.finish(`done: ${tokens.length} tokens, ${((performance.now() - t1) / 1000).toFixed(1)} s`);
      shown[String(s.info.framework)] = tokens;
    }),
  );
  view.close();
  const streamsMs = performance.now() - t0;
  const sent = { langgraph: await lgSent, llamaindex: await liSent };

  // the vote: the host moderates; the five judges are the voters
  heading("Five judges vote: which answer is clearer? (majority; every judge recounts)");
  const judgeNames = new Set(JUDGES.map((j) => j.name));
  const voters = group.session.participants().map(String).filter((n) => judgeNames.has(service(n)));
  const round = await group.voting!.open({ question: "Which answer is clearer?", choices: ["langgraph", "llamaindex"], strategy: "majority", voters, durationMs: 15_000, earlyClose: false });
  const v0 = performance.now();
  for await (const p of round.progress()) {
    if (p.type === "accepted") say(`  ballot from ${label(JUDGES.find((j) => j.name === service(p.voter))!)}`);
    if (p.type === "rejected") say(`  rejected ballot from ${service(p.sender)}: ${p.reason}`);
  }
  const outcome: VoteOutcome = await round.result();
  const voteMs = performance.now() - v0;
  const judged = await Promise.all(judging);
  const winner = outcome.result.winner ?? "none";
  await barChart(`Result: ${outcome.result.status}, ${outcome.result.turnout}/5 voted`, outcome.result.scores, { marks: { [winner]: "★ winner" } });

  // the checks
  for (const fw of ["langgraph", "llamaindex"] as const) {
    check(sent[fw].length > 1, `the ${fw} writer streamed ${sent[fw].length} token(s)`);
    checkEqual(shown[fw], sent[fw], `${fw} tokens at the host`);
    for (const [i, j] of judged.entries()) checkEqual(j.got[fw], sent[fw], `${fw} tokens at ${JUDGES[i]!.name}`);
  }
  checkEqual(outcome.result.status, "decided", "status");
  checkEqual(outcome.result.voted.map(service).sort(), [...judgeNames].sort(), "who voted");
  checkEqual(tally(outcome.proposal, outcome.ballots), outcome.result, "the host's recount");
  for (const [i, j] of judged.entries()) {
    checkEqual(j.outcome.result, outcome.result, `result verified by ${JUDGES[i]!.name}`);
    checkEqual(j.outcome.unconfirmed, [], `ballots ${JUDGES[i]!.name} saw but were not counted`);
  }
  if (scripted()) {
    checkEqual(outcome.result.scores, { langgraph: 2, llamaindex: 3 }, "scores");
    for (const spec of JUDGES) checkEqual(outcome.ballots.find((b) => service(b.voter) === spec.name)?.selection, [spec.choice], `ballot of ${spec.name}`);
  }
  const n = sent.langgraph.length + sent.llamaindex.length;
  say(
    paint.ok(
      `\nok: ${n} tokens streamed to 7 members in ${(streamsMs / 1000).toFixed(1)} s, all in order; ` +
        `vote closed in ${voteMs.toFixed(0)} ms and all 5 judges verified digest ${outcome.result.digest.slice(0, 12)}… ` +
        `(total ${((performance.now() - started) / 1000).toFixed(1)} s)`,
    ),
  );

  accepting.abort();
  await Promise.all([host, lgWriter, liWriter, ...judges].map((h) => h.close()));
  await Promise.all(apps.map((a) => a.close()));
});
