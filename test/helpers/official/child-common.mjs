// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Shared plumbing for the two child programs (official-node.mjs, official-app.mjs).
// A child talks to its parent only over the IPC channel created by child_process.fork:
//   parent -> child  {id, cmd, args}
//   child  -> parent {id, ok: true, result} | {id, ok: false, error}
//   child  -> parent {ready: true, ...} once, or {ready: false, error} before exiting.
// stdout stays silent; diagnostics go to stderr only when SLIM_HARNESS_DEBUG=1.

import slim from "@agntcy/slim-bindings";

export { slim };

export const DEBUG = process.env.SLIM_HARNESS_DEBUG === "1";

/** Monotonic milliseconds (CLOCK_MONOTONIC, comparable across processes on one host). */
export const hrms = () => Number(process.hrtime.bigint()) / 1e6;

export function makeLogger(tag) {
  if (!DEBUG) return () => {};
  return (...parts) => {
    const text = parts.map((p) => (typeof p === "string" ? p : safeJson(p))).join(" ");
    process.stderr.write(`[${new Date().toISOString()}] ${tag}: ${text}\n`);
  };
}

function safeJson(v) {
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
  } catch {
    return String(v);
  }
}

/** Text of an error thrown by the bindings (UniFFI errors carry `tag` and `inner.message`). */
export function errorText(e) {
  if (e == null) return "unknown error";
  const inner = e.inner?.message;
  const tag = typeof e.tag === "string" ? e.tag : undefined;
  if (inner) return tag ? `${tag}: ${inner}` : inner;
  return e.message ?? String(e);
}

/**
 * Initialise the bindings once for this process. Rust tracing writes to stdout, so it is
 * off unless SLIM_HARNESS_DEBUG=1 (then SLIM_HARNESS_RUST_LOG, default "info"; the parent
 * maps the child's stdout onto its stderr in that mode).
 */
export function initBindings() {
  const tracing = slim.newTracingConfig();
  tracing.logLevel = DEBUG ? (process.env.SLIM_HARNESS_RUST_LOG ?? "info") : "off";
  // initializeWithConfigs panics with an empty service list: give the global service a default config.
  slim.initializeWithConfigs(slim.newRuntimeConfig(), tracing, [slim.newServiceConfig()]);
}

let exiting = false;

/** Leave after the IPC queue has had a moment to flush. */
export function exitSoon(code = 0) {
  if (exiting) return;
  exiting = true;
  setTimeout(() => process.exit(code), 20);
}

/** Die with the parent: IPC disconnect (parent exit, crash or kill) and SIGTERM/SIGINT end the child. */
export function bindLifetime() {
  if (!process.send) {
    process.stderr.write("this program must be started with child_process.fork (IPC channel)\n");
    process.exit(2);
  }
  process.on("disconnect", () => {
    if (DEBUG) process.stderr.write(`[${new Date().toISOString()}] ${process.pid}: parent gone (IPC disconnect), exiting\n`);
    process.exit(0);
  });
  for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
}

export function send(msg) {
  if (process.connected) process.send(msg);
}

/**
 * Serve `{id, cmd, args}` requests with `handlers[cmd](args)`. Requests run concurrently;
 * each gets exactly one reply.
 */
export function serveCommands(handlers, log) {
  process.on("message", async (msg) => {
    if (!msg || typeof msg !== "object" || msg.id === undefined) return;
    const { id, cmd, args } = msg;
    const handler = Object.hasOwn(handlers, cmd) ? handlers[cmd] : undefined;
    if (!handler) {
      send({ id, ok: false, error: `unknown command "${cmd}"` });
      return;
    }
    log("->", cmd, args ?? {});
    try {
      const result = await handler(args ?? {});
      log("<-", cmd, "ok", result);
      send({ id, ok: true, result: result ?? null });
    } catch (e) {
      const error = errorText(e);
      log("<-", cmd, "failed", error);
      send({ id, ok: false, error });
    }
  });
}
