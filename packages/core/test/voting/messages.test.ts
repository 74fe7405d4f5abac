// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The versioned JSON encoding of vote messages.

import { describe, expect, it } from "vitest";
import { MAX_VOTE_MESSAGE_BYTES, decodeVoteMessage, encodeVoteMessage, type VoteMessage } from "../../src/voting/messages.js";
import { ballot, proposal } from "./fixtures.js";

const enc = new TextEncoder();
const raw = (v: unknown) => enc.encode(JSON.stringify(v));

function failure(payload: Uint8Array) {
  const d = decodeVoteMessage(payload);
  if (d.ok) throw new Error("expected a decode failure");
  expect(d.error.code).toBe("INVALID_ARGUMENT");
  return d;
}

describe("vote message encoding", () => {
  it("round-trips every message type", () => {
    const p = proposal({ commitReveal: true });
    const messages: VoteMessage[] = [
      { v: 1, type: "open", proposalId: p.id, proposal: p },
      { v: 1, type: "ballot", proposalId: p.id, ballot: ballot(p, "org/ns/alice", "a") },
      { v: 1, type: "commit", proposalId: p.id, commit: { proposalId: p.id, voter: "org/ns/alice", commit: "ab".repeat(32) } },
      { v: 1, type: "commits", proposalId: p.id, commits: [], revealDeadline: p.deadline + 5 },
      { v: 1, type: "reveal", proposalId: p.id, reveal: { ballot: ballot(p, "org/ns/alice", "a"), salt: "A".repeat(43) } },
    ];
    for (const m of messages) expect(decodeVoteMessage(encodeVoteMessage(m))).toEqual({ ok: true, message: m });
  });

  it("refuses other versions, unknown types and oversized payloads", () => {
    expect(failure(raw({ v: 2, type: "ballot", proposalId: "p1" })).error.message).toMatch(/v/);
    expect(failure(raw({ v: 1, type: "gossip", proposalId: "p1" })).proposalId).toBe("p1");
    expect(failure(enc.encode("{not json")).error.message).toMatch(/not UTF-8 JSON/);
    expect(failure(new Uint8Array(MAX_VOTE_MESSAGE_BYTES + 1)).error.message).toMatch(/bytes, more than/);
  });

  it("charges a malformed body to the vote its envelope names", () => {
    const d = failure(raw({ v: 1, type: "ballot", proposalId: "p1", ballot: { proposalId: "p1", voter: "x", selection: "a" } }));
    expect(d.proposalId).toBe("p1");
    expect(d.error.message).toMatch(/selection/);
  });

  it("refuses a body for another proposal than the envelope", () => {
    const p = proposal();
    const d = failure(encodeVoteMessage({ v: 1, type: "ballot", proposalId: "p2", ballot: ballot(p, "org/ns/alice", "a") }));
    expect(d.error.message).toMatch(/body is for proposal p1, envelope for p2/);
  });
});
