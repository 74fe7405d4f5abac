// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { SlimError } from "../errors.js";
import { xxh64 } from "./xxh64.js";

/** The all-ones 128-bit id: "no specific instance", matches any instance of a name. */
export const ANY_ID = (1n << 128n) - 1n;
const U64 = (1n << 64n) - 1n;
/** Ids at or above this value are reserved by the official implementation. */
export const RESERVED_ID_FLOOR = ANY_ID - 50n;

const utf8 = new TextEncoder();
const MAX_COMPONENT_BYTES = 1024;

/** Hash of one name component as the official implementation computes it: XXH64(utf8 ‖ 0xFF, seed 0). */
export function componentHash(component: string): bigint {
  const bytes = utf8.encode(component);
  const buf = new Uint8Array(bytes.length + 1);
  buf.set(bytes);
  buf[bytes.length] = 0xff;
  return xxh64(buf);
}

function checkComponent(c: string, what: string): void {
  if (c.length === 0) throw new SlimError("INVALID_ARGUMENT", `name ${what} component is empty`);
  if (c.includes("/")) throw new SlimError("INVALID_ARGUMENT", `name ${what} component contains '/'`);
  if (utf8.encode(c).length > MAX_COMPONENT_BYTES) {
    throw new SlimError("INVALID_ARGUMENT", `name ${what} component is longer than ${MAX_COMPONENT_BYTES} bytes`);
  }
}

/** Format a 128-bit id the way the official code shows it (UUID text of the big-endian value). */
export function formatId(id: bigint): string {
  const h = id.toString(16).padStart(32, "0");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function parseId(text: string): bigint {
  const hex = text.replace(/-/g, "");
  if (!/^[0-9a-fA-F]{1,32}$/.test(hex)) throw new SlimError("INVALID_ARGUMENT", `invalid name id: ${JSON.stringify(text)}`);
  return BigInt(`0x${hex}`);
}

/**
 * A SLIM name: three string components (organisation, namespace, service) plus a
 * 128-bit instance id. The wire carries both the hashes and the strings.
 */
export class Name {
  readonly components: readonly [string, string, string];
  readonly hashes: readonly [bigint, bigint, bigint];
  readonly id: bigint;

  /** Build from components; throws SlimError("INVALID_ARGUMENT") on bad input. */
  constructor(org: string, namespace: string, service: string, id: bigint = ANY_ID) {
    checkComponent(org, "organisation");
    checkComponent(namespace, "namespace");
    checkComponent(service, "service");
    if (id < 0n || id > ANY_ID) throw new SlimError("INVALID_ARGUMENT", "name id must be an unsigned 128-bit integer");
    this.components = [org, namespace, service];
    this.hashes = [componentHash(org), componentHash(namespace), componentHash(service)];
    this.id = id;
  }

  /** Internal: adopt already-hashed components (from the wire); strings are trusted to match. */
  static fromParts(
    components: readonly [string, string, string],
    hashes: readonly [bigint, bigint, bigint],
    id: bigint,
  ): Name {
    const n = Object.create(Name.prototype) as { -readonly [K in keyof Name]: Name[K] };
    n.components = components;
    n.hashes = hashes;
    n.id = id;
    return n as Name;
  }

  /** Parse `org/ns/svc` or `org/ns/svc/<id>` (id as UUID text or up to 32 hex digits). */
  static parse(text: string): Name {
    if (typeof text !== "string") throw new SlimError("INVALID_ARGUMENT", "name must be a string");
    const parts = text.split("/");
    if (parts.length !== 3 && parts.length !== 4) {
      throw new SlimError("INVALID_ARGUMENT", `invalid name ${JSON.stringify(text.slice(0, 100))}: expected org/namespace/service[/id]`);
    }
    const [a, b, c, id] = parts as [string, string, string, string | undefined];
    return new Name(a, b, c, id === undefined ? ANY_ID : parseId(id));
  }

  get hasId(): boolean {
    return this.id !== ANY_ID;
  }

  /** id split as on the wire: id0 = high 64 bits, id1 = low 64 bits. */
  get idParts(): [bigint, bigint] {
    return [this.id >> 64n, this.id & U64];
  }

  withId(id: bigint): Name {
    return Name.fromParts(this.components, this.hashes, id);
  }

  withoutId(): Name {
    return this.withId(ANY_ID);
  }

  /** Same components and id. */
  equals(other: Name): boolean {
    return this.sameService(other) && this.id === other.id;
  }

  /** Same three components, ignoring the id. */
  sameService(other: Name): boolean {
    return this.hashes[0] === other.hashes[0] && this.hashes[1] === other.hashes[1] && this.hashes[2] === other.hashes[2];
  }

  toString(): string {
    const base = this.components.join("/");
    return this.hasId ? `${base}/${formatId(this.id)}` : base;
  }

  toJSON(): string {
    return this.toString();
  }
}
