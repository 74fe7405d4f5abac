// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Quickstart: an embedded SLIM node and two apps, each with its own datapath and
// a gRPC link to the node (header MACs on), exchanging messages. Exits 1 if any
// reply is missing or out of order.

import { randomBytes } from "node:crypto";
import { Endpoint, Name } from "@slim-ts/core";
import { DialedLink, MessageProcessor, type proto } from "@slim-ts/core/internal";
import { startNode } from "@slim-ts/node-embedded";

const enc = new TextEncoder();
const dec = new TextDecoder();
const textOf = (m: proto.ProtoMessage): string | undefined => {
  if (m.messageType.case !== "publish") return undefined;
  const c = m.messageType.value.msg?.contentType;
  return c?.case === "appPayload" ? dec.decode(c.value.blob) : undefined;
};
const randomId = () => randomBytes(15).reduce((a, b) => (a << 8n) | BigInt(b), 0n);

async function app(url: string, name: string) {
  const processor = new MessageProcessor();
  const link = await DialedLink.connect(processor, url);
  const ep = new Endpoint(processor, { name: Name.parse(name).withId(randomId()) });
  await ep.subscribe(ep.name, { via: link.id });
  return { ep, link, processor };
}

await using node = await startNode({ listen: "127.0.0.1:0" });
console.log(`node ${node.nodeId} listening on ${node.url}`);

const alice = await app(node.url, "demo/quickstart/alice");
const bob = await app(node.url, "demo/quickstart/bob");
await alice.ep.route(bob.ep.name, alice.link.id);
await bob.ep.route(alice.ep.name, bob.link.id);
console.log(`alice = ${alice.ep.name}\nbob   = ${bob.ep.name}`);

// bob answers every message
const bobLoop = (async () => {
  for await (const m of bob.ep.messages()) {
    const text = textOf(m);
    if (text !== undefined) bob.ep.publish(alice.ep.name, enc.encode(`re: ${text}`));
  }
})();

const questions = ["hello", "how are you?", "what is SLIM?", "bye"];
const replies: string[] = [];
const done = (async () => {
  for await (const m of alice.ep.messages()) {
    const text = textOf(m);
    if (text === undefined) continue;
    replies.push(text);
    console.log(`alice <- ${text}`);
    if (replies.length === questions.length) break;
  }
})();
for (const q of questions) {
  console.log(`alice -> ${q}`);
  alice.ep.publish(bob.ep.name, enc.encode(q));
}
const timeout = setTimeout(() => {
  console.error("timed out waiting for replies");
  process.exit(1);
}, 10_000);
await done;
clearTimeout(timeout);

const status = node.status();
console.log("\nnode status:");
for (const c of status.connections) {
  console.log(`  link ${c.id} ${c.kind} ${c.role} mac=${c.mac ?? false} in=${c.counters.msgsIn} out=${c.counters.msgsOut} subs=${c.subscriptions}`);
}
const want = questions.map((q) => `re: ${q}`);
for (const a of [alice, bob]) {
  await a.ep.close();
  a.link.close();
  a.processor.close();
}
await bobLoop;
if (JSON.stringify(replies) !== JSON.stringify(want)) {
  console.error(`unexpected replies: ${JSON.stringify(replies)}`);
  process.exit(1);
}
console.log("\nall replies arrived in order");
