// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import type { SessionMessage } from "@slim-ts/core";
import type { RecvItem } from "./official/index.js";

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
