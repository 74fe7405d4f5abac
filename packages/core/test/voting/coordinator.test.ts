// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Moderator and participants over an in-memory broadcast bus with fake timers:
// early close, deadline, quorum, result verification (and what tampering it
// catches), commit–reveal, and abort/timeout handling.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { isSlimError } from "../../src/errors.js";
import { commitFor, newSalt } from "../../src/voting/ballot-box.js";
import { decodeVoteMessage, encodeVoteMessage, type VoteMessage } from "../../src/voting/messages.js";
import { VoteModerator, type VoteProgress } from "../../src/voting/moderator.js";
import type { InboundVoteMessage, VoteSend } from "../../src/voting/outcome.js";
import { VoteParticipant, type VoteInvitation } from "../../src/voting/participant.js";
import type { Proposal, ProposalInput } from "../../src/voting/proposal.js";
import { tally } from "../../src/voting/tally.js";
import { T0 } from "./fixtures.js";

const MOD = "org/ns/moderator";
const alice = "org/ns/alice";
const bob = "org/ns/bob";
const carol = "org/ns/carol";
const dave = "org/ns/dave";
const erin = "org/ns/erin";

/** Broadcast to every other member, one microtask later; `tamper` may rewrite or drop a message in flight. */
class Bus {
  private readonly members = new Map<string, (m: InboundVoteMessage) => void>();
  readonly log: Array<{ from: string; message: VoteMessage }> = [];
  tamper: ((from: string, m: VoteMessage) => VoteMessage | undefined) | undefined;

  join(name: string, receive: (m: InboundVoteMessage) => void): void {
    this.members.set(name, receive);
  }

  sender(from: string): VoteSend {
    return async (payload) => {
      await Promise.resolve();
      const d = decodeVoteMessage(payload);
      let out = payload;
      if (d.ok) {
        const m = this.tamper?.(from, d.message) ?? d.message;
        this.log.push({ from, message: m });
        out = encodeVoteMessage(m);
      }
      for (const [name, receive] of this.members) if (name !== from) receive({ sender: from, payload: out });
    };
  }

  /** Send raw bytes as `from` (a misbehaving member). */
  raw(from: string, message: unknown): Promise<void> {
    return this.sender(from)(new TextEncoder().encode(JSON.stringify(message)), { signal: new AbortController().signal });
  }
}

function setup(voters: string[]) {
  const bus = new Bus();
  const mod = new VoteModerator({ self: MOD, send: bus.sender(MOD) });
  bus.join(MOD, (m) => mod.receive(m));
  const members = new Map<string, { p: VoteParticipant; next: () => Promise<VoteInvitation> }>();
  for (const name of voters) {
    const p = new VoteParticipant({ self: name, send: bus.sender(name), trust: (s) => s === MOD });
    bus.join(name, (m) => p.receive(m));
    const it = p.invitations()[Symbol.asyncIterator]();
    members.set(name, { p, next: () => it.next().then((r) => r.value as VoteInvitation) });
  }
  const open = async (over: Partial<ProposalInput> = {}) => {
    const round = await mod.open({ id: "v1", question: "ship it?", choices: ["a", "b", "c"], strategy: "plurality", voters, durationMs: 10_000, ...over });
    const invites = new Map<string, VoteInvitation>();
    for (const [name, m] of members) invites.set(name, await m.next());
    return { round, invites };
  };
  return { bus, mod, members, open };
}

const flush = () => vi.advanceTimersByTimeAsync(0);

