// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// One voter of the multi-process vote benchmark (bench/agents.ts), in its own
// process on a gRPC link to a node. It joins the group it is invited to and
// takes part in every vote opened there, as a scripted agent (runVoter) or by
// casting directly, and prints one JSON line per verified result with the
// CLOCK_MONOTONIC time it was verified (comparable across processes).
//
// Arguments: one JSON object { url, secret, spec, room, direct, timeoutMs }.
// Output lines: {"ready":true} once the port is open, {"joined":true} after the
// group invite, {"verified":proposalId,"atNs":"…","digest":"…"} per vote.

import { AgentHub, createApp } from "@slim-ts/core";
import { runVoter, type VoterSpec } from "../examples/_lib/agents.js";

interface Args {
  url: string;
  secret: string;
  spec: VoterSpec;
  /** The group channel the voter is invited to. */
  room: string;
  direct: boolean;
  timeoutMs: number;
}

const args = JSON.parse(process.argv[2] ?? "{}") as Args;
const say = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);

const app = await createApp({ name: args.spec.name, secret: args.secret, connect: args.url });
await app.prepareMls();
const hub = new AgentHub(app);
const accepting = new AbortController();
const accepted = hub.accept({ signal: accepting.signal });
say({ ready: true });

const port = await hub.port(args.room, { timeoutMs: 60_000 });
say({ joined: true });

// runs until the parent closes stdin
const stop = new Promise<void>((resolve) => process.stdin.on("end", resolve).on("close", resolve).resume());
const loop = (async () => {
  for (;;) {
    const outcome = args.direct
      ? await (async () => {
          const inv = await port.nextVote({ timeoutMs: args.timeoutMs });
          await inv.cast([args.spec.choice]);
          return inv.result({ timeoutMs: args.timeoutMs });
        })()
      : await runVoter(hub, port, args.spec, "", { timeoutMs: args.timeoutMs });
    say({ verified: outcome.result.proposalId, atNs: process.hrtime.bigint().toString(), digest: outcome.result.digest });
  }
})();
await Promise.race([stop, loop]);
accepting.abort();
await accepted.catch(() => undefined);
await hub.close();
await app.close();
process.exit(0);
