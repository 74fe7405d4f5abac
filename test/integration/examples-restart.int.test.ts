// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// examples/restart as a user runs it: a worker killed with SIGKILL restores its MLS group
// session from its store and answers the tasks after the restart; the program exits 0 only then.

import { describe, expect, it } from "vitest";
import { runExample } from "../helpers/examples.js";

describe("examples/restart", () => {
  it("a worker killed mid-work restores its MLS group session and answers every task", async () => {
    const { code, out, err } = await runExample("restart", 50_000);
    expect(code, `${out}\n${err}`).toBe(0);
    expect(out).toMatch(/worker started again and restored \[\{"sessionId":\d+,"epoch":"1"\}\]/);
    for (let i = 0; i < 6; i++) expect(out).toContain(`${i} + ${i * 10} -> ${i} + ${i * 10} = ${i * 11}`);
    expect(out).toContain("every task answered, before and after the restart");
  }, 55_000);
});
