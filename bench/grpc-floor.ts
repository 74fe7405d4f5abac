// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Transport floor for "client -> node -> client": the same three-process layout and the same
// gRPC library (@grpc/grpc-js, one bidi stream per client, as DialedLink / openChannelHandler),
// but raw bytes and no SLIM at all (no protobuf, no header MAC, no routing table). It shows how
// much of our one-way rate and RTT the transport alone takes on this machine.
//
//   node --import tsx bench/grpc-floor.ts relay                 prints "port <n>"
//   node --import tsx bench/grpc-floor.ts sink <port> <count>    prints "ready", then a JSON result
//   node --import tsx bench/grpc-floor.ts burst <port> <count> <size>            JSON result
//   node --import tsx bench/grpc-floor.ts echo <port> <count>    prints "ready", echoes count msgs
//   node --import tsx bench/grpc-floor.ts rtt <port> <count> <warmup>            JSON result
//
// The relay forwards every message of a "S"ender stream to the "R"eceiver stream and back (echo),
// with one call.write() per message and no backpressure, as our node does. Senders respect
// write()/drain. Probes: [f64 LE CLOCK_MONOTONIC ms][u32 LE seq], padded to size.

import * as grpc from "@grpc/grpc-js";

const hrms = (): number => Number(process.hrtime.bigint()) / 1e6;
const id = (x: Buffer) => x;
const PATH = "/bench.Floor/Relay";
const def: grpc.ServiceDefinition = {
  Relay: {
    path: PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: id,
    requestDeserialize: id,
    responseSerialize: id,
    responseDeserialize: id,
  },
};
const out = (o: unknown) => process.stdout.write(`${typeof o === "string" ? o : JSON.stringify(o)}\n`);
const [role, a1, a2, a3] = process.argv.slice(2);

function probe(size: number, seq: number): Buffer {
  const b = Buffer.alloc(Math.max(size, 12));
  b.writeDoubleLE(hrms(), 0);
  b.writeUInt32LE(seq, 8);
  return b;
}

function open(port: string, tag: "R" | "S") {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = client.makeBidiStreamRequest(PATH, id, id, new grpc.Metadata(), {});
  call.on("error", () => {});
  call.write(Buffer.from(tag));
  return { client, call };
}

if (role === "relay") {
  const server = new grpc.Server();
  const streams: Record<string, grpc.ServerDuplexStream<Buffer, Buffer>> = {};
  server.addService(def, {
    Relay: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      let tag: string | undefined;
      call.on("data", (b: Buffer) => {
        if (tag === undefined) {
          tag = b.toString();
          streams[tag] = call;
          return;
        }
        streams[tag === "S" ? "R" : "S"]?.write(b);
      });
      call.on("error", () => {});
      call.on("end", () => call.end());
    },
  });
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    out(`port ${port}`);
  });
  process.on("SIGTERM", () => process.exit(0));
} else if (role === "sink" || role === "echo") {
  const count = Number(a2);
  const { call } = open(a1!, "R");
  let got = 0;
  let firstAt: number | null = null;
  let lastAt: number | null = null;
  call.on("data", (b: Buffer) => {
    const now = hrms();
    firstAt ??= now;
    lastAt = now;
    got++;
    if (role === "echo") call.write(b);
    if (got === count) {
      out({ got, firstAt, lastAt });
      setTimeout(() => process.exit(0), 50);
    }
  });
  setTimeout(() => out("ready"), 200);
  setTimeout(() => {
    out({ got, firstAt, lastAt, error: "timeout" });
    process.exit(1);
  }, 60_000).unref();
} else if (role === "burst") {
  const count = Number(a2);
  const size = Number(a3 ?? 64);
  const { call } = open(a1!, "S");
  await new Promise((r) => setTimeout(r, 200));
  const sendStart = hrms();
  for (let i = 0; i < count; i++) {
    if (!call.write(probe(size, i))) await new Promise((r) => call.once("drain", r));
  }
  out({ sendStart, sendMs: hrms() - sendStart });
  // stay until the orchestrator has the sink's result: grpc-js may still be flushing
  setTimeout(() => process.exit(0), 60_000);
} else if (role === "rtt") {
  const count = Number(a2);
  const warmup = Number(a3 ?? 100);
  const { call } = open(a1!, "S");
  await new Promise((r) => setTimeout(r, 200));
  let pending: (() => void) | undefined;
  call.on("data", () => {
    const p = pending;
    pending = undefined;
    p?.();
  });
  const rtts: number[] = [];
  for (let i = 0; i < count + warmup; i++) {
    const t = hrms();
    await new Promise<void>((r) => {
      pending = r;
      call.write(probe(64, i));
    });
    if (i >= warmup) rtts.push(hrms() - t);
  }
  rtts.sort((x, y) => x - y);
  const pct = (p: number) => rtts[Math.min(rtts.length - 1, Math.max(0, Math.ceil((p / 100) * rtts.length) - 1))]!;
  out({ n: rtts.length, p50: pct(50), p99: pct(99) });
  setTimeout(() => process.exit(0), 50);
} else {
  process.stderr.write("usage: grpc-floor.ts relay | sink|echo <port> <count> | burst <port> <count> <size> | rtt <port> <count> <warmup>\n");
  process.exit(2);
}
