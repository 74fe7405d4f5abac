// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A group session as the app's store keeps it across a restart (persist/), and
// back: members with their online status, who can process key rotations, the
// data sender's last id and the MLS counters (the MLS group itself is saved
// next to this by the store).

import { Name } from "../../names/name.js";
import type { SavedSession } from "../../persist/session-record.js";
import { memberKey } from "./roster.js";
import type { GroupSession } from "./session.js";

/**
 * Save `s` now if the app saves it; resolves once saved. A failed save was logged, and stopped the
 * session, where it happened (persist/session-store.ts).
 */
export function saveNow(s: GroupSession): Promise<void> {
  return s.saves === undefined ? Promise.resolve() : s.saves.request().catch(() => undefined);
}

/** A roster or MLS change: save soon (saves are shared by what asks meanwhile). */
export function saveSoon(s: GroupSession): void {
  if (s.saves !== undefined) void saveNow(s);
}

export function savedGroup(s: GroupSession): SavedSession {
  const self = memberKey(s.host.name);
  const names = (keys: Iterable<string>) => [...keys].flatMap((k) => (k === self ? [] : (s.roster.byKey(k)?.toString() ?? [])));
  return {
    kind: "group",
    sessionId: s.sessionId,
    role: s.role,
    moderator: s.moderator.toString(),
    channels: { data: s.channels.data.toString(), control: s.channels.control.toString() },
    members: s.roster.names().map((n) => n.toString()),
    offline: names(s.offline),
    canRotate: names(s.canRotate),
    ...(s.reliable === undefined ? {} : { reliable: { ...s.reliable } }),
    metadata: { ...s.metadata },
    lastDataId: s.sender.lastId,
    ...(s.mls === undefined ? {} : { mls: s.mls.saved() }),
  };
}

/** Open again, with the members, counters and status it was saved with (no "joined" events). */
export function resumeGroup(s: GroupSession, saved: Extract<SavedSession, { kind: "group" }>): void {
  s.state = "joining";
  s.sender.resumeAfter(saved.lastDataId);
  s.receiver.acceptAnyStart();
  for (const text of saved.members) s.addMember(Name.parse(text));
  s.state = "open";
  for (const text of saved.offline) {
    const k = memberKey(Name.parse(text));
    if (s.roster.byKey(k) === undefined) continue;
    s.offline.add(k);
    s.missed.delete(k);
    s.endpoints.delete(k);
  }
  for (const text of saved.canRotate) s.canRotate.add(memberKey(Name.parse(text)));
}
