// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The moderator's side of a group: invite (DISCOVERY, JOIN, then GROUP_UPDATE(ADD)
// to the members already in and GROUP_WELCOME to the newcomer), remove
// (GROUP_UPDATE(REMOVE), then LEAVE_REQUEST), a member leaving on its own, and
// close (GROUP_CLOSE). Invites and removals run one at a time, as upstream.

import { SlimError } from "../../errors.js";
import { Name } from "../../names/name.js";
import { GroupUpdateOp, SessionMessageType, type ProtoParticipant, type ProtoPublish } from "../../wire/gen/dataplane.js";
import { fromProtoName, toProtoName } from "../../wire/names.js";
import { commandOf, publishOf, randomMessageId } from "../build.js";
import { DEFAULT_CONTROL_INTERVAL_MS, DEFAULT_CONTROL_RETRIES } from "../control.js";
import { markOnline } from "./presence.js";
import { saveNow } from "./saved.js";
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
/** Others that can answer (offline members drop everything until they rejoin). */
const onlineOthersOf = (s: GroupSession): string[] => othersOf(s).filter((k) => !s.offline.has(k));

/** A roster change for the members, with its MLS commit when MLS is on. */
export function sendUpdate(
  s: GroupSession,
  op: GroupUpdateOp,
  subject: Name,
  participants: ProtoParticipant[],
  expect: string[],
  mls?: { commitId: number; mlsContent: Uint8Array },
  metadata?: Map<string, string>,
): Promise<string[]> {
  const id = randomMessageId();
  return s.acks.request(id, expect, () =>
    s.emit(
      {
        type: SessionMessageType.GROUP_UPDATE,
        messageId: id,
        ...(metadata === undefined ? {} : { metadata }),
        command: { case: "groupUpdate", value: { op, participant: toParticipant(subject), participants, ...(mls === undefined ? {} : { mls }) } },
      },
      s.channels.control,
      GROUP_FANOUT,
    ),
  );
}

