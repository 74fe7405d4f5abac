// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Event-driven graphs: a node parks with awaitSlim() (a LangGraph interrupt),
// the run ends, and the pump resumes that thread when a matching message
// arrives, passing the envelope as the interrupt's answer. Nothing holds a
// superstep while waiting, and the wait survives restarts when the graph has
// a persistent checkpointer. Messages that arrive before their thread parks
// wait in a bounded queue per thread.

import { Command, interrupt, type LangGraphRunnableConfig, type StateSnapshot } from "@langchain/langgraph";
import { SlimError } from "@slim-ts/core";
import { envelopeMatches, SlimEnvelopeSchema, type EnvelopeFilter, type Inbox, type SlimEnvelope } from "./core-agents.js";

/** Marks our interrupts; the value under it is the filter the node waits for. */
export const SLIM_AWAIT_KEY = "slim.await";
const DEFAULT_MAX_PARKED = 100;

type PlainFilter = Omit<EnvelopeFilter, "where">;

/**
 * Park the current node until the pump delivers a message matching `filter`,
 * and return it. Needs a checkpointer. Call it after durable sends (tasks):
 * the node runs again from the top on resume.
 */
export function awaitSlim(filter: PlainFilter = {}): SlimEnvelope {
  const value: unknown = interrupt({ [SLIM_AWAIT_KEY]: filter });
  const r = SlimEnvelopeSchema.safeParse(value);
  if (!r.success) throw new SlimError("INVALID_ARGUMENT", `awaitSlim was resumed with something that is not a SLIM envelope: ${JSON.stringify(value)?.slice(0, 200)}`);
  return r.data;
}

/** The parts of a compiled graph the pump drives. */
export interface PumpableGraph {
  invoke(input: unknown, config: LangGraphRunnableConfig): Promise<unknown>;
  getState(config: LangGraphRunnableConfig): Promise<StateSnapshot>;
  updateState(config: LangGraphRunnableConfig, values: Record<string, unknown>, asNode?: string): Promise<unknown>;
}

export interface SlimGraphPumpOptions {
  inbox: Inbox;
  /** Only these messages are taken from the inbox. */
  filter?: EnvelopeFilter;
  /** The thread a message belongs to: a fixed id, or per message (undefined: dropped, reported to onError). */
  thread: string | ((e: SlimEnvelope) => string | undefined);
  /**
   * resume (default): answer a pending awaitSlim(). ingress: write the envelope
   * to `logKey` as if node `asNode` had, then run the graph on from there.
   */
  mode?: "resume" | "ingress";
  ingress?: { logKey: string; asNode: string };
  /** Messages kept per thread until it parks; default 100, then the oldest is dropped. */
  maxParked?: number;
  /** Extra config for every run (the thread id is added). */
  config?: LangGraphRunnableConfig;
  onResult?: (thread: string, output: unknown) => void;
  onError?: (err: unknown, e?: SlimEnvelope) => void;
}

interface Waiting {
  id: string | undefined;
  filter: PlainFilter;
}

export class SlimGraphPump {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly parkedBy = new Map<string, SlimEnvelope[]>();

  constructor(
    private readonly graph: PumpableGraph,
    private readonly options: SlimGraphPumpOptions,
  ) {
    if (options.mode === "ingress" && options.ingress === undefined) throw new SlimError("INVALID_ARGUMENT", "ingress mode needs `ingress: { logKey, asNode }`");
  }

  private config(thread: string): LangGraphRunnableConfig {
    const base = this.options.config ?? {};
    return { ...base, configurable: { ...base.configurable, thread_id: thread } };
  }

  /** Run `fn` after everything queued for `thread` (runs of one thread never overlap). */
  private serial<T>(thread: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(thread) ?? Promise.resolve();
    const next = prev.then(fn);
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.chains.set(thread, tail);
    void tail.then(() => {
      if (this.chains.get(thread) === tail) this.chains.delete(thread);
    });
    return next;
  }

