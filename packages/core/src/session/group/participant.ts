// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A participant's side of a group: JOIN_REPLY, the welcome (subscribe to both
// channels, then ack and surface the session), roster updates, being removed
// (LEAVE_REQUEST), the group closing, and leaving on its own.

import { SlimError } from "../../errors.js";
import type { Name } from "../../names/name.js";
import { GroupUpdateOp, SessionMessageType, type ProtoPublish } from "../../wire/gen/dataplane.js";
import { fromProtoName } from "../../wire/names.js";
import { commandOf, randomMessageId } from "../build.js";
import { fromParticipants, memberKey, toParticipant } from "./roster.js";
import { SLIM_TS_CAPS } from "./moderator.js";
import { markOnline } from "./presence.js";
import type { GroupSession } from "./session.js";

const ACK = { case: "groupAck" as const, value: {} };

/** JOIN_REPLY; with MLS it carries a key package (made once: a resent request gets the same one). */
export function replyJoin(s: GroupSession, messageId: number, incomingConn: bigint | undefined): void {
  const send = (keyPackage?: Uint8Array) =>
    s.emit(
      {
        type: SessionMessageType.JOIN_REPLY,
        messageId,
        ...(incomingConn === undefined ? {} : { forwardTo: incomingConn }),
        // our moderators may rotate keys with members that say they can process it (upstream cannot)
        metadata: new Map([[SLIM_TS_CAPS, "rotate"]]),
        command: { case: "joinReply", value: { participant: toParticipant(s.host.name), ...(keyPackage === undefined ? {} : { keyPackage }) } },
      },
      s.moderator,
    );
  if (s.mls === undefined) return void send();
  s.joinKeyPackage ??= s.mls.keyPackage();
  s.joinKeyPackage.then(send, (err: unknown) => s.finish(SlimError.from(err, "MLS")));
}

/**
 * MLS work a message needs before it is handled (inside the session's inbound lane):
 * enter the group with the Welcome, apply a GROUP_UPDATE's commit in order, re-enter
 * with a REJOIN_REPLY. False: drop the message (nothing to apply, or it did not apply).
 */
export async function applyMls(s: GroupSession, p: ProtoPublish): Promise<boolean> {
  const mls = s.mls!;
  const cmd = commandOf(p);
  switch (cmd?.case) {
    case "groupWelcome": {
      if (s.state !== "joining" || mls.ready) return true; // a resend: acked again
      const m = cmd.value.mls;
      if (m === undefined) return false;
      await mls.join(m.mlsContent, m.commitId);
      return true;
    }
    case "groupUpdate": {
      const m = cmd.value.mls;
      if (m === undefined || !mls.ready) return false;
      const r = await mls.applyCommit(m.commitId, m.mlsContent, mls.moderatorIdentity());
      return r !== "future";
    }
    case "rejoinReply": {
      if (!s.rejoining) return false;
      await mls.join(cmd.value.mlsContent, cmd.value.commitId, true);
      return true;
    }
    default:
      return true;
  }
}

export function onWelcome(s: GroupSession, p: ProtoPublish, source: Name): void {
  const id = p.session!.messageId;
  const conn = p.header!.incomingConn;
  if (s.state === "open") return s.reply(SessionMessageType.GROUP_ACK, id, source, conn, ACK); // a resend
  if (s.state !== "joining" || s.welcoming) return; // still subscribing: the ack follows
  const cmd = commandOf(p);
  if (cmd?.case !== "groupWelcome") return;
  s.welcoming = true;
  const names = fromParticipants(cmd.value.participants);
  void (async () => {
    try {
      await s.host.joinChannel(s.channels.data);
      await s.host.joinChannel(s.channels.control);
    } catch (err) {
      s.finish(SlimError.from(err, "SESSION"));
      return;
    }
    if (s.state !== "joining") return;
    for (const n of names) s.addMember(n);
    s.state = "open";
    s.reply(SessionMessageType.GROUP_ACK, id, source, conn, ACK);
    s.host.accept(s);
  })();
}

export function onUpdate(s: GroupSession, p: ProtoPublish, source: Name): void {
  const cmd = commandOf(p);
  if (cmd?.case !== "groupUpdate") return;
  const subject = fromProtoName(cmd.value.participant?.name);
  if (s.state === "open" && subject !== undefined && memberKey(subject) !== memberKey(s.host.name)) {
    if (cmd.value.op === GroupUpdateOp.ADD) s.addMember(subject);
    else if (cmd.value.op === GroupUpdateOp.REMOVE) s.dropMember(subject);
    else if (cmd.value.op === GroupUpdateOp.REJOIN) markOnline(s, memberKey(subject), "rejoined");
  }
  // our own rejoin: the list comes with it (members came and went while we were away)
  if (s.state === "open" && cmd.value.op === GroupUpdateOp.REJOIN && subject !== undefined && memberKey(subject) === memberKey(s.host.name)) {
    const now = fromParticipants(cmd.value.participants);
    const keep = new Set(now.map(memberKey));
    for (const n of s.roster.names()) if (!keep.has(memberKey(n))) s.dropMember(n);
    for (const n of now) s.addMember(n);
    s.rejoinUpdated?.();
  }
  // our own removal: ack, the LEAVE_REQUEST follows
  s.reply(SessionMessageType.GROUP_ACK, p.session!.messageId, source, p.header!.incomingConn, ACK);
}

/** The moderator removed us. */
export function onLeaveRequest(s: GroupSession, id: number, source: Name, incomingConn: bigint | undefined): void {
  s.reply(SessionMessageType.LEAVE_REPLY, id, source, incomingConn, { case: "leaveReply", value: {} });
  s.finish(new SlimError("CLOSED", "session closed by the moderator"));
}

/** The moderator closed the group. */
export function onClose(s: GroupSession, id: number, source: Name, incomingConn: bigint | undefined): void {
  s.reply(SessionMessageType.GROUP_ACK, id, source, incomingConn, ACK);
  s.finish(new SlimError("CLOSED", "session closed by the moderator"));
}

/** Our own close: LEAVE_REQUEST (LEAVING_SESSION=TRUE) to the moderator, wait for the reply. */
export async function leave(s: GroupSession): Promise<void> {
  const id = randomMessageId();
  await s.control.request(id, "leave", () =>
    s.emit(
      { type: SessionMessageType.LEAVE_REQUEST, messageId: id, metadata: new Map([["LEAVING_SESSION", "TRUE"]]), command: { case: "leaveRequest", value: {} } },
      s.moderator,
    ),
  );
}
