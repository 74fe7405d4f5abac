// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Conversions between the domain Name and the wire ProtoName.

import { ANY_ID, Name } from "../names/name.js";
import type { ProtoName } from "./gen/dataplane.js";

const U64 = (1n << 64n) - 1n;

export function toProtoName(n: Name): ProtoName {
  return {
    name: {
      component0: n.hashes[0],
      component1: n.hashes[1],
      component2: n.hashes[2],
      nameId: { id0: n.id >> 64n, id1: n.id & U64 },
    },
    strName: { strComponent0: n.components[0], strComponent1: n.components[1], strComponent2: n.components[2] },
  };
}

const cache = new WeakMap<Name, ProtoName>();

/**
 * toProtoName memoised per Name instance, for the hot publish path. The result
 * is shared: callers must not mutate it.
 */
export function protoNameOf(n: Name): ProtoName {
  let p = cache.get(n);
  if (p === undefined) cache.set(n, (p = toProtoName(n)));
  return p;
}

/** The 128-bit id of a wire name; an absent id means "any instance". */
export function protoNameId(p: ProtoName): bigint {
  const id = p.name?.nameId;
  return id === undefined ? ANY_ID : (id.id0 << 64n) | id.id1;
}

/** Whether a wire name has the same hashes and instance id as `b` (the strings are not compared: routing trusts the hashes). */
export function sameProtoName(a: ProtoName | undefined, b: ProtoName): boolean {
  const x = a?.name;
  const y = b.name;
  if (x === undefined || y === undefined) return false;
  return (
    x.component0 === y.component0 &&
    x.component1 === y.component1 &&
    x.component2 === y.component2 &&
    x.nameId?.id0 === y.nameId?.id0 &&
    x.nameId?.id1 === y.nameId?.id1
  );
}

/**
 * Rebuild a domain Name from the wire. Trusts the hashes (routing uses them)
 * and keeps the strings for display; returns undefined when parts are missing.
 */
export function fromProtoName(p: ProtoName | undefined): Name | undefined {
  const e = p?.name;
  const s = p?.strName;
  if (e === undefined || s === undefined) return undefined;
  return Name.fromParts(
    [s.strComponent0, s.strComponent1, s.strComponent2],
    [e.component0, e.component1, e.component2],
    protoNameId(p!),
  );
}

export function protoNameToString(p: ProtoName | undefined): string {
  if (p === undefined) return "<none>";
  const s = p.strName;
  const base = s === undefined ? "<no str_name>" : `${s.strComponent0}/${s.strComponent1}/${s.strComponent2}`;
  const id = protoNameId(p);
  return id === ANY_ID ? base : `${base}/${id.toString(16).padStart(32, "0")}`;
}
