// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A control message that several members must ack (GROUP_UPDATE, GROUP_CLOSE):
// resent on a constant timer until every expected member acked; on retry
// exhaustion it still resolves and reports the silent ones (upstream's
// partial success).

export class MultiAcks {
  private readonly pending = new Map<
    number,
    { waiting: Set<string>; timer: NodeJS.Timeout | undefined; done: (silent: string[]) => void; nacked: Set<string> | undefined }
  >();

  constructor(
    private readonly intervalMs: number,
    private readonly maxRetries: number,
  ) {}

  /**
   * Send now and resend until every key in `expect` acked; resolves with the keys that never did.
   * A GROUP_NACK counts as an answer; the keys that sent one are added to `nacked`.
   */
  request(messageId: number, expect: Iterable<string>, send: () => void, nacked?: Set<string>): Promise<string[]> {
    const waiting = new Set(expect);
    return new Promise((resolve) => {
      const entry = { waiting, timer: undefined as NodeJS.Timeout | undefined, done: resolve, nacked };
      this.pending.set(messageId, entry);
      let sent = 0;
      const fire = () => {
        if (sent > this.maxRetries) {
          this.pending.delete(messageId);
          resolve([...waiting]);
          return;
        }
        sent++;
        send();
        entry.timer = setTimeout(fire, this.intervalMs);
      };
      if (waiting.size === 0) {
        // nobody to wait for: send once, done
        this.pending.delete(messageId);
        send();
        resolve([]);
        return;
      }
      fire();
    });
  }

  /** A GROUP_NACK: answered, but no. */
  nack(messageId: number, from: string): boolean {
    const e = this.pending.get(messageId);
    if (e === undefined) return false;
    if (e.waiting.has(from)) e.nacked?.add(from);
    return this.ack(messageId, from);
  }

  /** A GROUP_ACK for `messageId` from `from`; returns whether it was expected here. */
  ack(messageId: number, from: string): boolean {
    const e = this.pending.get(messageId);
    if (e === undefined) return false;
    e.waiting.delete(from);
    if (e.waiting.size === 0) {
      clearTimeout(e.timer);
      this.pending.delete(messageId);
      e.done([]);
    }
    return true;
  }

  /** A member left: stop waiting for it everywhere. */
  forget(key: string): void {
    for (const [id] of [...this.pending]) this.ack(id, key);
  }

  /** Stop everything; pending requests resolve with what was still missing. */
  close(): void {
    for (const [id, e] of [...this.pending]) {
      clearTimeout(e.timer);
      this.pending.delete(id);
      e.done([...e.waiting]);
    }
  }
}