async function rejection(p: Promise<unknown>): Promise<Error & { code: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code: string };
  }
  throw new Error("expected a rejection");
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("moderated vote", () => {
  it("closes as soon as everyone voted; every member verifies the same result", async () => {
    const { open } = setup([alice, bob, carol]);
    const { round, invites } = await open({ earlyClose: false });
    const events: VoteProgress[] = [];
    const watching = (async () => {
      for await (const e of round.progress()) events.push(e);
    })();
    await invites.get(alice)!.cast(["a"]);
    await invites.get(bob)!.cast(["b"]);
    await invites.get(carol)!.cast(["a"]);
    await flush();
    const outcome = await round.result();
    expect(outcome.result).toMatchObject({ status: "decided", winner: "a", scores: { a: 2, b: 1, c: 0 }, voted: [alice, bob, carol], missing: [] });
    expect(outcome.closedEarly).toBe(true);
    expect(outcome.closedAt).toBe(T0);
    for (const inv of invites.values()) {
      const verified = await inv.result();
      expect(verified.result).toEqual(outcome.result);
      expect(verified).toMatchObject({ moderator: MOD, unconfirmed: [] });
    }
    await watching;
    expect(events.map((e) => e.type)).toEqual(["accepted", "accepted", "accepted", "closed"]);
  });

  it("closes early once the leader cannot be caught, and later ballots are refused locally", async () => {
    const { open } = setup([alice, bob, carol, dave, erin]);
    const { round, invites } = await open();
    for (const v of [alice, bob, carol]) await invites.get(v)!.cast(["b"]);
    await flush();
    const outcome = await round.result();
    expect(outcome.result).toMatchObject({ status: "decided", winner: "b", turnout: 3, missing: [dave, erin] });
    expect(outcome.closedEarly).toBe(true);
    const late = await rejection(invites.get(dave)!.cast(["a"]));
    expect(late.message).toMatch(/closed/);
  });

  it("closes at the deadline and lists ballots that arrived after it", async () => {
    const clock = { now: T0 };
    const bus = new Bus();
    const mod = new VoteModerator({ self: MOD, send: bus.sender(MOD), now: () => clock.now });
    bus.join(MOD, (m) => mod.receive(m));
    const round = await mod.open({ id: "v1", question: "q", choices: ["a", "b"], strategy: "plurality", voters: [alice, bob, carol], quorum: 2, durationMs: 1_000 });
    await bus.raw(alice, { v: 1, type: "ballot", proposalId: "v1", ballot: { proposalId: "v1", voter: alice, selection: ["b"] } });
    await bus.raw(bob, { v: 1, type: "ballot", proposalId: "v1", ballot: { proposalId: "v1", voter: bob, selection: ["a"] } });
    clock.now = T0 + 1_001; // the moderator's clock is past the deadline before its timer fired
    await bus.raw(carol, { v: 1, type: "ballot", proposalId: "v1", ballot: { proposalId: "v1", voter: carol, selection: ["b"] } });
    await vi.advanceTimersByTimeAsync(999);
    expect(bus.log.some((l) => l.message.type === "result")).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const outcome = await round.result();
    // a tie between a and b: first-listed gives it to a
    expect(outcome.result).toMatchObject({ status: "decided", winner: "a", tied: ["a", "b"], turnout: 2, missing: [carol] });
    expect(outcome.closedEarly).toBe(false);
    expect(outcome.rejected).toEqual([{ sender: carol, reason: "late", detail: expect.stringMatching(/1 ms after the deadline/) }]);
  });

  it("reports no-quorum when too few voted by the deadline", async () => {
    const { open } = setup([alice, bob, carol, dave]);
    const { round, invites } = await open({ quorum: 3 });
    await invites.get(alice)!.cast(["a"]);
    await invites.get(bob)!.cast(["a"]);
    await vi.advanceTimersByTimeAsync(10_000);
    const outcome = await round.result();
    expect(outcome.result).toMatchObject({ status: "no-quorum", winner: null, turnout: 2, quorum: 3 });
    expect((await invites.get(carol)!.result()).result.status).toBe("no-quorum");
  });

  it("closeNow() publishes at once with the ballots taken so far", async () => {
    const { open } = setup([alice, bob, carol]);
    const { round, invites } = await open({ quorum: 1, earlyClose: false });
    await invites.get(alice)!.cast(["c"]);
    await flush();
    round.closeNow();
    await flush();
    const outcome = await round.result();
    expect(outcome).toMatchObject({ closedEarly: true, closedAt: T0, result: { winner: "c", turnout: 1, missing: [bob, carol] } });
    expect((await invites.get(bob)!.result()).result).toEqual(outcome.result);
  });

  it("rejects spoofed, foreign and malformed ballots, and counts its own", async () => {
    const { bus, open } = setup([alice, bob]);
    const { round, invites } = await open({ voters: [alice, bob, MOD], earlyClose: false });
    await bus.raw("org/ns/mallory", { v: 1, type: "ballot", proposalId: "v1", ballot: { proposalId: "v1", voter: alice, selection: ["c"] } });
    await bus.raw("org/ns/mallory", { v: 1, type: "ballot", proposalId: "v1", ballot: { proposalId: "v1", voter: "org/ns/mallory", selection: ["c"] } });
    await bus.raw(bob, { v: 1, type: "ballot", proposalId: "v1", ballot: { proposalId: "v1", voter: bob } });
    await bus.raw(bob, { v: 1, type: "ballot", proposalId: "v1", ballot: { proposalId: "v1", voter: bob, selection: ["nope"] } });
    await invites.get(alice)!.cast(["b"]);
    await invites.get(bob)!.cast(["c"]); // members saw bob's invalid ballot first: only this one may count
    await round.cast(["c"]);
    await flush();
    const outcome = await round.result();
    expect(outcome.rejected.map((r) => [r.sender, r.reason])).toEqual([
      ["org/ns/mallory", "voter-mismatch"],
      ["org/ns/mallory", "not-a-voter"],
      [bob, "malformed"],
      [bob, "invalid-choice"],
    ]);
    expect(outcome.result).toMatchObject({ winner: "c", scores: { a: 0, b: 1, c: 2 }, voted: [alice, bob, MOD] });
    expect((await invites.get(alice)!.result()).result).toEqual(outcome.result);
  });
});

