// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// `--import=./bench/prof-hook.mjs` with SLIM_PROFILE=<prefix>: CPU-profile this
// process's main thread until it exits and write <prefix>.<pid>.cpuprofile.
// (--cpu-prof cannot go in NODE_OPTIONS, and under tsx it profiles the loader.)
// With SLIM_PROFILE_SIGNAL=1 the profile covers only the span between a first and a
// second SIGUSR2 (bench/mls.ts --prof-invite), written at the second.

import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";

const prefix = process.env.SLIM_PROFILE;
if (prefix) {
  const ins = new Session();
  ins.connect();
  ins.post("Profiler.enable");
  ins.post("Profiler.setSamplingInterval", { interval: Number(process.env.SLIM_PROFILE_INTERVAL_US ?? 200) });
  let running = false;
  // an in-process inspector session answers synchronously, so this works in an exit handler
  const stop = () => {
    if (!running) return;
    running = false;
    ins.post("Profiler.stop", (err, r) => {
      if (!err) writeFileSync(`${prefix}.${process.pid}.cpuprofile`, JSON.stringify(r.profile));
    });
  };
  const start = () => {
    running = true;
    ins.post("Profiler.start");
  };
  if (process.env.SLIM_PROFILE_SIGNAL === "1") process.on("SIGUSR2", () => (running ? stop() : start()));
  else start();
  process.on("exit", stop);
}
