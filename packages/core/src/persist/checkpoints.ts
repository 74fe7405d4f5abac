// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Saving one session's record, coalesced: a request made while a save runs is
// served by the next save, which starts when the running one ends, and every
// request made meanwhile shares it. What a request returns resolves once a save
// that started after the request is on disk, so a message sent after awaiting it
// is covered by the saved state (its message id, its MLS generation).

export class Checkpoints {
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  #closed = false;

  constructor(private readonly save: () => Promise<void>) {}

  /**
   * Resolves once a save started after this call has finished; rejects when that save failed.
   * Once closed (the session ended for good), resolves at once: there is nothing to come back to.
   */
  request(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#next !== undefined) return this.#next;
    if (this.#running === undefined) return this.#start();
    const after = this.#running.catch(() => undefined);
    this.#next = after.then(() => {
      this.#next = undefined;
      return this.#start();
    });
    return this.#next;
  }

  /** Whatever save is running or queued, settled. */
  async idle(): Promise<void> {
    while (this.#running !== undefined || this.#next !== undefined) await (this.#next ?? this.#running)!.catch(() => undefined);
  }

  /** No more saves; the running one finishes. */
  close(): void {
    this.#closed = true;
  }

  #start(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const run = this.save();
    this.#running = run;
    const clear = () => {
      if (this.#running === run) this.#running = undefined;
    };
    run.then(clear, clear);
    return run;
  }
}
