// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Control requests: sent, resent on a constant timer with a fresh token each
// time, settled by the reply carrying the same message id.

import { SlimError } from "../errors.js";
import type { ProtoMessage } from "../wire/gen/dataplane.js";

export const DEFAULT_CONTROL_INTERVAL_MS = 1_000;
export const DEFAULT_CONTROL_RETRIES = 10;

interface Pending {
  timer: NodeJS.Timeout;
  resolve: (reply: ProtoMessage) => void;
  reject: (err: SlimError) => void;
}

export class ControlRequests {
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly intervalMs: number,
    private readonly maxRetries: number,
  ) {}

  /**
   * Send `build()` now and again every interval until `settle(messageId, reply)`
   * is called; rejects after maxRetries resends with a SESSION error.
   */
  request(messageId: number, what: string, send: () => void): Promise<ProtoMessage> {
    return new Promise((resolve, reject) => {
      let sent = 0;
      const fire = () => {
        if (sent > this.maxRetries) {
          this.pending.delete(messageId);
          reject(new SlimError("SESSION", `${what}: message send retries exhausted for id=${messageId}`));
          return;
        }
        sent++;
        send();
        p.timer = setTimeout(fire, this.intervalMs);
      };
      const p: Pending = { timer: undefined as unknown as NodeJS.Timeout, resolve, reject };
      this.pending.set(messageId, p);
      fire();
    });
  }

  /** A reply arrived; returns whether it settled a pending request. */
  settle(messageId: number, reply: ProtoMessage): boolean {
    const p = this.pending.get(messageId);
    if (p === undefined) return false;
    clearTimeout(p.timer);
    this.pending.delete(messageId);
    p.resolve(reply);
    return true;
  }

  /** Fail one request now (e.g. the local node reported no route). */
  fail(messageId: number, err: SlimError): void {
    const p = this.pending.get(messageId);
    if (p === undefined) return;
    clearTimeout(p.timer);
    this.pending.delete(messageId);
    p.reject(err);
  }

  failAll(err: SlimError): void {
    for (const id of [...this.pending.keys()]) this.fail(id, err);
  }

  get size(): number {
    return this.pending.size;
  }
}
