// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Two of our clients (own datapath + gRPC link each) with a steady conversation,
// used to prove that trouble elsewhere does not disturb a healthy session.

import { randomBytes } from "node:crypto";
import { Endpoint, Name } from "@slim-ts/core";
import { DialedLink, MessageProcessor } from "@slim-ts/core/internal";

const dec = new TextDecoder();
const enc = new TextEncoder();

export interface TsClient {
  processor: MessageProcessor;
  up: DialedLink;
  ep: Endpoint;
  close(): Promise<void>;
}

export async function tsClient(url: string, svc: string, opts: { maxPending?: number } = {}): Promise<TsClient> {
  const processor = new MessageProcessor();
  const up = await DialedLink.connect(processor, url);
  const id = randomBytes(16).reduce((a, b) => (a << 8n) | BigInt(b), 0n) >> 8n;
  const ep = new Endpoint(processor, { name: new Name("org", "ts", svc, id), ...opts });
  await ep.subscribe(ep.name, { via: up.id });
  return {
    processor,
    up,
    ep,
    async close() {
      await ep.close();
      up.close();
      processor.close();
    },
  };
}

/** alice -> bob conversation; `send(n)` publishes the next n numbered messages, `check()` waits for all. */
export async function conversation(url: string, bobUrl = url) {
  const alice = await tsClient(url, `alice${randomBytes(3).toString("hex")}`);
  const bob = await tsClient(bobUrl, `bob${randomBytes(3).toString("hex")}`);
  await alice.ep.route(bob.ep.name, alice.up.id);
  const got: string[] = [];
  const reading = (async () => {
    for await (const m of bob.ep.messages()) {
      if (m.messageType.case !== "publish") continue;
      const c = m.messageType.value.msg?.contentType;
      if (c?.case === "appPayload") got.push(dec.decode(c.value.blob));
    }
  })();
  let sent = 0;
  return {
    alice,
    bob,
    got,
    send(n: number) {
      for (let i = 0; i < n; i++) alice.ep.publish(bob.ep.name, enc.encode(`c-${sent++}`));
    },
    /** Resolves when bob has every message sent so far, in order; rejects after timeoutMs. */
    async check(timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      while (got.length < sent && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      const want = Array.from({ length: sent }, (_, i) => `c-${i}`);
      if (got.join() !== want.join()) throw new Error(`conversation disturbed: got ${got.length}/${sent}`);
    },
    async close() {
      await alice.close();
      await bob.close();
      await reading.catch(() => {});
    },
  };
}
