// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * An app's encrypted store on disk: its identity and one record per session, for restoring
 * sessions after a restart. One directory per app name under the configured path:
 *
 *   <path>/<org>.<ns>.<svc>/store      "SLIMSTORE" ‖ u8 format ‖ u8 log2(N) ‖ u8 r ‖ u8 p ‖ salt(16)
 *                                        ‖ nonce(12) ‖ AES-256-GCM("slim-ts store") ‖ tag(16)
 *   <path>/<org>.<ns>.<svc>/lock       pid of the process using the store
 *   <path>/<org>.<ns>.<svc>/<record>.0 and <record>.1, two slots written in turn, each
 *       u32 n ‖ u64 version ‖ nonce(12) ‖ AES-256-GCM(body) ‖ tag(16)   (n = what follows the u32)
 *       AAD = "SLIMREC2" ‖ u64 version ‖ record name
 *
 * The key is scrypt(passphrase, salt) once per open (tens of ms); records are then sealed with
 * AES-256-GCM under a fresh random nonce each write. The AAD binds a record to its name and
 * version, so records cannot be swapped for one another or replayed as newer. A write overwrites
 * the older slot in place through a file handle kept open (one system call, no rename): a crash
 * mid-write leaves that slot unreadable and the other one, the previous version, intact, and a
 * read takes the newest slot that opens. Nothing is written in the clear.
 */

import { createCipheriv, createDecipheriv, randomBytes, scrypt } from "node:crypto";
import { constants } from "node:fs";
import { type FileHandle, mkdir, open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SlimError } from "../errors.js";
import type { Name } from "../names/name.js";

const MAGIC = new TextEncoder().encode("SLIMSTORE");
const RECORD_AAD = new TextEncoder().encode("SLIMREC2");
const CHECK = new TextEncoder().encode("slim-ts store");
const FORMAT = 1;
const SALT = 16;
const NONCE = 12;
const TAG = 16;
const HEADER = MAGIC.length + 4 + SALT;
/** scrypt N = 2^15, r = 8, p = 1: 32 MiB and tens of ms, once per open. */
const COST = { log2N: 15, r: 8, p: 1 } as const;
/** No record is larger than this (a group of hundreds with its MLS state is well under). */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;
/** Record names: no dots (a record's files are `<name>.0` and `<name>.1`). */
const RECORD_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const SLOT_FILE = /^([a-z0-9][a-z0-9-]{0,63})\.[01]$/;
/** u32 length ‖ u64 version before the sealed body. */
const SLOT_HEAD = 12;

export interface StoreOptions {
  /** Directory holding the stores of every app that uses it. */
  path: string;
  /** The key derives from it; without it nothing in the store can be read. */
  passphrase: string;
  /**
   * Flush every save to the disk (fdatasync) before it counts as done, so saves survive a power cut,
   * not only a killed process. Each save then costs a disk flush.
   */
  fsync?: boolean | undefined;
}

/** SlimError("STORAGE"); the cause's own message (ENOSPC, EACCES…) is part of it. */
function storeError(message: string, cause?: unknown): SlimError {
  if (cause === undefined) return new SlimError("STORAGE", message);
  return new SlimError("STORAGE", cause instanceof Error ? `${message}: ${cause.message}` : message, { cause });
}

function deriveKey(passphrase: string, salt: Uint8Array, cost: { log2N: number; r: number; p: number }): Promise<Buffer> {
  const N = 2 ** cost.log2N;
  return new Promise((resolve, reject) =>
    scrypt(passphrase, salt, 32, { N, r: cost.r, p: cost.p, maxmem: 128 * N * cost.r * cost.p + 16 * 1024 * 1024 }, (err, key) =>
      err === null ? resolve(key) : reject(storeError("cannot derive the store key", err)),
    ),
  );
}

function seal(key: Buffer, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG });
  cipher.setAAD(aad);
  return Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** Undefined when the bytes do not open under `key` and `aad`. */
