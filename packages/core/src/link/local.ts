// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// An app attached to the datapath in the same process: messages are handed over
// as objects, never serialized.

import type { MessageProcessor } from "../datapath/processor.js";
import { countDrop, newCounters, type Connection, type ConnectionInfo } from "../datapath/types.js";
import type { SlimError } from "../errors.js";
import type { ProtoMessage } from "../wire/gen/dataplane.js";
import { cloneWithHeader } from "../wire/message.js";
import { clear, headerOf } from "../wire/validate.js";
import type { SharedSend } from "./shared-send.js";

export interface LocalSink {
  /** A routed message for the app; return false when it cannot take more (counted as backpressure). */
  deliver(msg: ProtoMessage): boolean;
  /** A subscription ack addressed to the app. */
  ack(subscriptionId: bigint, success: boolean, error: string): void;
  /** What the datapath could not do with one of the app's messages. */
  error(err: SlimError, msg: ProtoMessage): void;
}

export class LocalConnection implements Connection {
  readonly kind = "local" as const;
  readonly counters = newCounters();
  readonly info: ConnectionInfo;
  private open = true;

  constructor(
    readonly id: number,
    private readonly processor: MessageProcessor,
    private readonly sink: LocalSink,
    label?: string,
  ) {
    this.info = { role: "local", ...(label === undefined ? {} : { label }) };
  }

  /** Datapath -> app. `share`: the same message goes on to other connections after this one. */
  send(msg: ProtoMessage, share?: SharedSend): boolean {
    if (!this.open) return false;
    const t = msg.messageType;
    if (t.case === "subscriptionAck") {
      this.sink.ack(t.value.subscriptionId, t.value.success, t.value.error);
      return true;
    }
    // Apps treat delivered messages as read-only and the datapath changes nothing
    // an app reads after delivery, so the object is shared; only a MAC from
    // another link is stripped: in place when this is the message's only
    // destination, on a copy when links that sign it in place come after us.
    let out = msg;
    const h = headerOf(msg);
    if (h?.headerMac !== undefined) {
      if (share === undefined) clear(h, "headerMac");
      else {
        out = cloneWithHeader(msg);
        clear(headerOf(out)!, "headerMac");
      }
    }
    if (!this.sink.deliver(out)) {
      countDrop(this.counters, "backpressure");
      return false;
    }
    this.counters.msgsOut++;
    return true;
  }

  /** App -> datapath. */
  submit(msg: ProtoMessage): void {
    if (!this.open) return;
    this.counters.msgsIn++;
    this.processor.handle(this, msg);
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.processor.unregister(this.id);
  }
}

export function attachLocal(processor: MessageProcessor, sink: LocalSink, label?: string): LocalConnection {
  const id = processor.allocateId();
  const conn = new LocalConnection(id, processor, sink, label);
  processor.register(conn, (err, msg) => sink.error(err, msg));
  return conn;
}
