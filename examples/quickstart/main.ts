// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Quickstart: an embedded SLIM node and two apps, each with its own datapath and
// a gRPC link to the node (header MACs on), holding a reliable point-to-point
// session. Exits 1 if any reply is missing or out of order.

import { randomBytes } from "node:crypto";
import { createApp } from "@slim-ts/core";
import { startNode } from "@slim-ts/node-embedded";

const enc = new TextEncoder();
const dec = new TextDecoder();
// Both apps share one secret (a shared-secret identity); use JWTs across organisations.
const secret = process.env.SLIM_SECRET ?? randomBytes(32).toString("hex");

await using node = await startNode({ listen: "127.0.0.1:0" });
console.log(`node ${node.nodeId} listening on ${node.url}`);

await using alice = await createApp({ name: "demo/quickstart/alice", secret, connect: node.url });
await using bob = await createApp({ name: "demo/quickstart/bob", secret, connect: node.url });
console.log(`alice = ${alice.name}\nbob   = ${bob.name}`);

// bob accepts sessions and answers every message
const serving = (async () => {
  for await (const session of bob.listen()) {
    console.log(`bob accepted session ${session.sessionId} from ${session.peer}`);
    for await (const m of session) await session.publish(enc.encode(`re: ${dec.decode(m.payload)}`));
  }
})();

const session = await alice.createSession(
  { type: "p2p", peer: "demo/quickstart/bob" },
  { reliable: { intervalMs: 500, maxRetries: 5 }, metadata: { purpose: "quickstart" } },
);
const questions = ["hello", "how are you?", "what is SLIM?", "bye"];
for (const q of questions) {
  console.log(`alice -> ${q}`);
  await session.publish(enc.encode(q)); // resolves when bob acked it
}
const replies: string[] = [];
const timeout = setTimeout(() => {
  console.error("timed out waiting for replies");
  process.exit(1);
}, 10_000);
for await (const m of session) {
  replies.push(dec.decode(m.payload));
  console.log(`alice <- ${replies.at(-1)}`);
  if (replies.length === questions.length) break;
}
clearTimeout(timeout);
await session.close();

const status = node.status();
console.log("\nnode status:");
for (const c of status.connections) {
  console.log(`  link ${c.id} ${c.kind} ${c.role} mac=${c.mac ?? false} in=${c.counters.msgsIn} out=${c.counters.msgsOut} subs=${c.subscriptions}`);
}
const want = questions.map((q) => `re: ${q}`);
if (JSON.stringify(replies) !== JSON.stringify(want)) {
  console.error(`unexpected replies: ${JSON.stringify(replies)}`);
  process.exit(1);
}
await bob.close();
await serving;
console.log("\nall replies arrived in order");
