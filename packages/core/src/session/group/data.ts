// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A group's data path, either role: the app's publishes (to the data channel,
// held while nobody is in yet), direct replies to one member (upstream's
// publish_to), and the data messages, acks and resends that arrive.

import { ANY_ID, type Name } from "../../names/name.js";
import { SessionMessageType, type ProtoMessage, type ProtoPublish } from "../../wire/gen/dataplane.js";
import { parkUntilAborted, withDeadline } from "../../util/abort.js";
import { appPayloadOf, MAX_DATA_MESSAGE_ID } from "../build.js";
import { ReceivedMessage } from "../message.js";
import { bounded, DEFAULT_PUBLISH_TIMEOUT_MS, sendOutbound, whenWritable } from "../outbound.js";
import type { OutboundData } from "../sender.js";
import type { SessionPublishOptions } from "../types.js";
import { memberKey } from "./roster.js";
import { SlimError } from "../../errors.js";
import { GROUP_FANOUT, type GroupSession } from "./session.js";

/** The data sender's output: to the channel, or (a resend, a direct reply) to one member. */
export function sendData(s: GroupSession, id: number, data: OutboundData, to: string | undefined, asRtx: boolean, forwardTo?: bigint): void | Promise<void> {
  // a resend to one member goes to it itself, as upstream rewrites the destination
  const dst = to === undefined ? s.channels.data : s.nameOf(to);
  if (dst === undefined) return;
  return s.emit(
    {
      type: asRtx ? SessionMessageType.RTX_REPLY : SessionMessageType.MSG,
      messageId: id,
      app: { payloadType: data.payloadType, blob: data.blob },
      metadata: data.metadata,
      ...(forwardTo === undefined ? {} : { forwardTo }),
    },
    dst,
    to === undefined ? GROUP_FANOUT : 1,
  );
}

/** MSG or RTX_REPLY: ack (reliable), then in order per sender; direct replies at once. */
export function onData(s: GroupSession, msg: ProtoMessage, p: ProtoPublish, source: Name, type: SessionMessageType, from: string): void {
  const h = p.header!;
  const id = p.session!.messageId;
  const app = appPayloadOf(p);
  if (app === undefined) return;
  const publishTo = msg.metadata.get("PUBLISH_TO");
  if (type === SessionMessageType.MSG && s.reliable !== undefined) {
    s.emit(
      {
        type: SessionMessageType.MSG_ACK,
        messageId: id,
        ...(h.incomingConn === undefined ? {} : { forwardTo: h.incomingConn }),
        ...(publishTo === undefined ? {} : { metadata: new Map([["PUBLISH_TO", publishTo]]) }),
      },
      source,
    );
  }
  if (!s.seen.has(from)) {
    s.seen.set(from, source);
    s.routeTo(source);
  }
  if (type === SessionMessageType.RTX_REPLY && h.error === true) return s.receiver.onLost(from, id);
  const metadata: Record<string, string> = {};
  for (const [k, v] of msg.metadata) metadata[k] = v;
  const item = new ReceivedMessage(source, app.payloadType === "" ? "msg" : app.payloadType, metadata, app.blob, id, s);
  // publish_to messages carry ids above the data range and are never reordered
  if (id > MAX_DATA_MESSAGE_ID) return s.pushInbound(item);
  s.receiver.onData(from, id, item);
}

/** To every member; with nobody in yet (reliable), held until the first member joins, as upstream. */
export function publish(s: GroupSession, data: Uint8Array | string, options: SessionPublishOptions): Promise<void> {
  const refused = s.refusal();
  if (refused !== undefined) return Promise.reject(refused);
  return sendOutbound(data, options, (out) => {
    if (s.reliable === undefined || s.endpoints.size > 0) {
      return bounded(
        whenWritable(s.host, () => s.sender.publish(out)),
        s.reliable !== undefined,
        options,
        "publish",
      );
    }
    return withDeadline("publish", options, DEFAULT_PUBLISH_TIMEOUT_MS, (signal) => {
      return new Promise<void>((resolve, reject) => parkUntilAborted(s.parked, { data: out, resolve, reject }, signal));
    });
  });
}

/** Publishes held for lack of members go out now (a member just joined). */
export function flushParked(s: GroupSession): void {
  for (const p of s.parked.splice(0)) s.sender.publish(p.data).then(p.resolve, p.reject);
}

/** A direct message to one member: only `to` gets it; reliable: resolves once `to` acked it. */
export function replyTo(s: GroupSession, to: Name, data: Uint8Array | string, options: SessionPublishOptions): Promise<void> {
  const refused = s.refusal();
  if (refused !== undefined) return Promise.reject(refused);
  // a full name must be a member; a name without an instance id means whichever member runs it
  const member = s.roster.has(to) ? to : to.id === ANY_ID ? s.roster.findService(to) : undefined;
  if (member === undefined) return Promise.reject(new SlimError("SESSION", `not a member of this group: ${to.toString()}`));
  const key = memberKey(member);
  return sendOutbound(
    data,
    options,
    (out) => bounded(whenWritable(s.host, () => s.sender.publishTo(out, key)), s.reliable !== undefined, options, "reply"),
    ["PUBLISH_TO", "TRUE"],
  );
}
