// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import type { MessageProcessor } from "../../src/datapath/processor.js";
import { newCounters, type Connection, type ConnectionKind } from "../../src/datapath/types.js";
import { Name } from "../../src/names/name.js";
import type { ProtoMessage } from "../../src/wire/gen/dataplane.js";
import { newHeader, subscribeMessage } from "../../src/wire/message.js";
import { toProtoName } from "../../src/wire/names.js";

/** A connection that records what the datapath hands it. */
export class RecordingConnection implements Connection {
  readonly counters = newCounters();
  readonly info = { role: "local" as const };
  readonly sent: ProtoMessage[] = [];
  refuse = false;
  constructor(
    readonly id: number,
    readonly kind: ConnectionKind,
  ) {}
  send(msg: ProtoMessage): boolean {
    if (this.refuse) return false;
    this.sent.push(structuredClone(msg));
    return true;
  }
  close(): void {}
  publishes(): ProtoMessage[] {
    return this.sent.filter((m) => m.messageType.case === "publish");
  }
  acks(): Array<{ id: bigint; ok: boolean; error: string }> {
    return this.sent.flatMap((m) =>
      m.messageType.case === "subscriptionAck"
        ? [{ id: m.messageType.value.subscriptionId, ok: m.messageType.value.success, error: m.messageType.value.error }]
        : [],
    );
  }
}

export function addConn(p: MessageProcessor, kind: ConnectionKind): RecordingConnection {
  const c = new RecordingConnection(p.allocateId(), kind);
  p.register(c);
  return c;
}

export const nm = (s: string): Name => Name.parse(s);

export function sub(dst: Name, subId = 0n, opts: { recvFrom?: number; forwardTo?: number; ttl?: number; strName?: boolean } = {}): ProtoMessage {
  const d = toProtoName(dst);
  if (opts.strName === false) delete d.strName;
  const h = newHeader(toProtoName(dst), d, { ttl: opts.ttl ?? 8 });
  if (opts.recvFrom !== undefined) h.recvFrom = BigInt(opts.recvFrom);
  if (opts.forwardTo !== undefined) h.forwardTo = BigInt(opts.forwardTo);
  return subscribeMessage(h, subId, true);
}

export function unsub(dst: Name, subId = 0n): ProtoMessage {
  return subscribeMessage(newHeader(toProtoName(dst), toProtoName(dst)), subId, false);
}

export function pub(dst: Name, text: string, opts: { fanout?: number; ttl?: number; src?: Name } = {}): ProtoMessage {
  const h = newHeader(toProtoName(opts.src ?? nm("org/ns/src")), toProtoName(dst), { fanout: opts.fanout ?? 1, ttl: opts.ttl ?? 8 });
  return {
    messageType: {
      case: "publish",
      value: {
        header: h,
        session: { sessionType: 1, sessionMessageType: 1, sessionId: 1, messageId: 1 },
        msg: { contentType: { case: "appPayload", value: { payloadType: "msg", blob: new TextEncoder().encode(text) } } },
      },
    },
    metadata: new Map(),
  };
}

export function textOf(m: ProtoMessage): string {
  if (m.messageType.case !== "publish") return "";
  const c = m.messageType.value.msg?.contentType;
  return c?.case === "appPayload" ? new TextDecoder().decode(c.value.blob) : "";
}