function unseal(key: Buffer, aad: Uint8Array, sealed: Uint8Array): Uint8Array | undefined {
  if (sealed.length < NONCE + TAG) return undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, NONCE), { authTagLength: TAG });
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
    return new Uint8Array(Buffer.concat([decipher.update(sealed.subarray(NONCE, sealed.length - TAG)), decipher.final()]));
  } catch {
    return undefined;
  }
}

function recordAad(name: string, version: bigint): Uint8Array {
  const v = Buffer.alloc(8);
  v.writeBigUInt64BE(version);
  return Buffer.concat([RECORD_AAD, v, Buffer.from(name, "utf8")]);
}

/**
 * Records whose slot files stay open between writes, most recently written last; the least recently
 * written one beyond this closes its files (reopened at its next write), so thousands of saved
 * sessions do not hold thousands of descriptors.
 */
const MAX_OPEN_RECORDS = 64;

/** A record being written by this process: its slot files (open or not), and where the next write goes. */
interface Slots {
  handles: [FileHandle | undefined, FileHandle | undefined];
  /** A write is under way (its files are not closed from under it). */
  busy: boolean;
  /** Slot files created (and, with fsync, their directory entry flushed) by this process. */
  created: [boolean, boolean];
  /** The slot the next write overwrites (the one not holding the newest version). */
  next: 0 | 1;
  /** The newest version on disk. */
  version: bigint;
}