describe("result verification", () => {
  async function tamperedRun(tamper: (m: Extract<VoteMessage, { type: "result" }>, p: Proposal) => VoteMessage) {
    const { bus, open } = setup([alice, bob, carol]);
    const { round, invites } = await open();
    bus.tamper = (_from, m) => (m.type === "result" ? tamper(m, round.proposal) : m);
    await invites.get(alice)!.cast(["a"]);
    await invites.get(bob)!.cast(["b"]);
    await invites.get(carol)!.cast(["b"]);
    await flush();
    await round.result();
    return invites;
  }

  it("detects a published result that the ballots do not support", async () => {
    const invites = await tamperedRun((m) => ({ ...m, result: { ...m.result, winner: "a", ranking: ["a", "b", "c"] } }));
    const err = await rejection(invites.get(alice)!.result());
    expect(isSlimError(err, "INTEGRITY")).toBe(true);
    expect(err.message).toMatch(/recount differs in winner, ranking/);
  });

  it("detects a ballot list that no longer matches the digest", async () => {
    const invites = await tamperedRun((m) => ({ ...m, ballots: m.ballots.filter((b) => b.voter !== bob) }));
    const err = await rejection(invites.get(carol)!.result());
    expect(err.code).toBe("INTEGRITY");
    expect(err.message).toMatch(/scores.*turnout.*voted.*missing.*digest/);
  });

  it("detects an altered ballot even when the moderator recounted consistently", async () => {
    const invites = await tamperedRun((m, p) => {
      const ballots = m.ballots.map((b) => (b.voter === bob ? { ...b, selection: ["a"] } : b));
      return { ...m, ballots, result: tally(p, ballots) };
    });
    const err = await rejection(invites.get(alice)!.result());
    expect(err.code).toBe("INTEGRITY");
    expect(err.message).toMatch(/the ballot of org\/ns\/bob was altered/);
  });

  it("reports ballots it saw but the moderator left out, without failing", async () => {
    const invites = await tamperedRun((m, p) => {
      const ballots = m.ballots.filter((b) => b.voter !== carol);
      return { ...m, ballots, result: tally(p, ballots) };
    });
    const verified = await invites.get(alice)!.result();
    expect(verified.unconfirmed).toEqual([carol]);
    expect(verified.result.voted).toEqual([alice, bob]);
  });

  it("ignores results from anyone but the moderator who opened the vote", async () => {
    const { bus, open } = setup([alice, bob]);
    const { round, invites } = await open();
    await invites.get(alice)!.cast(["a"]);
    const p = invites.get(alice)!.proposal;
    const fake = tally(p, []);
    await bus.raw("org/ns/mallory", { v: 1, type: "result", proposalId: "v1", result: fake, ballots: [], rejected: [], closedAt: T0, closedEarly: true });
    await invites.get(bob)!.cast(["a"]);
    await flush();
    await round.result();
    expect((await invites.get(bob)!.result()).result.winner).toBe("a");
  });
});

