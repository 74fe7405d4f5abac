// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Who in a group is reachable, as upstream tracks it: every member's silence is
// counted in heartbeat ticks (any message from it resets the count); three
// silent ticks mark it offline (no acks expected from it any more). Members can
// also announce it themselves with UPDATE_PARTICIPANT_STATE: a soft close goes
// offline, rejoin comes back. Without MLS there is no epoch to compare, so a
// rejoin is always accepted; with MLS a mismatch is answered with GROUP_NACK.

import { SlimError } from "../../errors.js";
import type { Name } from "../../names/name.js";
import { ParticipantState, SessionMessageType, type ProtoPublish } from "../../wire/gen/dataplane.js";
import { fromProtoName, toProtoName } from "../../wire/names.js";
import { commandOf, randomMessageId } from "../build.js";
import { saveSoon } from "./saved.js";
import { memberKey } from "./roster.js";
import { GROUP_FANOUT, NO_MLS_EPOCH, type GroupSession } from "./session.js";

/** As upstream: three silent heartbeat intervals and a member is offline. */
export const MAX_MISSED_HEARTBEATS = 3;

const ACK = { case: "groupAck" as const, value: {} };

/** Start counting a member's silence (it joined, or is back). */
export function track(s: GroupSession, key: string): void {
  if (key === memberKey(s.host.name)) return;
  s.missed.set(key, 0);
}

/** Anything from a tracked member shows it is alive. */
export function heard(s: GroupSession, key: string): void {
  if (s.missed.has(key)) s.missed.set(key, 0);
}

/** One heartbeat interval passed: count silence, then speak up if we said nothing to the group. */
export function tick(s: GroupSession, intervalMs: number): void {
  if (s.state !== "open" || s.selfOffline) return;
  for (const [k, n] of [...s.missed]) {
    if (n + 1 < MAX_MISSED_HEARTBEATS) {
      s.missed.set(k, n + 1);
      continue;
    }
    s.missed.delete(k);
    markOffline(s, k, `no heartbeat for ${Math.round((MAX_MISSED_HEARTBEATS * intervalMs) / 1000)} s`);
  }
  const others = s.roster.keys().filter((k) => k !== memberKey(s.host.name));
  const allOffline = others.length > 0 && others.every((k) => s.offline.has(k));
  if (!s.sentSinceTick || s.forceHeartbeat || allOffline) {
    s.emit(
      { type: SessionMessageType.HEARTBEAT, messageId: randomMessageId(), command: { case: "heartbeat", value: { epoch: currentEpoch(s) } } },
      s.channels.control,
      GROUP_FANOUT,
    );
  }
  s.sentSinceTick = false;
  s.forceHeartbeat = false;
}

/** The MLS epoch for heartbeats and state updates (u64::MAX without MLS, as upstream). */
function currentEpoch(s: GroupSession): bigint {
  return s.mls?.epoch ?? NO_MLS_EPOCH;
}

/** Stop expecting anything from `key` until it is back. */
export function markOffline(s: GroupSession, key: string, reason: string): void {
  const name = s.roster.byKey(key);
  if (name === undefined || s.offline.has(key)) return;
  s.offline.add(key);
  s.missed.delete(key);
  s.endpoints.delete(key);
  s.sender.dropEndpoint(key);
  s.acks.forget(key);
  s.feed.emit("offline", name, reason);
  saveSoon(s);
}

export function markOnline(s: GroupSession, key: string, reason: string): void {
  const name = s.roster.byKey(key);
  if (name === undefined || !s.offline.delete(key)) return;
  track(s, key);
  if (s.reliable !== undefined) s.endpoints.add(key);
  s.feed.emit("online", name, reason);
  saveSoon(s);
}

/**
 * A HEARTBEAT: an offline member that speaks again is back (and hears from us at the next tick).
 * A participant that sees the moderator at a later MLS epoch missed a commit: it asks to rejoin.
 */
export function onHeartbeat(s: GroupSession, source: Name, p?: ProtoPublish): void {
  const cmd = p === undefined ? undefined : commandOf(p);
  const epoch = cmd?.case === "heartbeat" ? cmd.value.epoch : undefined;
  const ours = s.mls?.epoch;
  if (
    s.role === "participant" && epoch !== undefined && epoch !== NO_MLS_EPOCH && ours !== undefined && epoch > ours &&
    memberKey(source) === memberKey(s.moderator) && !s.rejoining && !s.selfOffline && !s.statusChange
  ) {
    s.statusChange = true;
    rejoinMls(s)
      .catch((err: unknown) => s.host.log?.info("rejoin after a missed commit failed", { error: SlimError.from(err).message }))
      .finally(() => (s.statusChange = false));
  }
  const k = memberKey(source);
  if (!s.offline.has(k)) return;
  markOnline(s, k, "heartbeat received");
  s.forceHeartbeat = true;
}

/** UPDATE_PARTICIPANT_STATE from another member: acked only when it changed something, as upstream. */
export function onStateUpdate(s: GroupSession, p: ProtoPublish, source: Name): void {
  const cmd = commandOf(p);
  if (cmd?.case !== "updateParticipantState") return;
  const subject = fromProtoName(cmd.value.participant);
  if (subject === undefined || memberKey(subject) === memberKey(s.host.name)) return;
  const member = s.roster.findService(subject);
  if (member === undefined) return;
  const k = memberKey(member);
  if (cmd.value.newState === ParticipantState.OFFLINE) {
    if (s.offline.has(k)) return;
    markOffline(s, k, "went offline (soft close)");
  } else {
    // with MLS, coming back at an epoch other than ours needs a rejoin: say no
    if (s.mls?.epoch !== undefined && cmd.value.epoch !== s.mls.epoch) {
      s.reply(SessionMessageType.GROUP_NACK, p.session!.messageId, source, p.header!.incomingConn, { case: "groupNack", value: {} });
      return;
    }
    markOnline(s, k, "rejoined");
  }
  s.reply(SessionMessageType.GROUP_ACK, p.session!.messageId, source, p.header!.incomingConn, ACK);
}

