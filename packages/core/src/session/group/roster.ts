// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Group members: full names keyed by their encoded name (hashes and id), the
// key the data sender and receiver use for per-endpoint state.

import type { Name } from "../../names/name.js";
import type { ProtoParticipant } from "../../wire/gen/dataplane.js";
import { fromProtoName, toProtoName } from "../../wire/names.js";

export const memberKey = (n: Name): string => `${n.hashes[0]}.${n.hashes[1]}.${n.hashes[2]}.${n.id}`;

/** Same service (org/ns/svc), whatever the instance id. */
export const sameService = (a: Name, b: Name): boolean =>
  a.hashes[0] === b.hashes[0] && a.hashes[1] === b.hashes[1] && a.hashes[2] === b.hashes[2];

export function toParticipant(n: Name): ProtoParticipant {
  return { name: toProtoName(n), settings: { sendsData: true, receivesData: true }, status: 0 };
}

export function fromParticipants(list: ProtoParticipant[]): Name[] {
  const out: Name[] = [];
  for (const p of list) {
    const n = fromProtoName(p.name);
    if (n !== undefined) out.push(n);
  }
  return out;
}

export class Roster {
  private readonly members = new Map<string, Name>();

  add(n: Name): string {
    const k = memberKey(n);
    this.members.set(k, n);
    return k;
  }

  delete(n: Name): boolean {
    return this.members.delete(memberKey(n));
  }

  has(n: Name): boolean {
    return this.members.has(memberKey(n));
  }

  /** The member of service `n` (any instance id). */
  findService(n: Name): Name | undefined {
    for (const m of this.members.values()) if (sameService(m, n)) return m;
    return undefined;
  }

  byKey(k: string): Name | undefined {
    return this.members.get(k);
  }

  reset(names: Name[]): void {
    this.members.clear();
    for (const n of names) this.add(n);
  }

  get size(): number {
    return this.members.size;
  }

  names(): Name[] {
    return [...this.members.values()];
  }

  keys(): string[] {
    return [...this.members.keys()];
  }
}
