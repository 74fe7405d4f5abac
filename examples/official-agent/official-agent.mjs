// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// An agent written on the official SLIM Node bindings (@agntcy/slim-bindings),
// with no slim-ts code at all. It joins the group it is invited to (MLS on),
// reassembles the token stream our writer sends (each token is a plain
// message whose metadata carries the stream id and sequence number), answers
// with a short review, and takes part in the vote by hand: it reads the
// `open` message, publishes a `ballot` message, and recounts the `result`
// (scores, winner and ballot digest) itself before it accepts it.
//
//   SLIM_NODE_URL=http://127.0.0.1:46357 SLIM_SECRET=... AGENT_NAME=demo/official/agent \
//   MODERATOR=demo/official/writer node official-agent.mjs
//
// It prints one JSON line per event on stdout and exits 0 once the group is
// closed after a verified vote, 1 on any failure. One official app per
// process (two in one process can deadlock).

import { createHash } from "node:crypto";
import slim from "@agntcy/slim-bindings";

const url = process.env.SLIM_NODE_URL;
const secret = process.env.SLIM_SECRET;
const me = process.env.AGENT_NAME ?? "demo/official/agent";
const moderator = process.env.MODERATOR;
const choice = process.env.AGENT_CHOICE ?? "publish";
const WAIT_MS = 30_000;

// payload types and metadata keys of the slim-ts conventions this agent speaks
const VOTE_TYPE = "application/vnd.slim-ts.vote+json;v=1";
const REVIEW_TYPE = "application/vnd.slim-ts.example.review+json";
const META_KIND = "slim-ts-kind";
const META_ID = "slim-ts-id";
const META_SEQ = "slim-ts-seq";

const emit = (event, fields = {}) => process.stdout.write(`${JSON.stringify({ agent: me, event, ...fields })}\n`);
const fail = (message) => {
  emit("error", { message });
  process.exit(1);
};
const text = (e) => e?.inner?.message ?? e?.message ?? String(e);
const nameOf = (s) => {
  const [a, b, c] = s.split("/");
  return new slim.Name(a, b, c);
};
const bytes = (s) => {
  const u = new TextEncoder().encode(s);
  return u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength);
};
const sha256 = (s) => createHash("sha256").update(s, "utf8").digest("hex");
const compareText = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** The result a member must get from these ballots (majority and plurality only), digest included. */
function recount(proposal, ballots) {
  if (proposal.strategy !== "majority" && proposal.strategy !== "plurality") throw new Error(`cannot recount a ${proposal.strategy} vote`);
  const voters = new Set(proposal.voters);
  const seen = new Set();
  const scores = Object.fromEntries(proposal.choices.map((c) => [c, 0]));
  for (const b of ballots) {
    if (b.proposalId !== proposal.id || !voters.has(b.voter) || seen.has(b.voter)) throw new Error(`ballot of ${b.voter} could not have been accepted`);
    if (b.selection.length !== 1 || !(b.selection[0] in scores)) throw new Error(`ballot of ${b.voter} selects ${JSON.stringify(b.selection)}`);
    seen.add(b.voter);
    scores[b.selection[0]] += 1;
  }
  // ties go to the choice listed first (the default tie-break)
  const ranking = [...proposal.choices].sort((a, b) => scores[b] - scores[a] || proposal.choices.indexOf(a) - proposal.choices.indexOf(b));
  const leader = ranking[0];
  const status = ballots.length < proposal.quorum ? "no-quorum" : proposal.strategy === "majority" && scores[leader] * 2 <= ballots.length ? "no-majority" : "decided";
  const rows = [...ballots].sort((a, b) => compareText(a.voter, b.voter)).map((b) => [b.voter, b.selection]);
  const digest = sha256(JSON.stringify(["slim-vote-ballots/v1", proposal.id, rows]));
  return { status, winner: status === "decided" ? leader : null, scores, digest };
}

// The bindings stop an object's receive loop when its JS wrapper is collected: keep them reachable.
const keep = (globalThis.__officialAgent = {});

