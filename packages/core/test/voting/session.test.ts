// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The session adapter: votes over an in-memory stand-in for a group session,
// then over real group sessions on one in-process datapath.

import { afterEach, describe, expect, it } from "vitest";
import { createApp, type SlimApp } from "../../src/app.js";
import { MessageProcessor } from "../../src/datapath/processor.js";
import { Name } from "../../src/names/name.js";
import type { GroupSession } from "../../src/session/group/session.js";
import type { SessionMessage, SessionPublishOptions } from "../../src/session/types.js";
import { AsyncQueue } from "../../src/util/async-queue.js";
import { VOTE_PAYLOAD_TYPE } from "../../src/voting/messages.js";
import { attachVoting, type SessionVoting, type VotingSession } from "../../src/voting/session.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Everyone hears everyone else; names carry instance ids as real members do. */
class Room {
  private readonly inboxes = new Map<string, AsyncQueue<SessionMessage>>();
  private readonly names: Name[] = [];
  private seq = 0;

  join(text: string): { name: Name; session: VotingSession } {
    const name = Name.parse(`${text}/${(this.names.length + 1).toString(16)}`);
    const inbox = new AsyncQueue<SessionMessage>(100);
    this.names.push(name);
    this.inboxes.set(name.toString(), inbox);
    const session: VotingSession = {
      publish: async (data: Uint8Array, options: SessionPublishOptions = {}) => {
        await Promise.resolve();
        for (const [k, q] of this.inboxes) {
          if (k === name.toString()) continue;
          const m = { source: name, payloadType: options.payloadType ?? "msg", metadata: {}, payload: data, messageId: ++this.seq };
          q.push(m as unknown as SessionMessage);
        }
      },
      participants: () => [...this.names],
      [Symbol.asyncIterator]: () => inbox[Symbol.asyncIterator](),
    };
    return { name, session };
  }
}

const attached: SessionVoting[] = [];
const apps: SlimApp[] = [];
let processor: MessageProcessor | undefined;

afterEach(async () => {
  await Promise.all(attached.splice(0).map((v) => v.close()));
  await Promise.all(apps.splice(0).map((a) => a.close()));
  processor?.close();
  processor = undefined;
});

/** Each member casts `pick(question)` on every vote it is invited to. */
function serveVoter(v: SessionVoting, pick: string): Promise<void> {
  return (async () => {
    for await (const inv of v.invitations()) if (inv.eligible) await inv.cast([pick], { timeoutMs: 1_000 });
  })();
}