  /** Start (or continue) `thread` with `input`, then hand it any messages that were waiting for it. */
  start(thread: string, input: unknown): Promise<unknown> {
    return this.serial(thread, async () => {
      const out = await this.graph.invoke(input, this.config(thread));
      this.options.onResult?.(thread, out);
      await this.flush(thread);
      return out;
    });
  }

  /** Messages waiting for `thread` to park. */
  parked(thread: string): readonly SlimEnvelope[] {
    return this.parkedBy.get(thread) ?? [];
  }

  /** Route one message to its thread; resolves once it was delivered or parked. */
  deliver(e: SlimEnvelope): Promise<void> {
    const thread = typeof this.options.thread === "string" ? this.options.thread : this.options.thread(e);
    if (thread === undefined) {
      this.options.onError?.(new SlimError("INVALID_ARGUMENT", `no thread for message ${e.id} from ${e.from}`), e);
      return Promise.resolve();
    }
    return this.serial(thread, async () => {
      if (this.options.mode === "ingress") return this.ingest(thread, e);
      const list = this.parkedBy.get(thread) ?? [];
      list.push(e);
      const max = this.options.maxParked ?? DEFAULT_MAX_PARKED;
      if (list.length > max) this.options.onError?.(new SlimError("SLOW_CONSUMER", `thread ${thread}: dropped message ${list.shift()!.id}`), e);
      this.parkedBy.set(thread, list);
      await this.flush(thread);
    });
  }

  private async ingest(thread: string, e: SlimEnvelope): Promise<void> {
    const { logKey, asNode } = this.options.ingress!;
    const cfg = this.config(thread);
    await this.graph.updateState(cfg, { [logKey]: [e] }, asNode);
    this.options.onResult?.(thread, await this.graph.invoke(null, cfg));
  }

  /** While the thread waits for something that is parked, resume it with that. */
  private async flush(thread: string): Promise<void> {
    for (;;) {
      const list = this.parkedBy.get(thread);
      if (list === undefined || list.length === 0) return;
      const waiting = await this.waitingIn(thread);
      let pick: { w: Waiting; i: number } | undefined;
      for (const w of waiting) {
        const i = list.findIndex((e) => envelopeMatches(e, w.filter));
        if (i >= 0) {
          pick = { w, i };
          break;
        }
      }
      if (pick === undefined) return;
      const [e] = list.splice(pick.i, 1) as [SlimEnvelope];
      const resume = pick.w.id === undefined ? e : { [pick.w.id]: e };
      this.options.onResult?.(thread, await this.graph.invoke(new Command({ resume }), this.config(thread)));
    }
  }

  private async waitingIn(thread: string): Promise<Waiting[]> {
    const snap = await this.graph.getState(this.config(thread));
    const out: Waiting[] = [];
    for (const t of snap.tasks) {
      for (const i of t.interrupts ?? []) {
        const v = i.value as Record<string, unknown> | undefined;
        if (typeof v === "object" && v !== null && SLIM_AWAIT_KEY in v) out.push({ id: i.id, filter: (v[SLIM_AWAIT_KEY] ?? {}) as PlainFilter });
      }
    }
    return out;
  }

  /** Take messages from the inbox and deliver them until `signal` aborts or the inbox closes. */
  async run(options: { signal?: AbortSignal } = {}): Promise<void> {
    for (;;) {
      let e: SlimEnvelope;
      try {
        e = await this.options.inbox.next(this.options.filter, { timeoutMs: 2 ** 31 - 1, ...(options.signal === undefined ? {} : { signal: options.signal }) });
      } catch (err) {
        if (err instanceof SlimError && (err.code === "ABORTED" || err.code === "CLOSED")) return;
        throw err;
      }
      await this.deliver(e).catch((err: unknown) => this.options.onError?.(err, e));
    }
  }
}
