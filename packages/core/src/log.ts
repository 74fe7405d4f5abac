// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

export interface Logger {
  trace(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

const LEVELS = ["trace", "debug", "info", "warn", "error", "off"] as const;
type Level = (typeof LEVELS)[number];
const noop = (): void => {};

export const noopLogger: Logger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => noopLogger,
};

/**
 * A logger writing JSON lines to stderr, configured like RUST_LOG:
 * `SLIM_TS_LOG=debug` or `SLIM_TS_LOG=warn,link=debug,datapath=trace`.
 * Returns the no-op logger when the variable is unset.
 */
export function loggerFromEnv(spec: string | undefined = process.env.SLIM_TS_LOG): Logger {
  if (spec === undefined || spec.trim() === "") return noopLogger;
  let base: Level = "info";
  const per = new Map<string, Level>();
  for (const part of spec.split(",")) {
    const [a, b] = part.split("=").map((s) => s.trim()) as [string, string | undefined];
    if (b === undefined) {
      if ((LEVELS as readonly string[]).includes(a)) base = a as Level;
    } else if ((LEVELS as readonly string[]).includes(b)) per.set(a, b as Level);
  }
  const make = (component: string): Logger => {
    const min = LEVELS.indexOf(per.get(component) ?? base);
    const at = (level: Level) =>
      LEVELS.indexOf(level) < min
        ? noop
        : (msg: string, fields?: Record<string, unknown>) => {
            const line = { t: new Date().toISOString(), level, component, msg, ...fields };
            process.stderr.write(`${JSON.stringify(line, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}\n`);
          };
    return {
      trace: at("trace"),
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      child: (c: string) => make(component === "" ? c : `${component}.${c}`),
    };
  };
  return make("");
}
