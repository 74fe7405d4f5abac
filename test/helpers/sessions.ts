// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import type { SessionMessage } from "@slim-ts/core";
import { expect } from "vitest";
import type { OfficialApp, RecvItem } from "./official/index.js";

/** Official recv results as texts, errors marked. */
export const texts = (items: RecvItem[]): string[] => items.map((m) => ("error" in m ? `ERROR ${m.error}` : m.text));

/**
 * The next `n` messages of a session, or fewer if `timeoutMs` passes first.
 * On a timeout the session's iterator is returned (its inbox is closed).
 */
export async function take(session: AsyncIterable<SessionMessage>, n: number, timeoutMs = 10_000): Promise<SessionMessage[]> {
  const out: SessionMessage[] = [];
  const it = session[Symbol.asyncIterator]();
  const deadline = setTimeout(() => void it.return?.(), timeoutMs);
  try {
    while (out.length < n) {
      const r = await it.next();
      if (r.done) break;
      out.push(r.value);
    }
  } finally {
    clearTimeout(deadline);
  }
  return out;
}

/** Read `events` until one matches `pred` (resolving it), failing after `timeoutMs`; the iterator stays open. */
export async function nextMatching<T>(events: AsyncIterator<T>, pred: (e: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      events.next(),
      new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), Math.max(0, left)))),
    ]).finally(() => clearTimeout(timer));
    if (r === "timeout") throw new Error(`${what}: not within ${timeoutMs} ms`);
    if (r.done === true) throw new Error(`${what}: the events ended`);
    if (pred(r.value)) return r.value;
  }
}

/** One reader over a session for a whole test: take() as often as needed, the inbox stays open. */
export function reader(session: AsyncIterable<SessionMessage>) {
  const it = session[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<SessionMessage>> | undefined;
  return {
    /** The next `n` messages; fails if they do not all arrive within `timeoutMs`. */
    async take(n: number, timeoutMs = 5_000): Promise<SessionMessage[]> {
      const out: SessionMessage[] = [];
      const deadline = Date.now() + timeoutMs;
      while (out.length < n) {
        pending ??= it.next();
        let timer: NodeJS.Timeout | undefined;
        const r = await Promise.race([pending, new Promise<"timeout">((res) => (timer = setTimeout(() => res("timeout"), Math.max(0, deadline - Date.now()))))]).finally(() =>
          clearTimeout(timer),
        );
        if (r === "timeout") throw new Error(`only ${out.length} of ${n} messages within ${timeoutMs} ms`);
        pending = undefined;
        if (r.done === true) throw new Error(`the session ended after ${out.length} of ${n} messages`);
        out.push(r.value);
      }
      return out;
    },
  };
}

const readers = new WeakMap<AsyncIterable<SessionMessage>, ReturnType<typeof reader>>();

/** The next `n` messages of `session` as text, through one {@link reader} per session kept for the whole test. */
export async function nextTexts(session: AsyncIterable<SessionMessage>, n: number, timeoutMs = 5_000): Promise<string[]> {
  let r = readers.get(session);
  if (r === undefined) readers.set(session, (r = reader(session)));
  return (await r.take(n, timeoutMs)).map((m) => m.text());
}

/**
 * `alice` opens an MLS p2p session to `bob` (routes both ways first); `n` messages go each way and
 * must arrive in order. Returns what bob received, for checks of its own.
 */
export async function mlsP2pBothWays(alice: OfficialApp, bob: OfficialApp, n: number): Promise<RecvItem[]> {
  await alice.route(bob.name);
  await bob.route(alice.name);
  const listening = bob.listen({ timeoutMs: 20_000 });
  await alice.create({ type: "p2p", peer: bob.name, mls: true });
  expect((await listening).mls).toBe(true);
  for (let i = 0; i < n; i++) await alice.publish({ text: `a-${i}`, wait: false });
  const atBob = await bob.recv({ n, timeoutMs: 15_000 });
  expect(texts(atBob)).toEqual(Array.from({ length: n }, (_, i) => `a-${i}`));
  for (let i = 0; i < n; i++) await bob.publish({ text: `b-${i}`, wait: false });
  expect(texts(await alice.recv({ n, timeoutMs: 15_000 }))).toEqual(Array.from({ length: n }, (_, i) => `b-${i}`));
  return atBob;
}
