// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/** Poll `cond` every 20 ms until it holds; throw naming `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what = "condition", timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