async function main() {
  if (!url || !secret || !moderator) throw new Error("set SLIM_NODE_URL, SLIM_SECRET and MODERATOR");
  const tracing = slim.newTracingConfig();
  tracing.logLevel = "off"; // Rust tracing writes to stdout, where our events go
  slim.initializeWithConfigs(slim.newRuntimeConfig(), tracing, [slim.newServiceConfig()]);
  const service = (keep.service = slim.getGlobalService());
  const app = (keep.app = service.createAppWithSecret(nameOf(me), secret));
  const connId = await service.connectAsync(slim.newInsecureClientConfig(url), { signal: AbortSignal.timeout(10_000) });
  await app.subscribeAsync(nameOf(me), connId);
  await app.setRouteAsync(nameOf(moderator), connId);
  emit("ready", { appId: app.id() });

  const session = (keep.session = await app.listenForSessionAsync(WAIT_MS));
  const cfg = session.config();
  emit("joined", { channel: session.destination().components().join("/"), mls: cfg.mlsSettings !== undefined });

  const streams = new Map(); // stream id -> { next, tokens }
  const seenBallots = new Map(); // voter -> selection, as this member saw them
  let proposal;
  let verified = false;
  const publish = (payload, payloadType) => session.publishAndWaitAsync(bytes(payload), payloadType, undefined);

  for (;;) {
    let msg;
    try {
      msg = await session.getMessageAsync(WAIT_MS);
    } catch (e) {
      // the moderator closed the group (or nothing came for too long)
      if (!verified) fail(`session ended before a verified vote: ${text(e)}`);
      emit("left", { reason: text(e) });
      return;
    }
    const ctx = msg.context;
    const meta = Object.fromEntries(ctx.metadata ?? []);
    const body = new TextDecoder().decode(new Uint8Array(msg.payload));
    const from = ctx.sourceName.components().join("/");

    const kind = meta[META_KIND];
    if (kind === "chunk" || kind === "end") {
      const id = meta[META_ID];
      const s = streams.get(id) ?? { next: 0, tokens: [] };
      streams.set(id, s);
      const seq = Number(meta[META_SEQ]);
      if (seq !== s.next) fail(`stream ${id}: expected frame ${s.next}, got ${seq}`);
      s.next++;
      if (kind === "chunk") {
        s.tokens.push(body);
        continue;
      }
      const draft = s.tokens.join("");
      emit("stream", { from, tokens: s.tokens.length, sha256: sha256(draft) });
      const review = `Read all ${s.tokens.length} tokens through the official bindings. Suggest saying who holds the group keys.`;
      await publish(JSON.stringify({ review, tokens: s.tokens.length, sha256: sha256(draft) }), REVIEW_TYPE);
      continue;
    }

    if (ctx.payloadType !== VOTE_TYPE) continue; // announcements, reviews, chat
    const m = JSON.parse(body);
    if (m.type === "open") {
      proposal = m.proposal;
      const voter = proposal.voters.find((v) => v.startsWith(`${me}/`));
      if (voter === undefined) fail("not among the voters");
      const selection = [proposal.choices.includes(choice) ? choice : proposal.choices[0]];
      const ballot = { proposalId: proposal.id, voter, selection };
      seenBallots.set(voter, selection);
      await publish(JSON.stringify({ v: 1, type: "ballot", proposalId: proposal.id, ballot }), VOTE_TYPE);
      emit("ballot", { voter, selection, question: proposal.question });
    } else if (m.type === "ballot" && proposal !== undefined && m.proposalId === proposal.id) {
      // the sender must be the voter it claims to be (service part; the id is the moderator's to check)
      if (m.ballot.voter.startsWith(`${from}/`)) seenBallots.set(m.ballot.voter, m.ballot.selection);
    } else if (m.type === "result" && proposal !== undefined && m.proposalId === proposal.id) {
      if (from !== moderator) fail(`a result from ${from}, not the moderator`);
      const mine = recount(proposal, m.ballots);
      const r = m.result;
      const problems = [];
      if (mine.digest !== r.digest) problems.push("digest");
      if (mine.status !== r.status) problems.push("status");
      if (mine.winner !== r.winner) problems.push("winner");
      if (JSON.stringify(mine.scores) !== JSON.stringify(r.scores)) problems.push("scores");
      for (const [voter, sel] of seenBallots) {
        const counted = m.ballots.find((b) => b.voter === voter);
        if (counted !== undefined && JSON.stringify(counted.selection) !== JSON.stringify(sel)) problems.push(`ballot of ${voter} altered`);
      }
      const ownCounted = m.ballots.some((b) => b.voter.startsWith(`${me}/`));
      if (!ownCounted) problems.push("own ballot missing");
      if (problems.length > 0) fail(`vote result rejected: ${problems.join(", ")}`);
      verified = true;
      emit("verified", { digest: mine.digest, status: mine.status, winner: mine.winner, scores: mine.scores, ballotsSeen: seenBallots.size });
    }
  }
}

process.stdin.on("end", () => process.exit(0)); // the parent went away
process.stdin.resume();
main().then(
  () => setTimeout(() => process.exit(0), 50),
  (e) => fail(text(e)),
);
