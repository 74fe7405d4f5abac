// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// An idle app as users run it: plain node, the compiled package (no TypeScript
// loader), connected to a node, one p2p session open. Prints its RSS in MiB.
// `node --expose-gc bench/idle-app.mjs <node-url> <peer-name>`

import { createApp } from "@slim-ts/core";

const [url, peer] = process.argv.slice(2);
const app = await createApp({ name: "bench/idle/app", secret: process.env.SLIM_SECRET, connect: url });
const session = peer ? await app.createSession({ type: "p2p", peer }) : undefined;
await new Promise((r) => setTimeout(r, 500));
globalThis.gc?.();
await new Promise((r) => setTimeout(r, 100));
process.stdout.write(`${JSON.stringify({ rssMiB: process.memoryUsage().rss / 2 ** 20, heapMiB: process.memoryUsage().heapUsed / 2 ** 20 })}\n`);
await session?.close();
await app.close();
process.exit(0);
