// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A small terminal view in plain ANSI: token streams side by side, redrawn
// in place as tokens arrive, and a bar chart. When stdout is not a terminal
// (CI, a pipe) or DEMO_PLAIN=1, it prints plain lines instead: each stream
// once it ended, bars as `#` characters.

const ESC = "\x1b[";
const color = {
  dim: (s: string) => `${ESC}2m${s}${ESC}0m`,
  bold: (s: string) => `${ESC}1m${s}${ESC}0m`,
  green: (s: string) => `${ESC}32m${s}${ESC}0m`,
  cyan: (s: string) => `${ESC}36m${s}${ESC}0m`,
  magenta: (s: string) => `${ESC}35m${s}${ESC}0m`,
  yellow: (s: string) => `${ESC}33m${s}${ESC}0m`,
};
const PANE_COLORS = [color.cyan, color.magenta, color.yellow, color.green];

export interface Out {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Whether the view animates (a terminal, and DEMO_PLAIN unset). */
export function isLive(out: Out = process.stdout): boolean {
  return out.isTTY === true && process.env.DEMO_PLAIN !== "1";
}

/** Wrap `text` (newlines kept) to `width` columns. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const para of text.split("\n")) {
    let line = "";
    for (const word of para.split(/(\s+)/)) {
      if (word === "") continue;
      if (line.length + word.length > width && line.trim() !== "") {
        lines.push(line.trimEnd());
        line = word.trimStart();
      } else line += word;
      while (line.length > width) {
        lines.push(line.slice(0, width));
        line = line.slice(width);
      }
    }
    lines.push(line.trimEnd());
  }
  return lines;
}

const pad = (s: string, n: number) => (s.length >= n ? s.slice(0, n) : s + " ".repeat(n - s.length));

export interface Pane {
  append(token: string): void;
  /** Mark the stream finished, with a status shown under it. */
  finish(status: string): void;
  readonly text: string;
}

/**
 * Streams side by side. Live: a block of `height` lines per pane, redrawn at
 * most every 40 ms; close() draws the final state. Plain: each pane prints
 * its title, text and status once it finishes.
 */
export class SideBySide {
  private readonly texts: string[];
  private readonly status: (string | undefined)[];
  private drawn = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly live: boolean;

  constructor(
    private readonly titles: readonly string[],
    private readonly options: { height?: number; out?: Out } = {},
  ) {
    this.texts = titles.map(() => "");
    this.status = titles.map(() => undefined);
    this.live = isLive(this.out);
    if (this.live) this.draw();
  }

  private get out(): Out {
    return this.options.out ?? process.stdout;
  }

  pane(i: number): Pane {
    const self = this;
    return {
      append(token: string) {
        self.texts[i] += token;
        self.schedule();
      },
      finish(status: string) {
        self.status[i] = status;
        if (self.live) self.schedule();
        else self.out.write(`\n[${self.titles[i]}]\n${wrap(self.texts[i] ?? "", 100).join("\n")}\n  -> ${status}\n`);
      },
      get text() {
        return self.texts[i] ?? "";
      },
    };
  }

  private schedule(): void {
    if (!this.live || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, 40);
  }

  private draw(): void {
    const n = this.titles.length;
    const total = Math.max(40, Math.min(this.out.columns || 100, 160));
    const gap = 3;
    const w = Math.floor((total - gap * (n - 1)) / n);
    const height = this.options.height ?? 8;
    const cols = this.titles.map((title, i) => {
      const paint = PANE_COLORS[i % PANE_COLORS.length]!;
      const body = wrap(this.texts[i] ?? "", w).slice(-height);
      while (body.length < height) body.push("");
      const st = this.status[i];
      return {
        head: paint(color.bold(pad(title, w))),
        rule: paint("─".repeat(w)),
        body: body.map((l) => pad(l, w)),
        foot: st === undefined ? color.dim(pad("streaming…", w)) : color.green(pad(st, w)),
      };
    });
    const sep = " ".repeat(gap);
    const lines = [
      cols.map((c) => c.head).join(sep),
      cols.map((c) => c.rule).join(sep),
      ...Array.from({ length: height }, (_, r) => cols.map((c) => c.body[r]).join(sep)),
      cols.map((c) => c.foot).join(sep),
    ];
    let s = "";
    if (this.drawn > 0) s += `${ESC}${this.drawn}F${ESC}J`; // back to the block's first line, clear below
    s += lines.join("\n") + "\n";
    this.out.write(s);
    this.drawn = lines.length;
  }

  /** Final draw (live) and stop redrawing. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.live) this.draw();
  }
}

/**
 * A bar chart of `scores`. Live: bars grow over ~`animateMs`. Plain: one line
 * per entry, `#` bars.
 */
export async function barChart(title: string, scores: Record<string, number>, options: { out?: Out; animateMs?: number; marks?: Record<string, string> } = {}): Promise<void> {
  const out = options.out ?? process.stdout;
  const entries = Object.entries(scores);
  const max = Math.max(1, ...entries.map(([, v]) => v));
  const label = Math.max(...entries.map(([k]) => k.length));
  const width = 30;
  const row = (k: string, v: number, frac: number, live: boolean) => {
    const len = Math.round((v / max) * width * frac);
    const bar = live ? color.green("█".repeat(len)) + color.dim("·".repeat(width - len)) : "#".repeat(len) + " ".repeat(width - len);
    const mark = options.marks?.[k] === undefined ? "" : ` ${options.marks[k]}`;
    return `  ${pad(k, label)}  ${bar} ${v}${mark}`;
  };
  if (!isLive(out)) {
    out.write(`\n${title}\n${entries.map(([k, v]) => row(k, v, 1, false)).join("\n")}\n`);
    return;
  }
  out.write(`\n${color.bold(title)}\n`);
  const steps = 12;
  const animate = options.animateMs ?? 600;
  for (let s = 1; s <= steps; s++) {
    if (s > 1) out.write(`${ESC}${entries.length}F${ESC}J`);
    out.write(entries.map(([k, v]) => row(k, v, s / steps, true)).join("\n") + "\n");
    if (s < steps) await new Promise((r) => setTimeout(r, animate / steps));
  }
}

/** A heading line. */
export function heading(text: string, out: Out = process.stdout): void {
  out.write(isLive(out) ? `\n${color.bold(text)}\n` : `\n== ${text}\n`);
}

/** A plain line. */
export function say(text: string, out: Out = process.stdout): void {
  out.write(`${text}\n`);
}

/** Colours for stdout lines; plain text when the view is not live. */
export const paint = Object.fromEntries(Object.entries({ ...color, ok: color.green }).map(([k, f]) => [k, (s: string) => (isLive() ? f(s) : s)])) as Record<
  keyof typeof color | "ok",
  (s: string) => string
>;
