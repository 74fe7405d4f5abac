// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The sessions of an app with persistence, in its store: each open session is
// saved (coalesced, see checkpoints.ts) when its roster, MLS group or message
// counters change, its record is removed when it ends for good, and the records
// are read back on restore. The app's identity is kept there too, so a restarted
// app has the same name id and signing key as the one that saved its sessions.

import { z } from "zod";
import { P256SigningKey } from "../auth/p256.js";
import { SharedSecretProvider } from "../auth/shared-secret.js";
import type { IdentityProvider } from "../auth/types.js";
import { SlimError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Name } from "../names/name.js";
import type { SessionMls } from "../session/mls-session.js";
import { Checkpoints } from "./checkpoints.js";
import { decodeRecord, encodeRecord, RECORD_PREFIX, recordName, type SavedSession } from "./session-record.js";
import type { AppStore } from "./store.js";

/** What the store needs from a session. */
export interface Persistable {
  readonly sessionId: number;
  readonly mls?: SessionMls | undefined;
  saves: Checkpoints | undefined;
  /** Stopped with its record kept (the app closing), not ended: the layer does not delete the record. */
  suspended: boolean;
  saved(): SavedSession;
  /** A save failed: what it promised (no key or message id used twice) cannot be kept, so the session stops. */
  finish(err: SlimError): void;
}

export class SessionStore {
  constructor(
    private readonly store: AppStore,
    private readonly log: Logger,
  ) {}

  /** Save `s` from now on (it is open); the first save starts now. */
  attach(s: Persistable): void {
    if (s.saves !== undefined) return;
    s.saves = new Checkpoints(() =>
      this.save(s).catch((err: unknown) => {
        const e = SlimError.from(err, "STORAGE");
        this.log.warn("session state not saved: the session stops", { session: s.sessionId, error: e.message });
        s.finish(new SlimError("STORAGE", `the session state could not be saved, so the session stopped: ${e.message}`, { cause: e }));
        throw e;
      }),
    );
    s.saves.request().catch((err: unknown) => this.log.warn("session state not saved", { session: s.sessionId, error: SlimError.from(err).message }));
  }

  private async save(s: Persistable): Promise<void> {
    const saved = s.saved();
    const group = s.mls === undefined ? undefined : await s.mls.snapshot();
    if (s.mls !== undefined && group === undefined) return; // out of the group: nothing to come back to
    const body = encodeRecord(saved, group);
    group?.fill(0);
    try {
      await this.store.write(recordName(s.sessionId), body);
    } finally {
      body.fill(0);
    }
  }

  /**
   * The app keeps `s` for its next start: save it (a failure is logged where it happens), then stop it
   * locally without telling anyone; the others see it go silent, and back once restored.
   */
  async suspend(s: Persistable): Promise<void> {
    await s.saves?.request().catch(() => undefined);
    s.suspended = true;
    s.finish(new SlimError("CLOSED", "the app closed; the session is saved for its next start"));
  }

  /** `s` ended for good: no more saves, and its record goes. */
  async forget(s: Persistable): Promise<void> {
    const saves = s.saves;
    if (saves === undefined) return;
    saves.close();
    await saves.idle();
    await this.store.remove(recordName(s.sessionId));
  }

  /** Every readable session record; the others are logged and left in place. */
  async load(): Promise<Array<{ saved: SavedSession; group: Uint8Array | undefined }>> {
    const out: Array<{ saved: SavedSession; group: Uint8Array | undefined }> = [];
    for (const name of await this.store.list(RECORD_PREFIX)) {
      try {
        const body = await this.store.read(name);
        if (body === undefined) continue;
        const { saved, mls } = decodeRecord(body);
        if (recordName(saved.sessionId) !== name) throw new SlimError("STORAGE", `record ${name} holds session ${saved.sessionId}`);
        out.push({ saved, group: mls });
      } catch (err) {
        this.log.warn("saved session not restored", { record: name, error: SlimError.from(err).message });
      }
    }
    return out;
  }
}

const IDENTITY = "identity";
const SavedIdentitySchema = z.strictObject({
  v: z.literal(1),
  tokenId: z.string().min(1).max(1024),
  /** The P-256 private scalar, base64. */
  signingKey: z.base64().max(64),
});

function readIdentity(bytes: Uint8Array): z.infer<typeof SavedIdentitySchema> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw new SlimError("STORAGE", "the saved identity is not readable", { cause: err });
  }
  const parsed = SavedIdentitySchema.safeParse(json);
  if (!parsed.success) throw new SlimError("STORAGE", `the saved identity is malformed:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function savedKey(saved: z.infer<typeof SavedIdentitySchema>): P256SigningKey {
  const scalar = Buffer.from(saved.signingKey, "base64");
  try {
    return P256SigningKey.fromPrivateScalar(scalar);
  } catch (err) {
    throw new SlimError("STORAGE", "the saved identity's signing key is not a P-256 key", { cause: err });
  } finally {
    scalar.fill(0);
  }
}

async function writeIdentity(store: AppStore, tokenId: string, key: P256SigningKey): Promise<void> {
  const scalar = key.exportPrivateScalar();
  const body = new TextEncoder().encode(JSON.stringify({ v: 1, tokenId, signingKey: Buffer.from(scalar).toString("base64") }));
  scalar.fill(0);
  try {
    await store.write(IDENTITY, body);
  } finally {
    body.fill(0);
  }
}

/**
 * The app's identity with persistence: the one saved in the store (token id and signing key, hence the
 * same name id), or the app's first one, which is saved. A provider of the caller's takes the saved
 * identity back when it can (JwtProvider with the same subject, SharedSecretProvider with the same
 * base id: `restoredAs`); any other must already be it, else SlimError("STORAGE").
 */
export async function persistentIdentity(store: AppStore, base: Name, secret: string | undefined, provider: IdentityProvider | undefined): Promise<IdentityProvider> {
  if (provider === undefined && secret === undefined) throw new SlimError("INVALID_ARGUMENT", "give a `secret` or both `provider` and `verifier`");
  const given = provider ?? new SharedSecretProvider(base.withoutId(), secret!);
  const bytes = await store.read(IDENTITY);
  const saved = bytes === undefined ? undefined : readIdentity(bytes);
  bytes?.fill(0);
  if (saved === undefined) {
    const key = (given as { signingKey?: unknown }).signingKey;
    if (key instanceof P256SigningKey) await writeIdentity(store, given.tokenId, key);
    return given;
  }
  const signingKey = savedKey(saved);
  if (saved.tokenId === given.tokenId && Buffer.from(signingKey.publicKey).equals(Buffer.from(given.publicKey))) return given;
  // our providers take the saved identity back (JwtProvider: same subject; SharedSecretProvider: same base id)
  const restorable = given as IdentityProvider & { restoredAs?: (s: { tokenId: string; signingKey: P256SigningKey }) => IdentityProvider };
  if (restorable.restoredAs === undefined) {
    throw new SlimError(
      "STORAGE",
      `the store was written by another identity (token id ${JSON.stringify(saved.tokenId)} and its signing key): give the provider the same id and signing key, or use another store`,
    );
  }
  try {
    return restorable.restoredAs({ tokenId: saved.tokenId, signingKey });
  } catch (err) {
    throw new SlimError("STORAGE", `the store was written by another identity: ${SlimError.from(err).message}`, { cause: err });
  }
}
