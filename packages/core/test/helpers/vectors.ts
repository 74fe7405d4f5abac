// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** ../shared sits beside the repository root (CI clones it there too). */
export const SHARED = fileURLToPath(new URL("../../../../../shared/", import.meta.url));

export function sharedFile(rel: string): string {
  const p = `${SHARED}${rel}`;
  if (!existsSync(p)) throw new Error(`missing ${p}: the shared/ folder must sit beside the repository`);
  return readFileSync(p, "utf8");
}

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
