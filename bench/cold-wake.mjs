// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// How much slower this machine runs a fixed piece of work (20 SHA-256 of 500 B and
// 200 small objects, no slim-ts code) right after the process slept, by length of
// the sleep. Latency figures between processes here depend on it. `node bench/cold-wake.mjs`.

import { createHash } from "node:crypto";

const micros = () => Number(process.hrtime.bigint()) / 1e3;
const buf = Buffer.alloc(500, 7);
function work() {
  let x = 0;
  for (let i = 0; i < 20; i++) x += createHash("sha256").update(buf).digest()[0];
  const objects = [];
  for (let i = 0; i < 200; i++) objects.push({ i, s: `k${i}` });
  return x + objects.length;
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1].toFixed(1);

for (let i = 0; i < 2_000; i++) work();
const hot = [];
for (let i = 0; i < 200; i++) {
  const t = micros();
  work();
  hot.push(micros() - t);
}
const after = {};
for (const idleMs of [0, 1, 5, 20, 100]) {
  after[idleMs] = [];
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => setTimeout(r, idleMs));
    const t = micros();
    work();
    after[idleMs].push(micros() - t);
  }
}
console.log(`hot ${median(hot)} µs; ` + Object.entries(after).map(([ms, a]) => `after ${ms} ms idle ${median(a)} µs`).join(", "));