describe("attachVoting over a session", () => {
  it("runs a vote with the roster as voters and leaves other traffic to messages()", async () => {
    const room = new Room();
    const mod = room.join("org/ns/mod");
    const a = room.join("org/ns/a");
    const b = room.join("org/ns/b");
    const vm = attachVoting(mod.session, { self: mod.name });
    const va = attachVoting(a.session, { self: a.name, moderator: mod.name });
    const vb = attachVoting(b.session, { self: b.name, moderator: mod.name });
    attached.push(vm, va, vb);
    void serveVoter(va, "yes");
    void serveVoter(vb, "no");

    await a.session.publish(enc.encode("hello"));
    const round = await vm.open({ question: "merge?", choices: ["yes", "no"], strategy: "plurality", durationMs: 2_000, quorum: 2 });
    expect(round.proposal.voters).toEqual([a.name.toString(), b.name.toString()]);
    const outcome = await round.result({ timeoutMs: 1_000 });
    // one vote each: a tie, given to the first-listed choice
    expect(outcome.result).toMatchObject({ status: "decided", winner: "yes", tied: ["yes", "no"], turnout: 2 });
    expect(outcome.closedEarly).toBe(true);

    const plain = await vm.messages()[Symbol.asyncIterator]().next();
    expect(plain.done).toBe(false);
    expect(dec.decode(plain.value!.payload)).toBe("hello");
  });

  it("verifies the result on each member and ignores votes opened by others than the moderator", async () => {
    const room = new Room();
    const mod = room.join("org/ns/mod");
    const a = room.join("org/ns/a");
    const b = room.join("org/ns/b");
    const vm = attachVoting(mod.session, { self: mod.name });
    const va = attachVoting(a.session, { self: a.name, moderator: mod.name });
    const vb = attachVoting(b.session, { self: b.name, moderator: mod.name });
    attached.push(vm, va, vb);
    const invitesB = vb.invitations()[Symbol.asyncIterator]();

    // a is not the moderator: b must not take its vote
    await va.open({ id: "rogue", question: "q", choices: ["x", "y"], strategy: "plurality", voters: [b.name.toString()], durationMs: 1_000 });
    const round = await vm.open({ id: "real", question: "q", choices: ["x", "y"], strategy: "majority", durationMs: 1_000 });
    const inv = (await invitesB.next()).value!;
    expect(inv.proposal.id).toBe("real");
    expect(inv.moderator).toBe(mod.name.toString());
    await inv.cast(["y"]);
    const invA = (await va.invitations()[Symbol.asyncIterator]().next()).value!;
    await invA.cast(["y"]);
    const verified = await inv.result({ timeoutMs: 1_000 });
    expect(verified.result).toEqual((await round.result()).result);
    expect(verified.result.winner).toBe("y");
  });

  it("close() stops reading, cancels open votes and ends messages()", async () => {
    const room = new Room();
    const mod = room.join("org/ns/mod");
    room.join("org/ns/a");
    const vm = attachVoting(mod.session, { self: mod.name });
    const round = await vm.open({ question: "q", choices: ["x", "y"], strategy: "plurality", durationMs: 60_000 });
    const pending = round.result().catch((e: unknown) => e);
    await vm.close();
    expect(await pending).toMatchObject({ code: "CLOSED" });
    expect(await vm.closed).toBeUndefined();
    expect((await vm.messages()[Symbol.asyncIterator]().next()).done).toBe(true);
  });

  it("marks vote messages with the vote payload type", async () => {
    const sent: Array<string | undefined> = [];
    const session: VotingSession = {
      publish: async (_d, o) => void sent.push(o?.payloadType),
      [Symbol.asyncIterator]: () => new AsyncQueue<SessionMessage>(1)[Symbol.asyncIterator](),
    };
    const v = attachVoting(session, { self: "org/ns/mod/1" });
    attached.push(v);
    await expect(v.open({ question: "q", choices: ["x", "y"], strategy: "plurality", durationMs: 1_000 })).rejects.toThrow(/give `voters`/);
    await v.open({ question: "q", choices: ["x", "y"], strategy: "plurality", voters: ["org/ns/a/2"], durationMs: 1_000 });
    expect(sent).toEqual([VOTE_PAYLOAD_TYPE]);
  });
});

describe("attachVoting over real group sessions", () => {
  const SECRET = "voting-unit-test-shared-secret-0123456789abcdef";

  async function app(name: string): Promise<SlimApp> {
    processor ??= new MessageProcessor();
    const a = await createApp({ name, secret: SECRET, processor });
    apps.push(a);
    return a;
  }

  function nextGroup(a: SlimApp): Promise<GroupSession> {
    return a
      .listen({ kind: "group" })
      [Symbol.asyncIterator]()
      .next()
      .then((r) => r.value as GroupSession);
  }

  it("the moderator's vote is cast, tallied and verified by every member", async () => {
    const mod = await app("org/ns/mod");
    const a = await app("org/ns/a");
    const b = await app("org/ns/b");
    const g = await mod.createSession({ type: "group", channel: "org/ns/room" }, { reliable: { intervalMs: 200, maxRetries: 3 } });
    const ga = nextGroup(a);
    await g.invite("org/ns/a");
    const sa = await ga;
    const gb = nextGroup(b);
    await g.invite("org/ns/b");
    const sb = await gb;

    const vm = attachVoting(g, { self: mod.name });
    const va = attachVoting(sa, { self: a.name, moderator: sa.moderator });
    const vb = attachVoting(sb, { self: b.name, moderator: sb.moderator });
    attached.push(vm, va, vb);
    const verified = [va, vb].map(async (v, i) => {
      const inv = (await v.invitations()[Symbol.asyncIterator]().next()).value!;
      await inv.cast([i === 0 ? "ship" : "wait"], { timeoutMs: 2_000 });
      return inv.result({ timeoutMs: 2_000 });
    });
    const round = await vm.open({ question: "release?", choices: ["wait", "ship"], strategy: "approval", durationMs: 3_000, quorum: 2 });
    expect(round.proposal.voters.sort()).toEqual([a.name.toString(), b.name.toString()].sort());
    const outcome = await round.result({ timeoutMs: 3_000 });
    expect(outcome.result).toMatchObject({ status: "decided", winner: "wait", tied: ["wait", "ship"], turnout: 2 });
    for (const v of await Promise.all(verified)) expect(v.result).toEqual(outcome.result);
  });
});
