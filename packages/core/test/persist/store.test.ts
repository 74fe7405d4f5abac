// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Name, SlimError } from "../../src/index.js";
import { Checkpoints } from "../../src/persist/checkpoints.js";
import { decodeRecord, encodeRecord, type SavedSession } from "../../src/persist/session-record.js";
import { AppStore } from "../../src/persist/store.js";

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "slim-ts-store-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const APP = Name.parse("org/ns/app");
const PASS = "a passphrase for tests";
const storeError = (re: RegExp) => expect.objectContaining({ name: "SlimError", code: "STORAGE", message: expect.stringMatching(re) });

describe("AppStore", () => {
  it("writes sealed records and reads them back after reopening; nothing is in the clear on disk", async () => {
    const path = tmp();
    const store = await AppStore.open({ path, passphrase: PASS }, APP);
    const body = new TextEncoder().encode("the plaintext that must not reach the disk");
    await store.write("session-1", body);
    await store.write("session-2", new Uint8Array([1, 2, 3]));
    expect(await store.list("session-")).toEqual(["session-1", "session-2"]);
    await store.close();
    for (const f of readdirSync(store.directory)) expect(readFileSync(join(store.directory, f)).includes(Buffer.from("plaintext"))).toBe(false);

    const again = await AppStore.open({ path, passphrase: PASS }, APP);
    try {
      expect(await again.read("session-1")).toEqual(body);
      expect(await again.read("session-3")).toBeUndefined();
      await again.remove("session-2");
      expect(await again.list("session-")).toEqual(["session-1"]);
    } finally {
      await again.close();
    }
  });

  it("refuses a wrong passphrase, a damaged store file, and a store held by a live process", async () => {
    const path = tmp();
    const store = await AppStore.open({ path, passphrase: PASS }, APP);
    await expect(AppStore.open({ path, passphrase: PASS }, APP)).rejects.toEqual(storeError(/in use by process \d+/));
    await store.close();
    await expect(AppStore.open({ path, passphrase: "another passphrase" }, APP)).rejects.toEqual(storeError(/wrong passphrase/));
    // the failed open released the lock: the right passphrase still opens it
    await (await AppStore.open({ path, passphrase: PASS }, APP)).close();
    const file = join(store.directory, "store");
    const bytes = readFileSync(file);
    bytes[bytes.length - 1]! ^= 1;
    writeFileSync(file, bytes);
    await expect(AppStore.open({ path, passphrase: PASS }, APP)).rejects.toEqual(storeError(/wrong passphrase.*damaged/));
    writeFileSync(file, Buffer.from("not a store at all, just some text"));
    await expect(AppStore.open({ path, passphrase: PASS }, APP)).rejects.toEqual(storeError(/not a slim-ts store/));
  });

  it("takes over a lock left by a dead process", async () => {
    const path = tmp();
    const store = await AppStore.open({ path, passphrase: PASS }, APP);
    await store.close();
    writeFileSync(join(store.directory, "lock"), "2147483646"); // no such pid
    await (await AppStore.open({ path, passphrase: PASS }, APP)).close();
  });

  it("keeps the newest version; a slot torn by a crash falls back to the version before it", async () => {
    const path = tmp();
    const store = await AppStore.open({ path, passphrase: PASS, fsync: true }, APP);
    const v = (n: number) => new Uint8Array([n, n, n]);
    await store.write("session-1", v(1));
    await store.write("session-1", v(2));
    await store.write("session-1", v(3)); // slots now: .0 = 3, .1 = 2
    expect(await store.read("session-1")).toEqual(v(3));
    await store.close();
    const f0 = join(store.directory, "session-1.0");
    const b = readFileSync(f0);
    writeFileSync(f0, b.subarray(0, b.length - 7)); // a write cut short
    const again = await AppStore.open({ path, passphrase: PASS }, APP);
    try {
      expect(await again.read("session-1")).toEqual(v(2));
      // writing goes on after the newest version that opens, into the torn slot
      await again.write("session-1", v(4));
      expect(await again.read("session-1")).toEqual(v(4));
      expect(readFileSync(join(store.directory, "session-1.1")).readBigUInt64BE(4)).toBe(2n);
    } finally {
      await again.close();
    }
  });

  it("keeps at most 64 records' files open; a record whose files were closed is reopened at its next write", async () => {
    const store = await AppStore.open({ path: tmp(), passphrase: PASS }, APP);
    try {
      for (let i = 0; i < 70; i++) await store.write(`session-${i}`, new Uint8Array([i, 1]));
      expect(store.openRecords).toBeLessThanOrEqual(64);
      await store.write("session-0", new Uint8Array([0, 2])); // its files were closed: reopened
      await Promise.all(Array.from({ length: 70 }, (_, i) => store.write(`session-${i}`, new Uint8Array([i, 3])))); // concurrent, other records
      expect(store.openRecords).toBeLessThanOrEqual(64);
      for (let i = 0; i < 70; i++) expect(await store.read(`session-${i}`)).toEqual(new Uint8Array([i, 3]));
    } finally {
      await store.close();
    }
  });

  it("a tampered record, one copied over another record's name, or a newer version number on an old slot, does not open", async () => {
    const path = tmp();
    const store = await AppStore.open({ path, passphrase: PASS }, APP);
    try {
      await store.write("session-1", new Uint8Array([1, 2, 3, 4]));
      await store.write("session-2", new Uint8Array([5, 6, 7, 8]));
      const f1 = join(store.directory, "session-1.0");
      const original = readFileSync(f1);
      const b = Buffer.from(original);
      b[20]! ^= 0x80;
      writeFileSync(f1, b);
      await expect(store.read("session-1")).rejects.toEqual(storeError(/does not open/));
      writeFileSync(f1, readFileSync(join(store.directory, "session-2.0")));
      await expect(store.read("session-1")).rejects.toEqual(storeError(/does not open/));
      const bumped = Buffer.from(original);
      bumped.writeBigUInt64BE(99n, 4);
      writeFileSync(f1, bumped);
      await expect(store.read("session-1")).rejects.toEqual(storeError(/does not open/));
      writeFileSync(f1, Buffer.alloc(3));
      await expect(store.read("session-1")).rejects.toEqual(storeError(/does not open/));
      writeFileSync(f1, Buffer.alloc(17 * 1024 * 1024)); // over any record's size: not read
      await expect(store.read("session-1")).rejects.toEqual(storeError(/does not open/));
      await store.remove("session-1");
      expect(await store.read("session-1")).toBeUndefined();
      expect(await store.list("session-")).toEqual(["session-2"]);
    } finally {
      await store.close();
    }
  });

  it("refuses record names that could leave the store directory or clash with its own files", async () => {
    const store = await AppStore.open({ path: tmp(), passphrase: PASS }, APP);
    try {
      for (const name of ["../x", "a/b", "store", "lock", "", "UPPER", ".hidden", "session-1.tmp"]) {
        await expect(store.write(name, new Uint8Array(1))).rejects.toBeInstanceOf(SlimError);
      }
    } finally {
      await store.close();
    }
  });
});

