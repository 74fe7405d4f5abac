// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A SLIM conversation as a LangGraph state key. The channel is a log of
// envelopes and nothing more: LangGraph calls update() synchronously, on
// scratch copies and again on replay, so it must not touch the network.
// Sending and receiving happen in nodes (nodes.ts) and in the pump (pump.ts);
// the channel only merges what they write, deduplicated by id and bounded,
// and checkpoints as plain JSON.

import { BaseChannel, InvalidUpdateError, ReducedValue } from "@langchain/langgraph";
import { z } from "zod";
import { DEFAULT_MAX_ENVELOPES, mergeEnvelopes, SlimEnvelopeSchema, type SlimEnvelope } from "./core-agents.js";

export const DEFAULT_LOG_DEDUPE_WINDOW = 10_000;

export interface SlimLogOptions {
  /** Envelopes kept, newest last; default 1000. */
  maxEntries?: number;
  /** Ids remembered after their envelope was trimmed, so a late duplicate stays out; default 10 000. */
  dedupeWindow?: number;
}

/** What the channel stores in a checkpoint: JSON only. */
export interface SlimLogCheckpoint {
  entries: SlimEnvelope[];
  seen: string[];
}

export type SlimLogUpdate = SlimEnvelope | SlimEnvelope[];

function isEnvelope(v: unknown): v is SlimEnvelope {
  return typeof v === "object" && v !== null && typeof (v as { id?: unknown }).id === "string" && typeof (v as { from?: unknown }).from === "string";
}

/**
 * Use as a field of `Annotation.Root({ team: new SlimLogChannel() })`. Reads give
 * the envelopes (an empty array before any write); writes are an envelope or a
 * list of them. Order-insensitive per id and idempotent, so replayed writes and
 * retransmitted messages change nothing.
 */
export class SlimLogChannel extends BaseChannel<SlimEnvelope[], SlimLogUpdate, SlimLogCheckpoint> {
  lc_graph_name = "SlimLog";
  private entries: SlimEnvelope[] = [];
  private seen: string[] = [];
  private readonly maxEntries: number;
  private readonly dedupeWindow: number;

  constructor(options: SlimLogOptions = {}) {
    super();
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENVELOPES;
    this.dedupeWindow = Math.max(options.dedupeWindow ?? DEFAULT_LOG_DEDUPE_WINDOW, this.maxEntries);
  }

  fromCheckpoint(checkpoint?: SlimLogCheckpoint): this {
    const c = new SlimLogChannel({ maxEntries: this.maxEntries, dedupeWindow: this.dedupeWindow }) as this;
    if (checkpoint !== undefined) {
      c.entries = [...checkpoint.entries];
      c.seen = [...checkpoint.seen];
    }
    return c;
  }

  update(values: SlimLogUpdate[]): boolean {
    const known = new Set(this.seen);
    const added: SlimEnvelope[] = [];
    for (const v of values.flat()) {
      if (!isEnvelope(v)) throw new InvalidUpdateError(`SlimLogChannel takes SLIM envelopes (objects with an id and a sender), got ${JSON.stringify(v)?.slice(0, 100)}`);
      if (known.has(v.id)) continue;
      known.add(v.id);
      added.push(v);
    }
    if (added.length === 0) return false;
    const entries = [...this.entries, ...added];
    this.entries = entries.length > this.maxEntries ? entries.slice(entries.length - this.maxEntries) : entries;
    const seen = [...this.seen, ...added.map((e) => e.id)];
    this.seen = seen.length > this.dedupeWindow ? seen.slice(seen.length - this.dedupeWindow) : seen;
    return true;
  }

  get(): SlimEnvelope[] {
    return this.entries;
  }

  checkpoint(): SlimLogCheckpoint {
    return { entries: this.entries, seen: this.seen };
  }

  override isAvailable(): boolean {
    return true;
  }

  override equals(other: BaseChannel): boolean {
    return other instanceof SlimLogChannel && other.maxEntries === this.maxEntries && other.dedupeWindow === this.dedupeWindow;
  }
}

/** A SLIM log field for `Annotation.Root`. */
export const slimLog = (options: SlimLogOptions = {}): SlimLogChannel => new SlimLogChannel(options);

/**
 * The same log for `new StateSchema({...})`, which takes reducers, not channels:
 * dedupe within the kept entries, bounded to `maxEntries`.
 */
export function slimLogValue(options: Pick<SlimLogOptions, "maxEntries"> = {}): ReducedValue<SlimEnvelope[], SlimLogUpdate> {
  const max = options.maxEntries ?? DEFAULT_MAX_ENVELOPES;
  return new ReducedValue(z.array(SlimEnvelopeSchema).default(() => []), {
    inputSchema: z.union([SlimEnvelopeSchema, z.array(SlimEnvelopeSchema)]),
    reducer: (current: SlimEnvelope[], next: SlimLogUpdate) => mergeEnvelopes(current, next, max),
  });
}

/** A reducer for `Annotation<SlimEnvelope[], SlimLogUpdate>({ reducer, default })`. */
export const appendUniqueById =
  (max: number = DEFAULT_MAX_ENVELOPES) =>
  (current: SlimEnvelope[], update: SlimLogUpdate): SlimEnvelope[] =>
    mergeEnvelopes(current, update, max);