/** Is a process with this pid alive (signal 0 probes without signalling)? */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class AppStore {
  #key: Buffer | undefined;
  readonly #dir: string;
  readonly #fsync: boolean;
  #closed = false;

  private constructor(dir: string, key: Buffer, fsync: boolean) {
    this.#dir = dir;
    this.#key = key;
    this.#fsync = fsync;
  }

  /**
   * Open (or create) the store of app `name` under `options.path`. SlimError("STORAGE") for a
   * wrong passphrase, a damaged store file, or a store another live process holds.
   */
  static async open(options: StoreOptions, name: Name): Promise<AppStore> {
    const dir = join(options.path, name.components.map((c) => encodeURIComponent(c)).join("."));
    await mkdir(dir, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
      throw storeError(`cannot create the store directory ${dir}`, err);
    });
    await lock(dir);
    try {
      const key = await openKey(dir, options.passphrase);
      return new AppStore(dir, key, options.fsync === true);
    } catch (err) {
      await rm(join(dir, "lock"), { force: true });
      throw err;
    }
  }

  get directory(): string {
    return this.#dir;
  }

  #need(): Buffer {
    if (this.#key === undefined) throw storeError("the store is closed");
    return this.#key;
  }

  /** Seal and write `body` as record `name` (its next version). Writes of one record must not overlap. */
  async write(name: string, body: Uint8Array): Promise<void> {
    checkName(name);
    if (body.length > MAX_RECORD_BYTES) throw storeError(`record ${name} is ${body.length} bytes, over the ${MAX_RECORD_BYTES} limit`);
    const key = this.#need();
    let slots: Slots | undefined;
    try {
      slots = this.#slots.get(name) ?? (await this.#openSlots(name));
      slots.busy = true;
      // most recently written last
      this.#slots.delete(name);
      this.#slots.set(name, slots);
      const version = slots.version + 1n;
      const sealed = seal(key, recordAad(name, version), body);
      const file = Buffer.allocUnsafe(SLOT_HEAD + sealed.length);
      file.writeUInt32BE(8 + sealed.length, 0);
      file.writeBigUInt64BE(version, 4);
      file.set(sealed, SLOT_HEAD);
      const i = slots.next;
      let fh = slots.handles[i];
      if (fh === undefined) {
        fh = slots.handles[i] = await open(join(this.#dir, `${name}.${i}`), constants.O_RDWR | constants.O_CREAT, 0o600);
        if (!slots.created[i] && this.#fsync) await this.#syncDirectory(); // the new file's directory entry too
        slots.created[i] = true;
      }
      await fh.write(file, 0, file.length, 0);
      if (this.#fsync) await fh.datasync();
      slots.version = version;
      slots.next = i === 0 ? 1 : 0;
      await this.#closeIdle();
    } catch (err) {
      throw storeError(`cannot write record ${name}`, err);
    } finally {
      if (slots !== undefined) slots.busy = false;
    }
  }

  /** Close the files of the least recently written records beyond {@link MAX_OPEN_RECORDS} (not one being written). */
  async #closeIdle(): Promise<void> {
    let open = this.openRecords;
    for (const slots of this.#slots.values()) {
      if (open <= MAX_OPEN_RECORDS) return;
      if (slots.busy || (slots.handles[0] === undefined && slots.handles[1] === undefined)) continue;
      const handles = slots.handles;
      slots.handles = [undefined, undefined];
      open--;
      for (const fh of handles) await fh?.close().catch(() => undefined);
    }
  }

  /** How many records hold open files (for tests). */
  get openRecords(): number {
    let n = 0;
    for (const slots of this.#slots.values()) if (slots.handles[0] !== undefined || slots.handles[1] !== undefined) n++;
    return n;
  }

  readonly #slots = new Map<string, Slots>();

  async #syncDirectory(): Promise<void> {
    const dir = await open(this.#dir, "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  /** Start writing `name`: the next version goes after, and into the slot other than, the newest on disk. */
  async #openSlots(name: string): Promise<Slots> {
    const found = await this.#readSlots(name);
    const newest = found.reduce<(typeof found)[number] | undefined>((a, b) => (a === undefined || b.version > a.version ? b : a), undefined);
    const slots: Slots = {
      handles: [undefined, undefined],
      busy: false,
      created: [found.some((f) => f.slot === 0), found.some((f) => f.slot === 1)],
      next: newest?.slot === 0 ? 1 : 0,
      version: found.reduce((v, f) => (f.version > v ? f.version : v), 0n),
    };
    this.#slots.set(name, slots);
    return slots;
  }

  /** Every slot of `name` that opens, with its version and body. */
  async #readSlots(name: string): Promise<Array<{ slot: 0 | 1; version: bigint; body: Uint8Array | undefined }>> {
    const out: Array<{ slot: 0 | 1; version: bigint; body: Uint8Array | undefined }> = [];
    for (const slot of [0, 1] as const) {
      let file: Buffer;
      try {
        const fh = await open(join(this.#dir, `${name}.${slot}`), "r");
        try {
          const { size } = await fh.stat();
          // larger than anything this store writes: damaged, and not read into memory
          file = size > MAX_RECORD_BYTES + SLOT_HEAD + NONCE + TAG ? Buffer.alloc(0) : await fh.readFile();
        } finally {
          await fh.close();
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
        throw storeError(`cannot read record ${name}`, err);
      }
      if (file.length < SLOT_HEAD) {
        out.push({ slot, version: 0n, body: undefined });
        continue;
      }
      const n = file.readUInt32BE(0);
      const version = file.readBigUInt64BE(4);
      const body = n < 8 || 4 + n > file.length ? undefined : unseal(this.#need(), recordAad(name, version), file.subarray(SLOT_HEAD, 4 + n));
      // a slot that does not open (torn by a crash, tampered) counts for nothing, not even its version
      out.push({ slot, version: body === undefined ? 0n : version, body });
    }
    return out;
  }

  /** The record's newest version; undefined when there is none. SlimError("STORAGE") when no slot opens. */
  async read(name: string): Promise<Uint8Array | undefined> {
    checkName(name);
    const found = await this.#readSlots(name);
    if (found.length === 0) return undefined;
    let best: { version: bigint; body: Uint8Array } | undefined;
    for (const f of found) if (f.body !== undefined && (best === undefined || f.version > best.version)) best = { version: f.version, body: f.body };
    if (best === undefined) throw storeError(`record ${name} does not open: damaged, or not from this store`);
    return best.body;
  }

  async remove(name: string): Promise<void> {
    checkName(name);
    const slots = this.#slots.get(name);
    this.#slots.delete(name);
    for (const fh of slots?.handles ?? []) await fh?.close().catch(() => undefined);
    for (const slot of [0, 1]) {
      await rm(join(this.#dir, `${name}.${slot}`), { force: true }).catch((err: unknown) => {
        throw storeError(`cannot remove record ${name}`, err);
      });
    }
  }

  /** Names of the records that start with `prefix`. */
  async list(prefix: string): Promise<string[]> {
    this.#need();
    const names = await readdir(this.#dir).catch((err: unknown) => {
      throw storeError("cannot list the store", err);
    });
    const records = new Set<string>();
    for (const n of names) {
      const m = SLOT_FILE.exec(n);
      if (m !== null && m[1]!.startsWith(prefix)) records.add(m[1]!);
    }
    return [...records].sort();
  }

  /** Forget the key and release the lock. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#key?.fill(0);
    this.#key = undefined;
    for (const slots of this.#slots.values()) for (const fh of slots.handles) await fh?.close().catch(() => undefined);
    this.#slots.clear();
    await rm(join(this.#dir, "lock"), { force: true });
  }
}

function checkName(name: string): void {
  if (!RECORD_NAME.test(name) || name === "store" || name === "lock") throw new SlimError("INVALID_ARGUMENT", `invalid record name ${JSON.stringify(name)}`);
}

/** One process per store: a lock file with our pid; a lock left by a dead process is taken over. */
async function lock(dir: string): Promise<void> {
  const path = join(dir, "lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, "wx", 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw storeError(`cannot lock the store ${dir}`, err);
    }
    const holder = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
    if (Number.isSafeInteger(holder) && holder > 0 && alive(holder)) {
      throw storeError(`the store ${dir} is in use by process ${holder}${holder === process.pid ? " (this one: another app with the same name)" : ""}`);
    }
    await rm(path, { force: true });
  }
  throw storeError(`cannot lock the store ${dir}`);
}

/** Read the store file and check the passphrase against it, or create it. */
async function openKey(dir: string, passphrase: string): Promise<Buffer> {
  if (typeof passphrase !== "string" || passphrase.length === 0) throw new SlimError("INVALID_ARGUMENT", "the store passphrase must not be empty");
  const path = join(dir, "store");
  let file: Buffer | undefined;
  try {
    file = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw storeError(`cannot read ${path}`, err);
  }
  if (file === undefined) {
    const salt = randomBytes(SALT);
    const header = Buffer.concat([MAGIC, Buffer.from([FORMAT, COST.log2N, COST.r, COST.p]), salt]);
    const key = await deriveKey(passphrase, salt, COST);
    await writeFile(path, Buffer.concat([header, seal(key, header, CHECK)]), { mode: 0o600, flag: "wx" }).catch((err: unknown) => {
      throw storeError(`cannot create ${path}`, err);
    });
    return key;
  }
  if (file.length > 256 || file.length < HEADER + NONCE + TAG || !file.subarray(0, MAGIC.length).equals(MAGIC)) throw storeError(`${path} is not a slim-ts store`);
  const [format, log2N, r, p] = file.subarray(MAGIC.length, MAGIC.length + 4) as unknown as [number, number, number, number];
  if (format !== FORMAT) throw storeError(`${path} has unknown format ${format}`);
  if (log2N < 10 || log2N > 20 || r < 1 || r > 16 || p < 1 || p > 4) throw storeError(`${path} has out-of-range key derivation parameters`);
  const header = file.subarray(0, HEADER);
  const key = await deriveKey(passphrase, file.subarray(MAGIC.length + 4, HEADER), { log2N, r, p });
  const check = unseal(key, header, file.subarray(HEADER));
  if (check === undefined || !Buffer.from(check).equals(CHECK)) {
    key.fill(0);
    throw storeError(`wrong passphrase for the store ${dir} (or its store file is damaged)`);
  }
  return key;
}