describe("session records", () => {
  const group: SavedSession = {
    kind: "group",
    sessionId: 42,
    role: "participant",
    moderator: "org/ns/mod/00000000000000000000000000000001",
    channels: { data: "org/ns/room", control: "org/ns/room-ctl" },
    members: ["org/ns/mod/00000000000000000000000000000001", "org/ns/app/00000000000000000000000000000002"],
    offline: [],
    canRotate: [],
    reliable: { intervalMs: 500, maxRetries: 5 },
    metadata: { k: "v" },
    lastDataId: 17,
    mls: { headerIntegrityPercent: 100, commitId: 3, identities: [] },
  };

  it("round-trips, with the MLS group after the JSON part", () => {
    const mls = new Uint8Array([9, 8, 7]);
    const back = decodeRecord(encodeRecord(group, mls));
    expect(back.saved).toEqual(group);
    expect(back.mls).toEqual(mls);
  });

  it("refuses what it did not write: another version, truncation, bad names, a missing or unexpected MLS group", () => {
    const bytes = encodeRecord(group, new Uint8Array([1]));
    const other = bytes.slice();
    other[0] = 2;
    expect(() => decodeRecord(other)).toThrow(/unknown version/);
    expect(() => decodeRecord(bytes.subarray(0, 20))).toThrow(/truncated/);
    expect(() => decodeRecord(encodeRecord(group, undefined))).toThrow(/do not match/);
    expect(() => decodeRecord(encodeRecord({ ...group, moderator: "not/a name/at/all/x" }, new Uint8Array([1])))).toThrow(/malformed/);
    expect(() => decodeRecord(encodeRecord({ ...group, lastDataId: -1 }, new Uint8Array([1])))).toThrow(/malformed/);
    for (const bad of [other, bytes.subarray(0, 3), bytes.subarray(0, 20)]) {
      expect(() => decodeRecord(bad)).toThrow(expect.objectContaining({ code: "STORAGE" }));
    }
  });
});

describe("Checkpoints", () => {
  it("a request is served by a save that starts after it; requests made during a save share the next one", async () => {
    const starts: number[] = [];
    let release: (() => void)[] = [];
    let version = 0;
    const cp = new Checkpoints(async () => {
      starts.push(version);
      await new Promise<void>((r) => release.push(r));
    });
    version = 1;
    const a = cp.request();
    version = 2;
    const b = cp.request();
    version = 3;
    const c = cp.request();
    expect(b).toBe(c);
    expect(starts).toEqual([1]);
    release.shift()!();
    await a;
    await new Promise((r) => setImmediate(r));
    expect(starts).toEqual([1, 3]); // one more save, covering both later requests
    let bDone = false;
    void b.then(() => (bDone = true));
    await new Promise((r) => setImmediate(r));
    expect(bDone).toBe(false);
    release.shift()!();
    await b;
    expect(bDone).toBe(true);
    release = [];
  });

  it("a failed save rejects the requests it serves; the next request saves again", async () => {
    let fail = true;
    const cp = new Checkpoints(async () => {
      if (fail) throw new Error("disk full");
    });
    await expect(cp.request()).rejects.toThrow("disk full");
    fail = false;
    await expect(cp.request()).resolves.toBeUndefined();
    cp.close();
    let saves = 0;
    const counted = new Checkpoints(async () => void saves++);
    counted.close();
    await expect(counted.request()).resolves.toBeUndefined();
    expect(saves).toBe(0); // closed: the session ended for good, nothing more is saved
  });
});