/** Members that can take part in what only our apps implement (they said so when they joined). */
export const SLIM_TS_CAPS = "SLIM_TS_CAPS";

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
    const mlsSettings = s.mls === undefined ? {} : { mlsSettings: { headerIntegrityValidationPercent: s.mls.headerIntegrityPercent } };
    const joinReply = await s.control.request(joinId, "invite: join", () =>
      s.emit(
        {
          type: SessionMessageType.JOIN_REQUEST,
          messageId: joinId,
          metadata: new Map(Object.entries(s.metadata)),
          command: { case: "joinRequest", value: { timerSettings, channel: toProtoName(s.channels.data), control: toProtoName(s.channels.control), ...mlsSettings } },
        },
        found,
      ),
    );

    // with MLS: add its key package (one add per commit); the others get the commit, it the Welcome
    let added: { commitId: number; commit: Uint8Array; welcome: Uint8Array } | undefined;
    if (s.mls !== undefined) {
      const jr = publishOf(joinReply);
      const cmd = jr === undefined ? undefined : commandOf(jr);
      const kp = cmd?.case === "joinReply" ? cmd.value.keyPackage : undefined;
      if (kp === undefined || kp.length === 0) throw new SlimError("MLS", `${found.withoutId().toString()} joined without a key package: it does not do MLS`);
      added = await s.mls.add(memberKey(found), kp);
      await saveNow(s); // a restart must not come back an epoch behind the commit we send
    }
    if (joinReply.metadata.get(SLIM_TS_CAPS)?.split(",").includes("rotate") === true) s.canRotate.add(memberKey(found));

    const already = onlineOthersOf(s);
    s.addMember(found);
    const participants = s.roster.names().map(toParticipant);
    // the update goes out only when someone besides the moderator is already in; the welcome right after it
    const commit = added === undefined ? undefined : { commitId: added.commitId, mlsContent: added.commit };
    const update = s.roster.size > 2 ? sendUpdate(s, GroupUpdateOp.ADD, found, participants, already, commit) : Promise.resolve([]);
    const welcomeId = randomMessageId();
    const welcomeMls = added === undefined ? {} : { mls: { commitId: added.commitId, mlsContent: added.welcome } };
    try {
      await s.control.request(welcomeId, "invite: welcome", () =>
        s.emit({ type: SessionMessageType.GROUP_WELCOME, messageId: welcomeId, command: { case: "groupWelcome", value: { participants, ...welcomeMls } } }, found),
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
    const commit = await removeFromMls(s, member);
    s.dropMember(member);
    if (before.length > 2 || commit !== undefined) await sendUpdate(s, GroupUpdateOp.REMOVE, member, before, onlineOthersOf(s), commit);
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
  void queue(s, async () => sendUpdate(s, GroupUpdateOp.REMOVE, source, before, onlineOthersOf(s), await removeFromMls(s, source)));
}

/** The MLS commit removing `member` (with an update path), when MLS is on. */
async function removeFromMls(s: GroupSession, member: Name): Promise<{ commitId: number; mlsContent: Uint8Array } | undefined> {
  if (s.mls === undefined) return undefined;
  s.canRotate.delete(memberKey(member));
  const r = await s.mls.remove(memberKey(member));
  await saveNow(s);
  return r === undefined ? undefined : { commitId: r.commitId, mlsContent: r.commit };
}

/** GROUP_CLOSE to the control channel; resolves once every member acked (or the retries ran out). */
export async function closeGroup(s: GroupSession): Promise<void> {
  await s.tasks;
  const others = onlineOthersOf(s);
  if (others.length === 0) return;
  const id = randomMessageId();
  const participants = s.roster.names().map((n) => toProtoName(n));
  await s.acks.request(id, others, () =>
    s.emit({ type: SessionMessageType.GROUP_CLOSE, messageId: id, command: { case: "groupClose", value: { participants } } }, s.channels.control, GROUP_FANOUT),
  );
}

/**
 * A member missed commits (it was offline, or a NACK told it so): re-add it from its fresh key
 * package in one commit, Welcome it back (REJOIN_REPLY, sent once, as upstream), and give the
 * others the commit (GROUP_UPDATE(REJOIN), always sent).
 */
export function onRejoinRequest(s: GroupSession, p: ProtoPublish, source: Name): void {
  const cmd = commandOf(p);
  if (cmd?.case !== "rejoinRequest" || s.mls === undefined) return;
  const member = s.roster.has(source) ? source : s.roster.findService(source);
  if (member === undefined) return;
  const requestId = p.session!.messageId;
  const conn = p.header!.incomingConn;
  const keyPackage = cmd.value.keyPackage;
  void queue(s, async () => {
    const r = await s.mls!.rejoin(memberKey(member), keyPackage);
    await saveNow(s);
    s.reply(SessionMessageType.REJOIN_REPLY, requestId, source, conn, { case: "rejoinReply", value: { commitId: r.commitId, mlsContent: r.welcome } });
    markOnline(s, memberKey(member), "rejoined");
    const participants = s.roster.names().map(toParticipant);
    await sendUpdate(s, GroupUpdateOp.REJOIN, member, participants, onlineOthersOf(s), { commitId: r.commitId, mlsContent: r.commit });
  }).catch(() => undefined);
}

/**
 * Key rotation (absent upstream): an empty commit gives every member new keys; the old epoch's
 * keys open nothing sent after it. Only when every member said it can process one, since
 * official members cannot (their GroupProposal handling is unimplemented).
 */
export function rotateKeys(s: GroupSession): Promise<bigint> {
  try {
    check(s, "rotate keys");
  } catch (err) {
    return Promise.reject(err);
  }
  if (s.mls === undefined) return Promise.reject(new SlimError("MLS", "rotate keys: this session does not use MLS"));
  return queue(s, async () => {
    const others = othersOf(s);
    const unable = others.filter((k) => !s.canRotate.has(k)).map((k) => s.roster.byKey(k)?.toString() ?? k);
    if (unable.length > 0) throw new SlimError("MLS", `rotate keys: some members cannot process a key update (official apps): ${unable.join(", ")}`);
    const r = await s.mls!.rotate();
    await saveNow(s);
    const silent = await sendUpdate(s, GroupUpdateOp.REJOIN, s.host.name, s.roster.names().map(toParticipant), onlineOthersOf(s), { commitId: r.commitId, mlsContent: r.commit }, new Map([[ROTATION_KEY, "TRUE"]]));
    for (const k of silent) s.endpoints.delete(k);
    return s.mls!.epoch!;
  });
}

/** Marks a GROUP_UPDATE that only rotates keys. */
export const ROTATION_KEY = "SLIM_TS_KEY_ROTATION";
