// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// `--import=./bench/prof-hook.mjs` with SLIM_PROFILE=<prefix>: CPU-profile this
// process's main thread until it exits and write <prefix>.<pid>.cpuprofile.
// (--cpu-prof cannot go in NODE_OPTIONS, and under tsx it profiles the loader.)

import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";

const prefix = process.env.SLIM_PROFILE;
if (prefix) {
  const ins = new Session();
  ins.connect();
  ins.post("Profiler.enable");
  ins.post("Profiler.setSamplingInterval", { interval: 200 });
  ins.post("Profiler.start");
  // an in-process inspector session answers synchronously, so this works in an exit handler
  process.on("exit", () =>
    ins.post("Profiler.stop", (err, r) => {
      if (!err) writeFileSync(`${prefix}.${process.pid}.cpuprofile`, JSON.stringify(r.profile));
    }),
  );
}
