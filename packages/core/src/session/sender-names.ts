// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Who sent a session message, as a Name and the key a session's tables use, without
// rebuilding both from the wire for every message of a sender seen before.

import type { Name } from "../names/name.js";
import type { ProtoName } from "../wire/gen/dataplane.js";
import { fromProtoName, sameProtoName } from "../wire/names.js";

/** Senders kept at once (a flood of strangers only resets the cache). */
const MAX_CACHED_SENDERS = 1_024;

export interface Sender {
  readonly name: Name;
  readonly key: string;
}

/** Senders by the low half of their instance id, each checked against the wire name (hashes and id) before use. */
export class SenderNames {
  private readonly byId = new Map<bigint, Sender & { wire: ProtoName }>();

  /** `keyOf`: the session's table key for a sender. */
  constructor(private readonly keyOf: (wire: ProtoName, name: Name) => string) {}

  /** undefined when the wire name lacks its hashes or strings. */
  of(wire: ProtoName | undefined): Sender | undefined {
    const idLow = wire?.name?.nameId?.id1;
    if (idLow !== undefined) {
      const known = this.byId.get(idLow);
      if (known !== undefined && sameProtoName(wire, known.wire)) return known;
    }
    const name = fromProtoName(wire);
    if (name === undefined) return undefined;
    const entry = { wire: wire!, name, key: this.keyOf(wire!, name) };
    if (idLow !== undefined) {
      if (this.byId.size >= MAX_CACHED_SENDERS) this.byId.clear();
      this.byId.set(idLow, entry);
    }
    return entry;
  }
}
