// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Five agents, three LangGraph and two LlamaIndex, vote on a proposal in an
// MLS group. The chair, a LangGraph graph with a vote node, opens the vote and
// tallies it; every voter recounts the published ballots itself before it
// accepts the result. Exits 1 unless all five voted, every member verified the
// same result, and (with the scripted models) the expected choice won.

import { AgentHub, createApp, tally, type VerifiedOutcome } from "@slim-ts/core";
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { slimVoteNode, type VoteRecord } from "@slim-ts/langgraph";
import { startNode } from "@slim-ts/node-embedded";
import { runVoter } from "../_lib/agents.js";
import { check, checkEqual, runExample, scripted, SECRET, service } from "../_lib/common.js";
import { createMlsGroup } from "../_lib/group.js";
import { label, roster } from "../_lib/roster.js";
import { DRAFT, PROPOSAL, PROPOSAL_CHOICES } from "../_lib/script.js";
import { barChart, heading, paint, say } from "../_lib/view.js";

const WAIT_MS = 20_000;

runExample("voting", 60_000, async () => {
  const r = roster("voting");
  const chairName = "demo/voting/chair";
  await using node = await startNode({ listen: "127.0.0.1:0" });
  say(`node listening on ${node.url}; models: ${scripted() ? "scripted (offline)" : "OpenAI-compatible endpoint"}`);

  const chairApp = await createApp({ name: chairName, secret: SECRET, connect: node.url });
  const voterApps = await Promise.all(r.voters.map((v) => createApp({ name: v.name, secret: SECRET, connect: node.url })));
  const chair = new AgentHub(chairApp);
  const hubs = voterApps.map((a) => new AgentHub(a));
  const accepting = new AbortController();
  for (const h of hubs) void h.accept({ signal: accepting.signal }).catch(() => undefined);

  heading(`MLS group ${r.channel}, moderated by ${chairName}`);
  const group = await createMlsGroup(chair, r.channel, r.voters.map((v) => v.name), (m) => say(`  invited ${m}`));
  check(group.session.kind === "group" && group.session.mls !== undefined, "the group runs without MLS");

  // every voter waits for the vote, decides with its own framework and model, casts, then verifies the result
  const context = `The group is deciding whether to publish this draft:\n${DRAFT}`;
  const verifying = r.voters.map(async (spec, i) => {
    const hub = hubs[i]!;
    const port = await hub.port(r.channel, { timeoutMs: WAIT_MS });
    const outcome = await runVoter(hub, port, spec, context, { timeoutMs: WAIT_MS });
    say(`  ${paint.green("✓")} ${label(spec)} verified the result (digest ${outcome.result.digest.slice(0, 12)}…)`);
    return outcome;
  });
  verifying.forEach((p) => p.catch(() => undefined)); // awaited below

  // the chair: a LangGraph graph whose vote node opens the vote and waits for the tally
  const Chair = Annotation.Root({ vote: Annotation<VoteRecord>() });
  const chairGraph = new StateGraph(Chair)
    .addNode(
      "open_vote",
      slimVoteNode(group, {
        resultKey: "vote",
        proposal: () => ({ question: PROPOSAL, choices: [...PROPOSAL_CHOICES], strategy: "majority", durationMs: 15_000, earlyClose: false }),
      }),
    )
    .addEdge(START, "open_vote")
    .addEdge("open_vote", END)
    .compile();
  heading(`vote: "${PROPOSAL}" (${PROPOSAL_CHOICES.join(" / ")}, majority)`);
  const t0 = performance.now();
  let vote: VoteRecord | undefined;
  for await (const [mode, chunk] of await chairGraph.stream({}, { streamMode: ["custom", "values"] })) {
    if (mode === "custom") {
      const p = chunk as { type?: string; voter?: string; sender?: string; reason?: string };
      if (p.type === "accepted") say(`  ballot accepted from ${service(p.voter ?? "")}`);
      if (p.type === "rejected") say(`  ballot rejected from ${service(p.sender ?? "")}: ${p.reason}`);
    } else vote = (chunk as { vote?: VoteRecord }).vote ?? vote;
  }
  const closedMs = performance.now() - t0;
  check(vote !== undefined, "the chair's graph ended without a result");
  const verified: VerifiedOutcome[] = await Promise.all(verifying);

  const byVoter = new Map(vote.ballots.map((b) => [service(b.voter), b.selection.join(",")]));
  await barChart(`result: ${vote.result.status}, winner ${vote.result.winner ?? "none"} (${vote.result.turnout}/${vote.proposal.voters.length} voted)`, vote.result.scores);
  for (const spec of r.voters) say(paint.dim(`  ${label(spec)}: ${byVoter.get(spec.name) ?? "no ballot"}`));

  // the checks
  checkEqual(vote.result.status, "decided", "status");
  checkEqual(vote.result.turnout, 5, "turnout");
  checkEqual(vote.result.voted.map(service).sort(), r.voters.map((v) => v.name).sort(), "who voted");
  checkEqual(tally(vote.proposal, vote.ballots), vote.result, "the chair's own recount");
  for (const [i, v] of verified.entries()) {
    checkEqual(v.result, vote.result, `result verified by ${r.voters[i]!.name}`);
    checkEqual(service(v.moderator), chairName, `moderator seen by ${r.voters[i]!.name}`);
    checkEqual(v.unconfirmed, [], `ballots ${r.voters[i]!.name} saw but were not counted`);
  }
  if (scripted()) {
    checkEqual(vote.result.winner, "publish", "winner");
    checkEqual(vote.result.scores, { publish: 3, revise: 2 }, "scores");
    for (const spec of r.voters) checkEqual(byVoter.get(spec.name), spec.choice, `ballot of ${spec.name}`);
  }
  say(paint.ok(`\nok: 5 ballots over MLS, closed ${closedMs.toFixed(0)} ms after the vote opened; all 5 voters verified digest ${vote.result.digest.slice(0, 16)}…`));

  accepting.abort();
  await Promise.all([chair, ...hubs].map((h) => h.close()));
  await Promise.all([chairApp, ...voterApps].map((a) => a.close()));
});
