// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Per-operation cost of the MLS engine with each crypto backend: node:crypto signing on the calling
// thread ("node", the default), node:crypto signing on the thread pool ("node-threaded"), ts-mls'
// stock provider ("default").
// Run: npx tsx packages/core/test/mls/bench-mls.ts [ciphersuite=2] [messages=2000]
// One process, one group; medians for group operations; app messages carry a 400-byte AAD like a
// real HeaderIntegrityAad and are measured one call at a time and with WINDOW calls in flight.

import { verify } from "node:crypto";
import { P256SigningKey, p256PublicKeyFromSec1 } from "../../src/auth/p256.js";
import { MlsGroup } from "../../src/mls/group.js";
import type { MlsCiphersuiteId, MlsCryptoBackend } from "../../src/mls/profile.js";
import { groupOptions, testMember } from "./helpers.js";

const cs = Number(process.argv[2] ?? 2) as MlsCiphersuiteId;
const messages = Number(process.argv[3] ?? 2000);
const AAD = new Uint8Array(400).fill(7);
const WINDOW = 32;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

async function time<T>(samples: number[], op: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await op();
  samples.push(performance.now() - t0);
  return out;
}

async function groupOps(crypto: MlsCryptoBackend): Promise<{ out: Record<string, number>; alice: MlsGroup; bob: MlsGroup }> {
  const opts = groupOptions(cs, { crypto });
  const [kpT, addT, joinT, procT, rotT, rotProcT] = [[], [], [], [], [], []] as number[][] as [number[], number[], number[], number[], number[], number[]];
  const alice = await MlsGroup.create(undefined, testMember("alice", cs).identity, opts);
  const members: MlsGroup[] = [];
  for (let i = 0; i < 8; i++) {
    const kp = await time(kpT, () => MlsGroup.createKeyPackage(testMember(`m${i}`, cs).identity, { ciphersuite: cs, crypto }));
    const { commit, welcome } = await time(addT, () => alice.add(kp.bytes));
    for (const m of members) await time(procT, () => m.processCommit(commit));
    members.push(await time(joinT, () => MlsGroup.join(welcome, kp, opts)));
  }
  for (let i = 0; i < 3; i++) {
    const { commit } = await time(rotT, () => alice.rotate());
    for (const m of members) await time(rotProcT, () => m.processCommit(commit));
  }
  const out = {
    "key package": median(kpT),
    "add commit (group of 1..8)": median(addT),
    "join via Welcome (2..9 members)": median(joinT),
    "process add commit": median(procT),
    "rotate (path commit, 9 members)": median(rotT),
    "process path commit": median(rotProcT),
  };
  return { out, alice, bob: members[0] as MlsGroup };
}

async function run(crypto: MlsCryptoBackend): Promise<Record<string, number>> {
  const { out, alice, bob } = await groupOps(crypto);
  const n = crypto === "default" ? Math.min(messages, 300) : messages;
  const payload = new Uint8Array(1024).fill(1);
  for (let i = 0; i < 300; i++) await bob.decrypt(await alice.encrypt(payload, AAD)); // warm-up
  const result: Record<string, number> = { ...out };
  for (const size of [64, 1024]) {
    const body = new Uint8Array(size).fill(1);
    const wires: Uint8Array[] = [];
    const t0 = performance.now();
    for (let i = 0; i < n; i++) wires.push(await alice.encrypt(body, AAD));
    const t1 = performance.now();
    for (const w of wires) await bob.decrypt(w);
    const t2 = performance.now();
    result[`encrypt ${size} B, one at a time`] = (t1 - t0) / n;
    result[`decrypt ${size} B, one at a time`] = (t2 - t1) / n;
    result[`wire size ${size} B`] = wires[0]?.length ?? 0;
  }
  const wires: Uint8Array[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i += WINDOW) {
    wires.push(...(await Promise.all(Array.from({ length: Math.min(WINDOW, n - i) }, () => alice.encrypt(payload, AAD)))));
  }
  const t1 = performance.now();
  for (let i = 0; i < n; i += WINDOW) await Promise.all(wires.slice(i, i + WINDOW).map((w) => bob.decrypt(w)));
  const t2 = performance.now();
  result[`encrypt 1024 B, ${WINDOW} in flight`] = (t1 - t0) / n;
  result[`decrypt 1024 B, ${WINDOW} in flight`] = (t2 - t1) / n;
  return result;
}

const key = P256SigningKey.generate();
const data = new Uint8Array(700);
const sig = key.sign(data);
const pub = p256PublicKeyFromSec1(key.publicKey);
if (pub === undefined) throw new Error("key");
const N = 2000;
let t = performance.now();
for (let i = 0; i < N; i++) verify("sha256", data, { key: pub, dsaEncoding: "der" }, sig);
const verifyMs = (performance.now() - t) / N;
t = performance.now();
for (let i = 0; i < N; i++) key.sign(data);
const signMs = (performance.now() - t) / N;

const backends = ["node", "node-threaded", "default"] as const;
const results: Record<string, Record<string, number>> = {};
for (const b of backends) results[b] = await run(b);
console.log(`MLS ciphersuite ${cs}; reference: node:crypto P-256 sign ${signMs.toFixed(3)} ms, verify ${verifyMs.toFixed(3)} ms`);
console.log(`${"operation".padEnd(36)}${backends.map((b) => b.padStart(15)).join("")}`);
for (const name of Object.keys(results.node ?? {})) {
  const bytes = name.startsWith("wire");
  const fmt = (v: number | undefined) => (v === undefined ? "-" : bytes ? `${v} B` : `${v.toFixed(3)} ms`);
  console.log(`${name.padEnd(36)}${backends.map((b) => fmt(results[b]?.[name]).padStart(15)).join("")}`);
}
for (const b of backends) {
  const r = results[b] ?? {};
  const rate = (enc: string, dec: string) => (1000 / Math.max(r[enc] ?? 0, r[dec] ?? 0)).toFixed(0);
  const seq = rate("encrypt 1024 B, one at a time", "decrypt 1024 B, one at a time");
  const par = rate(`encrypt 1024 B, ${WINDOW} in flight`, `decrypt 1024 B, ${WINDOW} in flight`);
  console.log(`${b}: one-way bound, 1 KiB, slower side: ${seq} msg/s one at a time, ${par} msg/s with ${WINDOW} in flight`);
}
