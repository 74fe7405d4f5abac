// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Prints one plain closing line, "N passed, N failed, N skipped", after a run,
// and the reason of every skipped test, so that a skip never goes unexplained.

import type { Reporter, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const reasons: string[] = [];
    for (const m of modules) {
      if (m.state() === "failed" && [...m.children.allTests()].length === 0) failed++;
      for (const t of m.children.allTests()) {
        const r = t.result();
        if (r.state === "passed") passed++;
        else if (r.state === "failed") failed++;
        else if (r.state === "skipped") {
          skipped++;
          reasons.push(`  skipped: ${t.fullName}${r.note ? ` (${r.note})` : ""}`);
        }
      }
    }
    if (reasons.length > 0) process.stdout.write(`${reasons.join("\n")}\n`);
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
