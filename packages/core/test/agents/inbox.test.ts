// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Envelopes, the inbox and allow-lists: pure pieces shared by the adapters.

import { describe, expect, it } from "vitest";
import { AllowList } from "../../src/agents/allow-list.js";
import { mergeEnvelopes, type SlimEnvelope } from "../../src/agents/envelope.js";
import { Inbox } from "../../src/agents/inbox.js";
import { ChatScript, splitTokens } from "../../src/agents/scripted.js";
import { isSlimError } from "../../src/errors.js";
import { Name } from "../../src/names/name.js";

const env = (id: string, from = "org/ns/bob/00000000-0000-0000-0000-000000000001", to?: string): SlimEnvelope => ({
  id,
  dir: "in",
  from,
  ...(to === undefined ? {} : { to }),
  payloadType: "msg",
  text: id,
  at: 0,
});

describe("mergeEnvelopes", () => {
  it("dedupes by id, keeps order, bounds, and never mutates", () => {
    const cur = [env("a"), env("b")];
    const out = mergeEnvelopes(cur, [env("b"), env("c"), env("c"), env("d")], 3);
    expect(out.map((e) => e.id)).toEqual(["b", "c", "d"]);
    expect(cur.map((e) => e.id)).toEqual(["a", "b"]);
    expect(mergeEnvelopes(cur, env("a"))).toBe(cur);
    expect(mergeEnvelopes(cur, null)).toBe(cur);
  });
});

describe("Inbox", () => {
  it("drops duplicates and the oldest unread beyond its size", () => {
    const box = new Inbox({ maxEntries: 2 });
    expect(box.push(env("1"))).toBe(true);
    expect(box.push(env("1"))).toBe(false);
    box.push(env("2"));
    box.push(env("3"));
    expect(box.dropped).toBe(1);
    expect(box.take().map((e) => e.id)).toEqual(["2", "3"]);
    expect(box.push(env("2"))).toBe(false);
  });

  it("hands a message to the waiting reader whose filter it matches", async () => {
    const box = new Inbox();
    const fromCarol = box.next({ from: "org/ns/carol" }, { timeoutMs: 1_000 });
    const any = box.next(undefined, { timeoutMs: 1_000 });
    box.push(env("x", "org/ns/carol/00000000-0000-0000-0000-000000000009"));
    box.push(env("y"));
    expect((await fromCarol).id).toBe("x");
    expect((await any).id).toBe("y");
    expect(box.size).toBe(0);
  });

  it("matches senders by service, not by prefix of a longer name", () => {
    const box = new Inbox();
    box.push(env("1", "org/ns/bobby/00000000-0000-0000-0000-000000000002"));
    box.push(env("2", "org/ns/bob/00000000-0000-0000-0000-000000000001", "org/ns/room"));
    expect(box.peek({ from: "org/ns/bob" }).map((e) => e.id)).toEqual(["2"]);
    expect(box.take({ to: "org/ns/room" }).map((e) => e.id)).toEqual(["2"]);
  });

  it("collects until a condition, returns what it has at the deadline, and times out a wait", async () => {
    const box = new Inbox();
    box.push(env("1"));
    setTimeout(() => box.push(env("2")), 5);
    expect((await box.collect({ until: (g) => g.length === 2, timeoutMs: 1_000 })).map((e) => e.id)).toEqual(["1", "2"]);
    expect(await box.collect({ timeoutMs: 20 })).toEqual([]);
    const err = await box.next(undefined, { timeoutMs: 10 }).catch((e: unknown) => e);
    expect(isSlimError(err, "TIMEOUT")).toBe(true);
  });

  it("fails waiting readers when closed", async () => {
    const box = new Inbox();
    const waiting = box.next();
    box.close();
    await expect(waiting).rejects.toThrow(/inbox closed/);
    expect(box.push(env("late"))).toBe(false);
  });
});

describe("AllowList", () => {
  const allow = new AllowList(["org/ns/bob", "org/team/*", Name.parse("org/ns/carol/00000000-0000-0000-0000-000000000005")]);

  it("allows services (any instance) and namespace wildcards", () => {
    expect(allow.has("org/ns/bob")).toBe(true);
    expect(allow.has("org/ns/bob/00000000-0000-0000-0000-000000000007")).toBe(true);
    expect(allow.has("org/team/anyone")).toBe(true);
    expect(allow.has("org/ns/carol")).toBe(true);
    expect(allow.has("org/ns/bobby")).toBe(false);
    expect(allow.has("org/teams/x")).toBe(false);
    expect(allow.has("not a name")).toBe(false);
  });

  it("explains refusals", () => {
    expect(() => allow.check("org/ns/eve")).toThrow('peer "org/ns/eve" is not on the allow-list; allowed: org/ns/bob, org/ns/carol, org/team/*');
    expect(() => allow.check("eve")).toThrow('"eve" is not a SLIM name (expected org/namespace/service)');
    expect(() => new AllowList([]).check("org/ns/bob")).toThrow(/not on the allow-list$/);
    expect(() => new AllowList(["org/*"])).toThrow(/expected org\/ns\/\*/);
    expect(new AllowList((n) => n.components[0] === "org").has("org/x/y")).toBe(true);
  });
});

describe("ChatScript", () => {
  it("plays turns in order, fills tool call ids and stops at the end", () => {
    const s = new ChatScript([{ toolCalls: [{ name: "t", args: { a: 1 } }] }, (h) => ({ text: `saw ${h.length}` })]);
    expect(s.next([]).toolCalls).toEqual([{ name: "t", args: { a: 1 }, id: "call_0_0" }]);
    expect(s.next([{ role: "user", content: "x" }]).text).toBe("saw 1");
    expect(() => s.next([])).toThrow(/the script has 2 turns, asked for turn 3/);
    const loop = new ChatScript([{ text: "again" }], { whenDone: "repeat-last" });
    loop.next([]);
    expect(loop.next([]).text).toBe("again");
  });

  it("splits text into tokens that join back", () => {
    const text = "  two  words\nand more ";
    expect(splitTokens(text).join("")).toBe(text);
    expect(splitTokens("a b")).toEqual(["a ", "b"]);
  });
});
