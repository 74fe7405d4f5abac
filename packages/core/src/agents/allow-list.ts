// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Which SLIM names a model may address. Tools take names from an LLM, so the
// app decides up front who is reachable: exact service names (`org/ns/svc`,
// any instance), namespace wildcards (`org/ns/*`), or a predicate.

import { SlimError } from "../errors.js";
import { Name } from "../names/name.js";

export type AllowInput = readonly (string | Name)[] | ((name: Name) => boolean);

export class AllowList {
  private readonly exact = new Set<string>();
  private readonly prefixes: string[] = [];
  private readonly predicate: ((name: Name) => boolean) | undefined;

  constructor(input: AllowInput) {
    if (typeof input === "function") {
      this.predicate = input;
      return;
    }
    for (const entry of input) {
      const text = entry.toString();
      if (typeof entry === "string" && text.endsWith("/*")) {
        const prefix = text.slice(0, -1);
        if (prefix.split("/").length !== 3) throw new SlimError("INVALID_ARGUMENT", `invalid allow-list entry ${JSON.stringify(text)}: expected org/ns/*`);
        this.prefixes.push(prefix);
        continue;
      }
      const name = typeof entry === "string" ? Name.parse(entry) : entry;
      this.exact.add(name.withoutId().toString());
    }
  }

  /** Whether `name` may be addressed; unparsable names never may. */
  has(name: Name | string): boolean {
    let n: Name;
    try {
      n = typeof name === "string" ? Name.parse(name) : name;
    } catch {
      return false;
    }
    if (this.predicate !== undefined) return this.predicate(n);
    const base = n.withoutId().toString();
    return this.exact.has(base) || this.prefixes.some((p) => base.startsWith(p));
  }

  /** The allowed entries, for error messages and tool descriptions (empty for a predicate). */
  entries(): string[] {
    return [...this.exact, ...this.prefixes.map((p) => `${p}*`)];
  }

  /**
   * Parse `name` and check it; throws SlimError("INVALID_ARGUMENT") naming the
   * allowed peers, written so a model can correct its next call.
   */
  check(name: string, what = "peer"): Name {
    let parsed: Name;
    try {
      parsed = Name.parse(name);
    } catch (err) {
      throw new SlimError("INVALID_ARGUMENT", `${JSON.stringify(name)} is not a SLIM name (expected org/namespace/service)`, { cause: err });
    }
    if (!this.has(parsed)) {
      const listed = this.entries();
      const hint = listed.length === 0 ? "" : `; allowed: ${listed.join(", ")}`;
      throw new SlimError("INVALID_ARGUMENT", `${what} ${JSON.stringify(name)} is not on the allow-list${hint}`);
    }
    return parsed;
  }
}