describe("commit–reveal", () => {
  it("hides ballots until every commit is in, reveals them automatically and verifies", async () => {
    const { bus, open } = setup([alice, bob, carol]);
    const { round, invites } = await open({ commitReveal: { revealWindowMs: 1_000 }, earlyClose: false });
    await invites.get(alice)!.cast(["c"]);
    await invites.get(bob)!.cast(["c"]);
    await flush();
    const before = bus.log.map((l) => JSON.stringify(l.message));
    expect(before.every((t) => !t.includes("selection"))).toBe(true); // commits only
    await invites.get(carol)!.cast(["a"]);
    await flush();
    const outcome = await round.result();
    expect(bus.log.map((l) => l.message.type)).toEqual(["open", "commit", "commit", "commit", "commits", "reveal", "reveal", "reveal", "result"]);
    expect(outcome.result).toMatchObject({ status: "decided", winner: "c", turnout: 3 });
    expect(outcome.commits).toHaveLength(3);
    expect(outcome.ballots.every((b) => typeof b.salt === "string")).toBe(true);
    for (const inv of invites.values()) expect((await inv.result()).result).toEqual(outcome.result);
  });

  it("refuses a reveal that does not open the voter's commit", async () => {
    const { bus, open } = setup([alice, carol]);
    const { round, invites } = await open({ voters: [alice, bob, carol], commitReveal: { revealWindowMs: 1_000 }, quorum: 1, earlyClose: false });
    const salt = newSalt();
    const committed = { proposalId: "v1", voter: bob, selection: ["a"] };
    await bus.raw(bob, { v: 1, type: "commit", proposalId: "v1", commit: { proposalId: "v1", voter: bob, commit: commitFor(committed, salt) } });
    await invites.get(alice)!.cast(["b"]);
    await invites.get(carol)!.cast(["b"]);
    await flush(); // all committed: the reveal phase starts, alice and carol reveal
    await bus.raw(bob, { v: 1, type: "reveal", proposalId: "v1", reveal: { ballot: { ...committed, selection: ["c"] }, salt } });
    await vi.advanceTimersByTimeAsync(1_000);
    const outcome = await round.result();
    expect(outcome.rejected).toEqual([{ sender: bob, reason: "commit-mismatch", detail: expect.stringMatching(/does not match its commit/) }]);
    expect(outcome.result).toMatchObject({ winner: "b", voted: [alice, carol], missing: [bob] });
    expect((await invites.get(alice)!.result()).result).toEqual(outcome.result);
  });

  it("closes the reveal phase early once the revealed ballots settle the outcome", async () => {
    const { open } = setup([alice, bob, carol]);
    const { round, invites } = await open({ commitReveal: { revealWindowMs: 5_000 } });
    await invites.get(alice)!.cast(["b"]);
    await invites.get(bob)!.cast(["b"]);
    await invites.get(carol)!.cast(["a"]);
    await flush();
    const outcome = await round.result();
    // two reveals for b already beat whatever carol revealed
    expect(outcome.result).toMatchObject({ winner: "b", scores: { a: 0, b: 2, c: 0 }, missing: [carol] });
    expect(outcome.closedEarly).toBe(true);
    expect(outcome.commits).toHaveLength(3);
    const verified = await invites.get(carol)!.result();
    expect(verified.unconfirmed).toEqual([carol]); // committed, but its reveal came after the close
  });

  it("detects a revealed ballot the moderator changed", async () => {
    const { bus, open } = setup([alice, bob]);
    const { round, invites } = await open({ commitReveal: { revealWindowMs: 1_000 } });
    const p = invites.get(alice)!.proposal;
    bus.tamper = (_f, m) => {
      if (m.type !== "result") return m;
      const ballots = m.ballots.map((b) => (b.voter === bob ? { ...b, selection: ["a"] } : b));
      return { ...m, ballots, result: tally(p, ballots) };
    };
    await invites.get(alice)!.cast(["a"]);
    await invites.get(bob)!.cast(["b"]);
    await flush();
    await round.result();
    const err = await rejection(invites.get(alice)!.result());
    expect(err.code).toBe("INTEGRITY");
    expect(err.message).toMatch(/ballot of org\/ns\/bob does not open its commit/);
  });
});

describe("aborts and timeouts", () => {
  it("bounds result() by signal and timeout, and cancels rounds on close", async () => {
    const { mod, open } = setup([alice, bob]);
    const { round, invites } = await open();
    const ctl = new AbortController();
    const aborted = rejection(invites.get(alice)!.result({ signal: ctl.signal }));
    ctl.abort("bored");
    expect((await aborted).code).toBe("ABORTED");
    const timedOut = rejection(invites.get(alice)!.result({ timeoutMs: 50 }));
    await vi.advanceTimersByTimeAsync(50);
    expect((await timedOut).code).toBe("TIMEOUT");
    mod.close();
    expect((await rejection(round.result())).code).toBe("CLOSED");
  });

  it("fails open() when the send does not complete in time, and a participant gives up after the grace period", async () => {
    const mod = new VoteModerator({ self: MOD, send: () => new Promise(() => {}) });
    const opening = rejection(mod.open({ question: "q", choices: ["a", "b"], strategy: "plurality", voters: [alice], durationMs: 100 }, { timeoutMs: 20 }));
    await vi.advanceTimersByTimeAsync(20);
    expect((await opening).code).toBe("TIMEOUT");

    const s = setup([alice]);
    const { invites } = await s.open({ durationMs: 100 });
    s.mod.close(); // no result will come
    const waiting = rejection(invites.get(alice)!.result());
    await vi.advanceTimersByTimeAsync(100 + 30_000);
    expect((await waiting).code).toBe("TIMEOUT");
  });
});
