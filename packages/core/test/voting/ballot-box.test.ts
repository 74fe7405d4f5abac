// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The tallier's acceptance rules, one by one, on an explicit clock; then the
// commit–reveal phases.

import { describe, expect, it } from "vitest";
import { BallotBox, commitFor, isBallotRejected, newSalt, type RejectReason } from "../../src/voting/ballot-box.js";
import type { Proposal } from "../../src/voting/proposal.js";
import { T0, VOTERS, ballot, proposal } from "./fixtures.js";

const [alice, bob, carol] = VOTERS;

function box(p: Proposal) {
  const clock = { now: T0 };
  return { box: new BallotBox(p, () => clock.now), clock };
}

function rejected(fn: () => unknown): { reason: RejectReason; message: string } {
  try {
    fn();
  } catch (err) {
    expect(isBallotRejected(err)).toBe(true);
    const e = err as { reason: RejectReason; message: string; code: string };
    expect(e.code).toBe("INVALID_ARGUMENT");
    return { reason: e.reason, message: e.message };
  }
  throw new Error("expected a rejection");
}

describe("BallotBox: plain ballots", () => {
  it("accepts one valid ballot per voter, attributed to its authenticated sender", () => {
    const p = proposal();
    const { box: b } = box(p);
    expect(b.cast(alice, ballot(p, alice, "a"))).toEqual(ballot(p, alice, "a"));
    expect(b.pending()).toEqual(VOTERS.filter((v) => v !== alice));
    expect(rejected(() => b.cast(alice, ballot(p, alice, "b")))).toMatchObject({ reason: "duplicate" });
    expect(b.ballots()).toEqual([ballot(p, alice, "a")]); // the first ballot stands
  });

  it("rejects a ballot whose claimed voter is not the sender", () => {
    const p = proposal();
    const { box: b } = box(p);
    const r = rejected(() => b.cast(bob, ballot(p, alice, "a")));
    expect(r).toMatchObject({ reason: "voter-mismatch" });
    expect(r.message).toContain(`claims to be from ${alice} but was sent by ${bob}`);
    expect(b.ballots()).toEqual([]);
  });

  it("rejects voters outside the snapshot, other proposals and choices not offered", () => {
    const p = proposal({ strategy: "ranked" });
    const { box: b } = box(p);
    expect(rejected(() => b.cast("org/ns/mallory", ballot(p, "org/ns/mallory", "a")))).toMatchObject({ reason: "not-a-voter" });
    expect(rejected(() => b.cast(alice, { ...ballot(p, alice, "a"), proposalId: "p9" }))).toMatchObject({ reason: "wrong-proposal" });
    expect(rejected(() => b.cast(alice, ballot(p, alice, "a", "zz")))).toMatchObject({ reason: "invalid-choice", message: expect.stringContaining('"zz" is not one of the choices') });
    expect(rejected(() => b.cast(alice, ballot(p, alice, "a", "a")))).toMatchObject({ reason: "invalid-choice", message: expect.stringContaining("more than once") });
    expect(b.cast(alice, ballot(p, alice, "c", "a"))).toBeDefined(); // a rejected ballot does not use up the vote
  });

  it("rejects a single-choice strategy ballot with several choices", () => {
    const p = proposal({ strategy: "majority" });
    expect(rejected(() => box(p).box.cast(alice, ballot(p, alice, "a", "b")))).toMatchObject({ reason: "invalid-choice", message: expect.stringContaining("exactly one choice, got 2") });
  });

  it("rejects malformed input with zod's readable report", () => {
    const p = proposal();
    const { box: b } = box(p);
    const r = rejected(() => b.cast(alice, { proposalId: p.id, voter: alice, selection: [], extra: 1 }));
    expect(r.reason).toBe("malformed");
    expect(r.message).toMatch(/invalid ballot/);
    expect(r.message).toMatch(/selection/);
    expect(r.message).toMatch(/extra/);
    expect(rejected(() => b.cast(alice, "a")).reason).toBe("malformed");
  });

  it("takes a ballot at the deadline and rejects one after it", () => {
    const p = proposal();
    const { box: b, clock } = box(p);
    clock.now = p.deadline;
    b.cast(alice, ballot(p, alice, "a"));
    clock.now = p.deadline + 1;
    expect(rejected(() => b.cast(bob, ballot(p, bob, "a")))).toMatchObject({ reason: "late", message: expect.stringContaining("1 ms after the deadline") });
    b.close();
    expect(rejected(() => b.cast(carol, ballot(p, carol, "a"))).reason).toBe("late");
  });
});

