// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Reading .cpuprofile files: the hottest frames, mapped to src file:line.

import fs from "node:fs";
import path from "node:path";
import { SourceMap, type SourceMapPayload } from "node:module";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const sourceMaps = new Map<string, SourceMap | null>();

/** `file:line` of a profile frame, mapped through the .js.map of compiled (dist) files. */
function frameLocation(url: string, line0: number, col0: number): string {
  if (!url) return "";
  const file = url.startsWith("file://") ? fileURLToPath(url) : url;
  let loc = `${path.relative(ROOT, file) || file}:${line0 + 1}`;
  if (file.endsWith(".js") && file.includes(`${path.sep}dist${path.sep}`)) {
    let sm = sourceMaps.get(file);
    if (sm === undefined) {
      try {
        sm = new SourceMap(JSON.parse(fs.readFileSync(`${file}.map`, "utf8")) as SourceMapPayload);
      } catch {
        sm = null;
      }
      sourceMaps.set(file, sm);
    }
    const e = sm?.findEntry(line0, col0) as { originalSource?: string; originalLine?: number } | undefined;
    if (e?.originalSource !== undefined && e.originalLine !== undefined) {
      const src = e.originalSource.startsWith("file://") ? fileURLToPath(e.originalSource) : path.resolve(path.dirname(file), e.originalSource);
      loc = `${path.relative(ROOT, src)}:${e.originalLine + 1}`;
    }
  }
  return loc;
}

/** Self and inclusive time per frame of a .cpuprofile, idle excluded, plus who calls the hottest frames. */
export function topFrames(file: string, n: number): string[] {
  const p = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const parent = new Map<number, number>();
  for (const x of p.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
  const keys = new Map<number, string>();
  const key = (id: number) => {
    let k = keys.get(id);
    if (k === undefined) {
      const cf = byId.get(id)!.callFrame;
      k = `${cf.functionName || "(anonymous)"} ${frameLocation(cf.url, cf.lineNumber, cf.columnNumber)}`.trim();
      keys.set(id, k);
    }
    return k;
  };
  const selfBy = new Map<string, number>();
  const inclBy = new Map<string, number>();
  const callers = new Map<string, Map<string, number>>();
  let total = 0;
  let idle = 0;
  for (const [id, t] of self) {
    total += t;
    const k = key(id);
    if (k.startsWith("(idle)")) {
      idle += t;
      continue;
    }
    selfBy.set(k, (selfBy.get(k) ?? 0) + t);
    // nearest caller that is not a node-internal or native frame
    let c = parent.get(id);
    while (c !== undefined && (/ node:|^\S+$/.test(key(c)) || key(c) === k)) c = parent.get(c);
    const ck = c === undefined ? "(root)" : key(c);
    const m = callers.get(k) ?? new Map<string, number>();
    m.set(ck, (m.get(ck) ?? 0) + t);
    callers.set(k, m);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const kk = key(cur);
      if (seen.has(kk)) continue;
      seen.add(kk);
      inclBy.set(kk, (inclBy.get(kk) ?? 0) + t);
    }
  }
  const busy = total - idle;
  const pct = (t: number) => `${((t / busy) * 100).toFixed(1)}%`;
  const out = [`  busy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms sampled (% of busy time)`, "  self time (top callers in slim-ts/grpc code):"];
  for (const [k, t] of [...selfBy].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    const cs = [...(callers.get(k) ?? [])].sort((a, b) => b[1] - a[1]).slice(0, 3);
    out.push(`    ${pct(t).padStart(6)}  ${k}`);
    if (!k.includes("packages/") && cs.length > 0 && cs[0]![0] !== "(root)") {
      out.push(`            <- ${cs.map(([c, ct]) => `${c} ${pct(ct)}`).join("; ")}`);
    }
  }
  out.push("  inclusive time (slim-ts frames):");
  for (const [k, t] of [...inclBy].filter(([k]) => k.includes("packages/")).sort((a, b) => b[1] - a[1]).slice(0, n)) {
    out.push(`    ${pct(t).padStart(6)}  ${k}`);
  }
  return out;
}


// `tsx bench/profile-util.ts <file.cpuprofile> [n]` prints the table for one file.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.stdout.write(`${topFrames(process.argv[2]!, Number(process.argv[3] ?? 25)).join("\n")}\n`);
}
