// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Preload (`node --import ./bench/socket-trace.mjs ...`): timestamps every socket
// write and 'data' event of the process (CLOCK_MONOTONIC, comparable between
// processes), plus marks made with globalThis.__traceMark(tag), and writes the
// last 50 000 to $SLIM_TRACE_DIR/<$SLIM_TRACE_ROLE>.json when the process exits
// (SIGTERM included). Diagnostic only: it wraps net.Socket methods.

import fs from "node:fs";
import net from "node:net";
import path from "node:path";

const now = () => Number(process.hrtime.bigint()) / 1e6;
const events = [];
const keep = () => {
  if (events.length > 100_000) events.splice(0, 50_000);
};
const write = net.Socket.prototype.write;
net.Socket.prototype.write = function (data, ...rest) {
  events.push([now(), "W"]);
  keep();
  return write.call(this, data, ...rest);
};
const emit = net.Socket.prototype.emit;
net.Socket.prototype.emit = function (event, ...rest) {
  if (event === "data") {
    events.push([now(), "R"]);
    keep();
  }
  return emit.call(this, event, ...rest);
};
globalThis.__traceMark = (tag) => events.push([now(), tag]);
const dir = process.env.SLIM_TRACE_DIR ?? "/tmp";
process.on("exit", () => fs.writeFileSync(path.join(dir, `${process.env.SLIM_TRACE_ROLE ?? process.pid}.json`), JSON.stringify(events.slice(-50_000))));
process.on("SIGTERM", () => process.exit(0));
