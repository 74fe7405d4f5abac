// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { SlimError } from "../errors.js";

export interface AbortOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * Run `body` with a deadline and an abort signal; always cleans up its timer
 * and listener. A deadline surfaces as SlimError("TIMEOUT"), an abort as
 * SlimError("ABORTED") with the signal's reason as cause.
 */
export function withDeadline<T>(
  what: string,
  options: AbortOptions | undefined,
  defaultTimeoutMs: number,
  body: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const outer = options?.signal;
  if (outer?.aborted) return Promise.reject(new SlimError("ABORTED", `${what} aborted`, { cause: outer.reason }));
  const timeoutMs = options?.timeoutMs ?? defaultTimeoutMs;
  const ctl = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      outer?.removeEventListener("abort", onAbort);
      fn();
    };
    const onAbort = () => {
      ctl.abort(outer?.reason);
      finish(() => reject(new SlimError("ABORTED", `${what} aborted`, { cause: outer?.reason })));
    };
    const timer = setTimeout(() => {
      ctl.abort(new SlimError("TIMEOUT", `${what} timed out after ${timeoutMs} ms`));
      finish(() => reject(new SlimError("TIMEOUT", `${what} timed out after ${timeoutMs} ms`)));
    }, timeoutMs);
    outer?.addEventListener("abort", onAbort, { once: true });
    body(ctl.signal).then(
      (v) => finish(() => resolve(v)),
      (e: unknown) => finish(() => reject(SlimError.from(e))),
    );
  });
}

/** Put `waiter` on `list` until someone takes it; an abort of `signal` takes it off again. */
export function parkUntilAborted<W>(list: W[], waiter: W, signal: AbortSignal): void {
  list.push(waiter);
  signal.addEventListener(
    "abort",
    () => {
      const i = list.indexOf(waiter);
      if (i >= 0) list.splice(i, 1);
    },
    { once: true },
  );
}