describe("BallotBox: commit–reveal", () => {
  const blind = () => proposal({ commitReveal: { revealWindowMs: 500 } });

  it("takes commits, then reveals that open them, and nothing out of phase", () => {
    const p = blind();
    const { box: b, clock } = box(p);
    const mine = ballot(p, alice, "b");
    const salt = newSalt();
    expect(rejected(() => b.cast(alice, mine)).reason).toBe("wrong-phase");
    b.commit(alice, { proposalId: p.id, voter: alice, commit: commitFor(mine, salt) });
    expect(rejected(() => b.reveal(alice, { ballot: mine, salt })).reason).toBe("wrong-phase");
    expect(rejected(() => b.commit(alice, { proposalId: p.id, voter: alice, commit: "0".repeat(64) })).reason).toBe("duplicate");
    expect(b.pending()).not.toContain(alice);

    clock.now = T0 + 100;
    const { commits, revealDeadline } = b.closeCommits();
    expect(commits).toEqual([{ proposalId: p.id, voter: alice, commit: commitFor(mine, salt) }]);
    expect(revealDeadline).toBe(T0 + 600);
    expect(b.pending()).toEqual([alice]); // only committed voters can still count
    expect(rejected(() => b.commit(bob, { proposalId: p.id, voter: bob, commit: "1".repeat(64) })).reason).toBe("late");
    expect(rejected(() => b.reveal(bob, { ballot: ballot(p, bob, "a"), salt })).reason).toBe("wrong-phase"); // never committed

    expect(b.reveal(alice, { ballot: mine, salt })).toEqual({ ...mine, salt });
    expect(b.ballots()).toEqual([{ ...mine, salt }]);
    expect(b.pending()).toEqual([]);
  });

  it("rejects a reveal that does not match its commit (other choice or other salt)", () => {
    const p = blind();
    const { box: b } = box(p);
    const mine = ballot(p, alice, "b");
    const salt = newSalt();
    b.commit(alice, { proposalId: p.id, voter: alice, commit: commitFor(mine, salt) });
    b.closeCommits();
    expect(rejected(() => b.reveal(alice, { ballot: ballot(p, alice, "a"), salt })).reason).toBe("commit-mismatch");
    expect(rejected(() => b.reveal(alice, { ballot: mine, salt: newSalt() })).reason).toBe("commit-mismatch");
    expect(rejected(() => b.reveal(alice, { ballot: mine, salt: "short" })).reason).toBe("malformed");
    expect(b.ballots()).toEqual([]);
  });

  it("rejects reveals after the reveal deadline", () => {
    const p = blind();
    const { box: b, clock } = box(p);
    const mine = ballot(p, alice, "b");
    const salt = newSalt();
    b.commit(alice, { proposalId: p.id, voter: alice, commit: commitFor(mine, salt) });
    b.closeCommits();
    clock.now = T0 + 501;
    expect(rejected(() => b.reveal(alice, { ballot: mine, salt })).reason).toBe("late");
  });

  it("commits bind the ballot: the hash depends on every field and on the salt", () => {
    const p = blind();
    const salt = newSalt();
    const c = commitFor(ballot(p, alice, "a"), salt);
    expect(c).toMatch(/^[0-9a-f]{64}$/);
    expect(commitFor(ballot(p, alice, "a"), salt)).toBe(c);
    expect(commitFor(ballot(p, bob, "a"), salt)).not.toBe(c);
    expect(commitFor(ballot(p, alice, "b"), salt)).not.toBe(c);
    expect(commitFor(ballot(p, alice, "a"), newSalt())).not.toBe(c);
  });
});
