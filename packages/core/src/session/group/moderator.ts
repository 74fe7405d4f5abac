// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The moderator's side of a group: invite (DISCOVERY, JOIN, then GROUP_UPDATE(ADD)
// to the members already in and GROUP_WELCOME to the newcomer), remove
// (GROUP_UPDATE(REMOVE), then LEAVE_REQUEST), a member leaving on its own, and
// close (GROUP_CLOSE). Invites and removals run one at a time, as upstream.

import { SlimError } from "../../errors.js";
import { Name } from "../../names/name.js";
import { GroupUpdateOp, SessionMessageType, type ProtoParticipant } from "../../wire/gen/dataplane.js";
import { fromProtoName, toProtoName } from "../../wire/names.js";
import { publishOf, randomMessageId } from "../build.js";
import { DEFAULT_CONTROL_INTERVAL_MS, DEFAULT_CONTROL_RETRIES } from "../control.js";
import { memberKey, toParticipant } from "./roster.js";
import { GROUP_FANOUT, type GroupSession } from "./session.js";

function queue<T>(s: GroupSession, fn: () => Promise<T>): Promise<T> {
  const run = s.tasks.then(fn, fn);
  s.tasks = run.catch(() => undefined);
  return run;
}

function check(s: GroupSession, what: string): void {
  if (s.role !== "moderator") throw new SlimError("INVALID_ARGUMENT", `${what}: only the moderator can do this`);
  if (s.state !== "open") throw new SlimError("CLOSED", `${what}: session is ${s.state}`);
}

const parse = (n: Name | string): Name => (typeof n === "string" ? Name.parse(n) : n);

/** Others than us, by key. */
const othersOf = (s: GroupSession): string[] => s.roster.keys().filter((k) => k !== memberKey(s.host.name));

function sendUpdate(s: GroupSession, op: GroupUpdateOp, subject: Name, participants: ProtoParticipant[], expect: string[]): Promise<string[]> {
  const id = randomMessageId();
  return s.acks.request(id, expect, () =>
    s.emit(
      { type: SessionMessageType.GROUP_UPDATE, messageId: id, command: { case: "groupUpdate", value: { op, participant: toParticipant(subject), participants } } },
      s.channels.control,
      GROUP_FANOUT,
    ),
  );
}

export function invite(s: GroupSession, target: Name | string): Promise<void> {
  try {
    check(s, "invite");
  } catch (err) {
    return Promise.reject(err);
  }
  const name = parse(target);
  return queue(s, async () => {
    check(s, "invite");
    if (s.roster.findService(name) !== undefined) throw new SlimError("SESSION", `participant already in group: ${name.withoutId().toString()}`);
    const probe = name.withoutId();
    await s.host.routeUp(probe);
    const discoveryId = randomMessageId();
    const reply = await s.control.request(discoveryId, "invite: discovery", () =>
      s.emit({ type: SessionMessageType.DISCOVERY_REQUEST, messageId: discoveryId, command: { case: "discoveryRequest", value: {} } }, probe),
    );
    const found = fromProtoName(publishOf(reply)?.header?.source);
    if (found === undefined) throw new SlimError("PROTOCOL", "discovery reply without a source name");
    await s.host.routeUp(found);

    // official participants refuse a group JOIN_REQUEST without timer settings
    const timerSettings = {
      timeout: s.reliable?.intervalMs ?? DEFAULT_CONTROL_INTERVAL_MS,
      maxRetries: s.reliable?.maxRetries ?? DEFAULT_CONTROL_RETRIES,
    };
    const joinId = randomMessageId();
    await s.control.request(joinId, "invite: join", () =>
      s.emit(
        {
          type: SessionMessageType.JOIN_REQUEST,
          messageId: joinId,
          metadata: new Map(Object.entries(s.metadata)),
          command: { case: "joinRequest", value: { timerSettings, channel: toProtoName(s.channels.data), control: toProtoName(s.channels.control) } },
        },
        found,
      ),
    );

    const already = othersOf(s);
    s.addMember(found);
    const participants = s.roster.names().map(toParticipant);
    // the update goes out only when someone besides the moderator is already in; the welcome right after it
    const update = s.roster.size > 2 ? sendUpdate(s, GroupUpdateOp.ADD, found, participants, already) : Promise.resolve([]);
    const welcomeId = randomMessageId();
    try {
      await s.control.request(welcomeId, "invite: welcome", () =>
        s.emit({ type: SessionMessageType.GROUP_WELCOME, messageId: welcomeId, command: { case: "groupWelcome", value: { participants } } }, found),
      );
    } catch (err) {
      s.dropMember(found);
      throw err;
    }
    // members that never acked the update count as offline (upstream: partial success)
    for (const k of await update) s.endpoints.delete(k);
  });
}

export function remove(s: GroupSession, target: Name | string): Promise<void> {
  try {
    check(s, "remove");
  } catch (err) {
    return Promise.reject(err);
  }
  const name = parse(target);
  return queue(s, async () => {
    check(s, "remove");
    const member = s.roster.findService(name);
    if (member === undefined || memberKey(member) === memberKey(s.host.name)) {
      throw new SlimError("SESSION", `participant not found: ${name.withoutId().toString()}`);
    }
    const before = s.roster.names().map(toParticipant);
    s.dropMember(member);
    if (before.length > 2) await sendUpdate(s, GroupUpdateOp.REMOVE, member, before, othersOf(s));
    const leaveId = randomMessageId();
    await s.control.request(leaveId, "remove: leave", () =>
      s.emit({ type: SessionMessageType.LEAVE_REQUEST, messageId: leaveId, command: { case: "leaveRequest", value: {} } }, member),
    );
  });
}

/** A participant asked to leave (LEAVE_REQUEST with LEAVING_SESSION=TRUE). */
export function onMemberLeaving(s: GroupSession, id: number, source: Name, incomingConn: bigint | undefined): void {
  s.reply(SessionMessageType.LEAVE_REPLY, id, source, incomingConn, { case: "leaveReply", value: {} });
  if (!s.roster.has(source)) return; // a resend: answered again, nothing else
  const before = s.roster.names().map(toParticipant);
  s.dropMember(source);
  if (before.length <= 2) {
    // upstream closes the session when no one else is left
    s.finish(new SlimError("SESSION", `participant disconnected: ${source.toString()}`));
    return;
  }
  void queue(s, () => sendUpdate(s, GroupUpdateOp.REMOVE, source, before, othersOf(s)));
}

/** GROUP_CLOSE to the control channel; resolves once every member acked (or the retries ran out). */
export async function closeGroup(s: GroupSession): Promise<void> {
  await s.tasks;
  const others = othersOf(s);
  if (others.length === 0) return;
  const id = randomMessageId();
  const participants = s.roster.names().map((n) => toProtoName(n));
  await s.acks.request(id, others, () =>
    s.emit({ type: SessionMessageType.GROUP_CLOSE, messageId: id, command: { case: "groupClose", value: { participants } } }, s.channels.control, GROUP_FANOUT),
  );
}