function stateUpdate(s: GroupSession, state: ParticipantState, epoch: bigint, expect: string[], nacked?: Set<string>): Promise<string[]> {
  const id = randomMessageId();
  return s.acks.request(
    id,
    expect,
    () =>
    s.emit(
      {
        type: SessionMessageType.UPDATE_PARTICIPANT_STATE,
        messageId: id,
        command: { case: "updateParticipantState", value: { participant: toProtoName(s.host.name), newState: state, epoch } },
      },
      s.channels.control,
      GROUP_FANOUT,
    ),
    nacked,
  );
}

/**
 * Soft close: tell the others we are offline and wait for their acks (or the retries).
 * We stay a member: nothing is sent or delivered until rejoin().
 */
export async function goOffline(s: GroupSession): Promise<void> {
  if (s.state !== "open") throw new SlimError("CLOSED", `soft close: session is ${s.state}`);
  if (s.selfOffline) return;
  if (s.statusChange) throw new SlimError("SESSION", "a status change is already in progress");
  s.statusChange = true;
  try {
    const online = s.roster.keys().filter((k) => k !== memberKey(s.host.name) && !s.offline.has(k));
    s.selfOffline = true;
    await stateUpdate(s, ParticipantState.OFFLINE, currentEpoch(s), online);
  } finally {
    s.statusChange = false;
  }
}

/**
 * Back online after a soft close: every other member is offline until it acks our
 * ONLINE state; the ones that do not stay offline.
 */
export async function rejoin(s: GroupSession): Promise<void> {
  if (s.state !== "open") throw new SlimError("CLOSED", `rejoin: session is ${s.state}`);
  if (!s.selfOffline) return;
  if (s.statusChange) throw new SlimError("SESSION", "a status change is already in progress");
  s.statusChange = true;
  try {
    const others = s.roster.keys().filter((k) => k !== memberKey(s.host.name));
    for (const k of others) {
      s.offline.add(k);
      s.missed.delete(k);
      s.endpoints.delete(k);
    }
    // upstream sends the epoch (0 without MLS) and expects an ack from everyone
    const nacked = new Set<string>();
    const silent = new Set(await stateUpdate(s, ParticipantState.ONLINE, s.mls?.epoch ?? 0n, others, nacked));
    // the group moved on while we were away: the moderator re-adds us with a fresh key package
    if (nacked.size > 0 && s.mls !== undefined && s.role === "participant") await rejoinMls(s);
    s.selfOffline = false;
    for (const k of others) {
      if (silent.has(k)) {
        const n = s.roster.byKey(k);
        if (n !== undefined) s.feed.emit("offline", n, "did not answer our rejoin");
        continue;
      }
      s.offline.delete(k);
      track(s, k);
      if (s.reliable !== undefined) s.endpoints.add(k);
    }
    s.forceHeartbeat = true;
  } finally {
    s.statusChange = false;
  }
}

/** REJOIN_REQUEST with a fresh key package; the moderator answers REJOIN_REPLY with a Welcome. */
async function rejoinMls(s: GroupSession): Promise<void> {
  s.rejoining = true;
  // as upstream, done once both the Welcome and the GROUP_UPDATE(REJOIN) the others apply arrived
  // (bounded: a lost update leaves us in the group anyway)
  let timer: NodeJS.Timeout | undefined;
  const updated = new Promise<void>((resolve) => {
    s.rejoinUpdated = resolve;
    const r = s.reliable ?? { intervalMs: 1_000, maxRetries: 5 };
    timer = setTimeout(resolve, r.intervalMs * (r.maxRetries + 1));
  });
  try {
    const keyPackage = await s.mls!.keyPackage();
    const id = randomMessageId();
    await s.control.request(id, "rejoin", () =>
      s.emit(
        { type: SessionMessageType.REJOIN_REQUEST, messageId: id, command: { case: "rejoinRequest", value: { participant: toProtoName(s.host.name), keyPackage } } },
        s.moderator,
      ),
    );
    await updated;
  } finally {
    clearTimeout(timer);
    s.rejoining = false;
    s.rejoinUpdated = undefined;
  }
}

/**
 * Restored after a restart: tell the others we are back (UPDATE_PARTICIPANT_STATE ONLINE with our
 * epoch), as upstream does on restore. Not awaited by the restore: the session is usable at once.
 * A NACK means the group moved on while we were away: a participant asks to be re-added.
 */
export async function announceRestored(s: GroupSession): Promise<void> {
  const others = s.roster.keys().filter((k) => k !== memberKey(s.host.name) && !s.offline.has(k));
  if (others.length === 0) return;
  const nacked = new Set<string>();
  await stateUpdate(s, ParticipantState.ONLINE, s.mls?.epoch ?? 0n, others, nacked);
  if (nacked.size > 0 && s.mls !== undefined && s.role === "participant" && !s.rejoining) await rejoinMls(s);
}
