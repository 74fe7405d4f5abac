// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// In-process routing through the datapath: one publisher, N local subscribers.

import { Endpoint, Name } from "@slim-ts/core";
import { MessageProcessor } from "@slim-ts/core/internal";

export interface InprocResult {
  subscribers: number;
  messages: number;
  deliveries: number;
  msgsPerSec: number;
  deliveriesPerSec: number;
}

export async function inprocRouting(subscribers: number, messages: number): Promise<InprocResult> {
  const p = new MessageProcessor();
  const pub = new Endpoint(p, { name: Name.parse("bench/inproc/pub").withId(1n) });
  const subs: Endpoint[] = [];
  for (let i = 0; i < subscribers; i++) {
    const ep = new Endpoint(p, { name: Name.parse("bench/inproc/sub").withId(BigInt(i + 10)), maxPending: 1 << 20 });
    await ep.subscribe(Name.parse("bench/inproc/sub").withId(BigInt(i + 10)));
    await ep.subscribe(Name.parse("bench/inproc/topic"));
    subs.push(ep);
  }
  const dst = Name.parse("bench/inproc/topic");
  const payload = new Uint8Array(64);
  const fanout = subscribers === 1 ? 1 : 256;
  let received = 0;
  const batch = 1000;
  const t0 = process.hrtime.bigint();
  for (let sent = 0; sent < messages; sent += batch) {
    for (let i = 0; i < batch; i++) pub.publish(dst, payload, { fanout });
    for (const s of subs) received += s.drain().length;
    // let the event loop breathe like a real app would
    if (sent % 50_000 === 0) await new Promise((r) => setImmediate(r));
  }
  for (const s of subs) received += s.drain().length;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const s of subs) await s.close();
  await pub.close();
  p.close();
  return {
    subscribers,
    messages,
    deliveries: received,
    msgsPerSec: messages / secs,
    deliveriesPerSec: received / secs,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const n of [1, 8]) console.log(JSON.stringify(await inprocRouting(n, n === 1 ? 1_000_000 : 200_000)));
}
