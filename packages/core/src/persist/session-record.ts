// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// What is saved of a session to restore it after a restart, and its encoding:
//
//   u8 version(1) ‖ u32 n ‖ n bytes of JSON (SavedSession) ‖ the MLS group (mls/persist.ts), if any
//
// The JSON part is checked with zod on the way in; names are kept as text
// (org/ns/svc/<id>). The whole record is sealed by the store (store.ts).

import { z } from "zod";
import { SlimError } from "../errors.js";
import { Name } from "../names/name.js";

const VERSION = 1;
const HEAD = 5;
const MAX_JSON_BYTES = 4 * 1024 * 1024;

const NameText = z.string().min(5).max(1024).refine((t) => {
  try {
    Name.parse(t);
    return true;
  } catch {
    return false;
  }
}, "not a name");

const SavedMlsSchema = z.strictObject({
  ciphersuite: z.union([z.literal(1), z.literal(2)]).optional(),
  headerIntegrityPercent: z.int().min(0).max(100),
  rotateEveryMs: z.int().positive().optional(),
  commitId: z.int().nonnegative(),
  identities: z.array(z.tuple([z.string().max(512), z.string().max(4096)])).max(100_000),
});

const Common = {
  sessionId: z.int().min(0).max(0xffff_ffff),
  reliable: z.strictObject({ intervalMs: z.int().positive(), maxRetries: z.int().nonnegative() }).optional(),
  metadata: z.record(z.string(), z.string()),
  /** The data sender's last message id: a restored sender goes on after it. */
  lastDataId: z.int().nonnegative(),
  mls: SavedMlsSchema.optional(),
};

export const SavedSessionSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("p2p"), initiator: z.boolean(), peer: NameText, ...Common }),
  z.strictObject({
    kind: z.literal("group"),
    role: z.enum(["moderator", "participant"]),
    moderator: NameText,
    channels: z.strictObject({ data: NameText, control: NameText }),
    members: z.array(NameText).max(100_000),
    offline: z.array(NameText).max(100_000),
    /** Moderator: members that can process key rotations. */
    canRotate: z.array(NameText).max(100_000),
    ...Common,
  }),
]);
export type SavedSession = z.infer<typeof SavedSessionSchema>;

export const recordName = (sessionId: number): string => `session-${sessionId}`;
export const RECORD_PREFIX = "session-";

export function encodeRecord(saved: SavedSession, mls: Uint8Array | undefined): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(saved));
  const out = new Uint8Array(HEAD + json.length + (mls?.length ?? 0));
  out[0] = VERSION;
  new DataView(out.buffer).setUint32(1, json.length);
  out.set(json, HEAD);
  if (mls !== undefined) out.set(mls, HEAD + json.length);
  return out;
}

/** SlimError("STORAGE") for a record this version does not read. */
export function decodeRecord(bytes: Uint8Array): { saved: SavedSession; mls: Uint8Array | undefined } {
  if (bytes.length < HEAD || bytes[0] !== VERSION) throw new SlimError("STORAGE", `session record of unknown version ${bytes[0] ?? "(empty)"}`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1);
  if (n > MAX_JSON_BYTES || HEAD + n > bytes.length) throw new SlimError("STORAGE", "session record is truncated");
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(HEAD, HEAD + n)));
  } catch (err) {
    throw new SlimError("STORAGE", "session record is not readable", { cause: err });
  }
  const parsed = SavedSessionSchema.safeParse(json);
  if (!parsed.success) throw new SlimError("STORAGE", `session record is malformed:\n${z.prettifyError(parsed.error)}`);
  const rest = bytes.subarray(HEAD + n);
  if ((parsed.data.mls === undefined) !== (rest.length === 0)) throw new SlimError("STORAGE", "session record and its MLS group do not match");
  return { saved: parsed.data, mls: rest.length === 0 ? undefined : rest };
}
