// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Proposals and the pure tally: per-strategy results, tie-breaks, quorum, the
// ballot digest, and when the outcome is settled early.

import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isSlimError } from "../../src/errors.js";
import { createProposal } from "../../src/voting/proposal.js";
import { ballotDigest, outcomeSettled, resultDifferences, tally } from "../../src/voting/tally.js";
import { T0, VOTERS, ballot, proposal } from "./fixtures.js";

const [alice, bob, carol, dave, erin] = VOTERS;

function invalid(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isSlimError(err, "INVALID_ARGUMENT")).toBe(true);
    return (err as Error).message;
  }
  throw new Error("expected INVALID_ARGUMENT");
}

describe("createProposal", () => {
  it("fixes the deadline, snapshots distinct voters and defaults quorum to a majority of them", () => {
    const p = createProposal({ question: "q", choices: ["x", "y"], strategy: "majority", voters: [alice, bob, alice, carol, dave], durationMs: 500 }, T0);
    expect(p.voters).toEqual([alice, bob, carol, dave]);
    expect(p.deadline).toBe(T0 + 500);
    expect(p.quorum).toBe(3);
    expect(p.tieBreak).toBe("first-listed");
    expect(p.earlyClose).toBe(true);
    expect(p.commitReveal).toBeUndefined();
    expect(p.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("turns a quorum fraction into a count, rounding up", () => {
    expect(proposal({ quorum: { fraction: 0.5 } }).quorum).toBe(3); // 2.5 of 5
    expect(proposal({ quorum: { fraction: 1 } }).quorum).toBe(5);
    expect(proposal({ commitReveal: true }).commitReveal).toEqual({ revealWindowMs: 10_000 });
  });

  it("refuses inconsistent proposals with readable reasons", () => {
    expect(invalid(() => proposal({ durationMs: 10 }))).toMatch(/exactly one of `deadline` or `durationMs`/);
    expect(invalid(() => proposal({ deadline: T0 }))).toMatch(/not after now/);
    expect(invalid(() => proposal({ quorum: 6 }))).toMatch(/quorum 6 is more than the 5 voters/);
    expect(invalid(() => proposal({ choices: ["a", "a"] }))).toMatch(/choices must be distinct/);
    expect(invalid(() => proposal({ choices: ["a"] }))).toMatch(/choices/);
    expect(invalid(() => proposal({ weights: { [alice]: 2 } }))).toMatch(/weights only apply to the weighted strategy/);
    expect(invalid(() => proposal({ strategy: "weighted", weights: { "org/ns/mallory": 2 } }))).toMatch(/org\/ns\/mallory is not a voter/);
    expect(invalid(() => proposal({ strategy: "weighted", weights: { [alice]: -1 } }))).toMatch(/weights/);
    expect(invalid(() => proposal({ strategy: "coin-toss" as never }))).toMatch(/strategy/);
  });
});

describe("tally per strategy", () => {
  it("plurality: most votes wins; scores, ranking and participation are reported", () => {
    const p = proposal({ quorum: 3 });
    const r = tally(p, [ballot(p, alice, "b"), ballot(p, bob, "c"), ballot(p, carol, "b")]);
    expect(r).toMatchObject({
      status: "decided",
      winner: "b",
      tied: [],
      ranking: ["b", "c", "a"],
      scores: { a: 0, b: 2, c: 1 },
      turnout: 3,
      quorum: 3,
      voted: [alice, bob, carol],
      missing: [dave, erin],
    });
  });

  it("majority: needs more than half the ballots cast", () => {
    const p = proposal({ strategy: "majority" });
    expect(tally(p, [ballot(p, alice, "a"), ballot(p, bob, "a"), ballot(p, carol, "b")])).toMatchObject({ status: "decided", winner: "a" });
    const split = tally(p, [ballot(p, alice, "a"), ballot(p, bob, "a"), ballot(p, carol, "b"), ballot(p, dave, "c")]);
    expect(split).toMatchObject({ status: "no-majority", winner: null, scores: { a: 2, b: 1, c: 1 } });
  });

  it("weighted: weights can overturn the head count; unnamed voters weigh 1", () => {
    const p = proposal({ strategy: "weighted", weights: { [alice]: 2.5 } });
    const r = tally(p, [ballot(p, alice, "a"), ballot(p, bob, "b"), ballot(p, carol, "b")]);
    expect(r).toMatchObject({ status: "decided", winner: "a", scores: { a: 2.5, b: 2, c: 0 } });
  });

  it("approval: each approved choice scores one", () => {
    const p = proposal({ strategy: "approval" });
    const r = tally(p, [ballot(p, alice, "a", "b"), ballot(p, bob, "b", "c"), ballot(p, carol, "c", "b", "a")]);
    expect(r).toMatchObject({ winner: "b", scores: { a: 2, b: 3, c: 2 }, ranking: ["b", "a", "c"] });
  });

  it("ranked: Borda count, unranked choices score nothing", () => {
    const p = proposal({ strategy: "ranked", choices: ["a", "b", "c", "d"] });
    // 4 choices: places earn 3, 2, 1, 0
    const r = tally(p, [ballot(p, alice, "a", "b", "c", "d"), ballot(p, bob, "b", "c"), ballot(p, carol, "c", "b", "a")]);
    expect(r.scores).toEqual({ a: 3 + 1, b: 2 + 3 + 2, c: 1 + 2 + 3, d: 0 });
    expect(r).toMatchObject({ winner: "b", ranking: ["b", "c", "a", "d"] });
  });
});

describe("ties, quorum and invalid ballot lists", () => {
  it("first-listed: the earlier choice wins a tie and the tie is reported", () => {
    const p = proposal({ choices: ["c", "b", "a"] });
    const r = tally(p, [ballot(p, alice, "a"), ballot(p, bob, "b")]);
    expect(r).toMatchObject({ status: "decided", winner: "b", tied: ["b", "a"], ranking: ["b", "a", "c"] });
  });

  it("none: a tie has no winner", () => {
    const p = proposal({ tieBreak: "none" });
    expect(tally(p, [ballot(p, alice, "a"), ballot(p, bob, "b")])).toMatchObject({ status: "tie", winner: null, tied: ["a", "b"] });
    expect(tally(p, [ballot(p, alice, "a")])).toMatchObject({ status: "decided", winner: "a" });
  });

  it("seeded: orders tied choices by SHA-256 of proposal id and choice, the same on every run", () => {
    const key = (id: string, c: string) => createHash("sha256").update(`${id}\u0000${c}`).digest("hex");
    for (const id of ["p1", "p2", "p3", "p4"]) {
      const p = proposal({ id, tieBreak: "seeded" });
      const r = tally(p, [ballot(p, alice, "a"), ballot(p, bob, "b"), ballot(p, carol, "c")]);
      const expected = ["a", "b", "c"].sort((x, y) => (key(id, x) < key(id, y) ? -1 : 1));
      expect(r.ranking).toEqual(expected);
      expect(r.winner).toBe(expected[0]);
    }
  });

  it("reports no-quorum below the quorum, still with scores", () => {
    const p = proposal({ quorum: 3 });
    expect(tally(p, [ballot(p, alice, "a"), ballot(p, bob, "a")])).toMatchObject({ status: "no-quorum", winner: null, scores: { a: 2 } });
    expect(tally(p, [])).toMatchObject({ status: "no-quorum", turnout: 0, missing: [...VOTERS] });
  });

  it("refuses ballot lists no tallier could have accepted", () => {
    const p = proposal();
    expect(invalid(() => tally(p, [ballot(p, "org/ns/mallory", "a")]))).toMatch(/org\/ns\/mallory is not a voter/);
    expect(invalid(() => tally(p, [ballot(p, alice, "a"), ballot(p, alice, "b")]))).toMatch(/more than one ballot/);
    expect(invalid(() => tally(p, [ballot(p, alice, "z")]))).toMatch(/"z" is not one of the choices/);
    expect(invalid(() => tally(p, [ballot(p, alice, "a", "b")]))).toMatch(/exactly one choice/);
    expect(invalid(() => tally(p, [{ ...ballot(p, alice, "a"), proposalId: "other" }]))).toMatch(/for proposal other/);
  });
});

describe("ballot digest", () => {
  it("is SHA-256 over the documented canonical JSON, independent of order", () => {
    const p = proposal({ strategy: "approval" });
    const ballots = [ballot(p, carol, "c", "a"), ballot(p, alice, "b")];
    const text = JSON.stringify(["slim-vote-ballots/v1", "p1", [[alice, ["b"]], [carol, ["a", "c"]]]]);
    const expected = createHash("sha256").update(text).digest("hex");
    expect(ballotDigest(p, ballots)).toBe(expected);
    expect(ballotDigest(p, [ballot(p, alice, "b"), ballot(p, carol, "a", "c")])).toBe(expected);
    expect(tally(p, ballots).digest).toBe(expected);
  });

  it("changes when any ballot changes; ranking order matters", () => {
    const p = proposal({ strategy: "ranked" });
    const d = ballotDigest(p, [ballot(p, alice, "a", "b")]);
    expect(ballotDigest(p, [ballot(p, alice, "b", "a")])).not.toBe(d);
    expect(ballotDigest(p, [ballot(p, bob, "a", "b")])).not.toBe(d);
    expect(ballotDigest(proposal({ id: "p2", strategy: "ranked" }), [{ ...ballot(p, alice, "a", "b"), proposalId: "p2" }])).not.toBe(d);
  });

  it("resultDifferences names the fields a tampered result changed", () => {
    const p = proposal();
    const honest = tally(p, [ballot(p, alice, "a"), ballot(p, bob, "b"), ballot(p, carol, "b")]);
    expect(resultDifferences(honest, structuredClone(honest))).toEqual([]);
    expect(resultDifferences(honest, { ...honest, winner: "a" })).toEqual(["winner"]);
    expect(resultDifferences(honest, { ...honest, scores: { a: 1, b: 1, c: 1 } })).toEqual(["scores"]);
    // key order in scores is not a difference
    expect(resultDifferences(honest, { ...honest, scores: { c: 0, b: 2, a: 1 } })).toEqual([]);
  });
});

describe("outcomeSettled", () => {
  it("plurality: settled once no rival can catch up with the remaining voters", () => {
    const p = proposal();
    const three = [ballot(p, alice, "a"), ballot(p, bob, "a"), ballot(p, carol, "a")];
    expect(outcomeSettled(p, three, [dave, erin])).toBe(true); // 3 vs at most 2
    expect(outcomeSettled(p, three.slice(0, 2), [carol, dave, erin])).toBe(false);
    // a possible tie is not settled, whatever the tie-break would say
    expect(outcomeSettled(p, [...three.slice(0, 2), ballot(p, carol, "b")], [dave])).toBe(false); // b could draw level
    expect(outcomeSettled(p, [...three, ballot(p, dave, "b")], [erin])).toBe(true);
  });

  it("respects earlyClose, quorum and the strategy's swing", () => {
    const p = proposal({ earlyClose: false });
    const three = [ballot(p, alice, "a"), ballot(p, bob, "a"), ballot(p, carol, "a")];
    expect(outcomeSettled(p, three, [dave, erin])).toBe(false);
    expect(outcomeSettled(p, [...three, ballot(p, dave, "b"), ballot(p, erin, "b")], [])).toBe(true);

    const q = proposal({ quorum: 4 });
    expect(outcomeSettled(q, three, [dave, erin])).toBe(false); // the lead is safe but quorum is not reached

    const ranked = proposal({ strategy: "ranked" });
    const r3 = [ballot(ranked, alice, "a"), ballot(ranked, bob, "a"), ballot(ranked, carol, "a")]; // a: 6
    expect(outcomeSettled(ranked, r3, [dave, erin])).toBe(true); // b can reach 4
    expect(outcomeSettled(ranked, r3.slice(0, 2), [carol, dave, erin])).toBe(false);

    const w = proposal({ strategy: "weighted", weights: { [erin]: 10 } });
    expect(outcomeSettled(w, [ballot(w, alice, "a"), ballot(w, bob, "a"), ballot(w, carol, "a")], [dave, erin])).toBe(false);
  });

  it("majority: settled once the leader holds more than half of every possible turnout", () => {
    const p = proposal({ strategy: "majority" });
    expect(outcomeSettled(p, [ballot(p, alice, "a"), ballot(p, bob, "a"), ballot(p, carol, "a")], [dave, erin])).toBe(true);
    expect(outcomeSettled(p, [ballot(p, alice, "a"), ballot(p, bob, "a"), ballot(p, carol, "b")], [dave, erin])).toBe(false);
  });
});
