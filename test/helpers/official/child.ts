// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Parent side of the IPC protocol spoken by official-node.mjs and official-app.mjs:
// fork, wait for {ready}, correlate {id, cmd, args} requests with {id, ok, result|error}
// replies, and kill (SIGTERM, then SIGKILL after a grace period). Internal to this folder.

import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const DEBUG = process.env.SLIM_HARNESS_DEBUG === "1";
const KILL_GRACE_MS = 2_000;
const STDERR_TAIL_BYTES = 4_096;

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
type ReadyMessage = { ready: true } & Record<string, unknown>;

interface Pending {
  cmd: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export interface ForkSpec {
  /** Human label used in every error, e.g. `official app "org/ns/alice"`. */
  label: string;
  /** File name next to this module. */
  script: string;
  args?: string[];
  env?: Record<string, string>;
}

export class ChildHandle {
  readonly label: string;
  readonly pid: number;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  readonly #exited: Promise<void>;
  #nextId = 1;
  #stderrTail = "";
  #exitText: string | null = null;
  #closing: Promise<void> | null = null;

  constructor(spec: ForkSpec) {
    this.label = spec.label;
    const script = fileURLToPath(new URL(spec.script, import.meta.url));
    // Debug: the child's stdout (Rust tracing) and stderr both land on our stderr; otherwise stdout
    // is dropped and stderr kept as a short tail for error messages.
    this.#child = fork(script, spec.args ?? [], {
      env: { ...process.env, ...spec.env },
      execArgv: [],
      serialization: "json",
      stdio: DEBUG ? ["ignore", 2, 2, "ipc"] : ["ignore", "ignore", "pipe", "ipc"],
    });
    if (this.#child.pid === undefined) throw new Error(`${this.label}: fork of ${spec.script} failed`);
    this.pid = this.#child.pid;
    // Never keep the test process alive on our account: pending calls hold their own timers.
    this.#child.unref();
    this.#child.channel?.unref();
    (this.#child.stderr as { unref?: () => void } | null)?.unref?.();
    this.#child.stderr?.setEncoding("utf8");
    this.#child.stderr?.on("data", (chunk: string) => {
      this.#stderrTail = (this.#stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
    });
    this.#child.on("message", (m: unknown) => this.#onMessage(m));
    this.#exited = new Promise((resolve) => {
      this.#child.once("exit", (code, signal) => {
        this.#exitText = signal ? `killed by ${signal}` : `exited with code ${code}`;
        for (const [id, p] of this.#pending) {
          clearTimeout(p.timer);
          this.#pending.delete(id);
          p.reject(this.#error(`process ${this.#exitText} during ${p.cmd}`));
        }
        resolve();
      });
    });
    // A failed IPC write shows up here (e.g. the child is gone); the exit handler reports it.
    this.#child.on("error", () => {});
  }

  get exited(): boolean {
    return this.#exitText !== null;
  }

  /** Resolves with the child's `{ready: true, ...}` message; kills the child on failure. */
  async ready<T extends object>(timeoutMs: number): Promise<T & ReadyMessage> {
    let onMessage: ((m: unknown) => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<T & ReadyMessage>((resolve, reject) => {
        onMessage = (m: unknown) => {
          if (!m || typeof m !== "object" || !("ready" in m)) return;
          const msg = m as { ready: boolean; error?: string };
          if (msg.ready) resolve(msg as T & ReadyMessage);
          else reject(this.#error(`failed to start: ${msg.error ?? "unknown error"}`));
        };
        this.#child.on("message", onMessage);
        timer = setTimeout(() => reject(this.#error(`not ready after ${timeoutMs} ms`)), timeoutMs);
        void this.#exited.then(() => reject(this.#error(`process ${this.#exitText} before it was ready`)));
      });
    } catch (e) {
      await this.close();
      throw e;
    } finally {
      clearTimeout(timer);
      if (onMessage) this.#child.off("message", onMessage);
    }
  }

  /** One command; rejects on `{ok: false}`, on timeout and if the process dies meanwhile. */
  call<T>(cmd: string, args: object, timeoutMs: number): Promise<T> {
    if (this.#exitText !== null) return Promise.reject(this.#error(`${cmd}: process already ${this.#exitText}`));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(this.#error(`${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { cmd, resolve: resolve as (v: unknown) => void, reject, timer });
      try {
        this.#child.send({ id, cmd, args });
      } catch (e) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(this.#error(`${cmd}: IPC send failed: ${(e as Error).message}`));
      }
    });
  }

  /** Waits up to `ms` for the process to exit on its own; true if it did. */
  async waitExit(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
    try {
      return await Promise.race([this.#exited.then(() => true as const), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM, then SIGKILL after 2 s. Idempotent; resolves once the process is gone. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#exitText !== null) return;
      this.#child.ref(); // keep the event loop alive until the exit event arrives
      this.#child.kill("SIGTERM");
      if (!(await this.waitExit(KILL_GRACE_MS))) {
        this.#child.kill("SIGKILL");
        await this.#exited;
      }
    })();
    return this.#closing;
  }

  #onMessage(m: unknown): void {
    if (!m || typeof m !== "object" || !("id" in m)) return;
    const reply = m as Reply;
    const p = this.#pending.get(reply.id);
    if (!p) return;
    clearTimeout(p.timer);
    this.#pending.delete(reply.id);
    if (reply.ok) p.resolve(reply.result);
    else p.reject(this.#error(`${p.cmd} failed: ${reply.error}`));
  }

  #error(text: string): Error {
    const tail = this.#stderrTail.trim();
    return new Error(`${this.label} (pid ${this.pid}): ${text}${tail ? `\n--- child stderr (tail) ---\n${tail}` : ""}`);
  }
}
