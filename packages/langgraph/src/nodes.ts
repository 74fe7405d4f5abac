// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Graph nodes that talk SLIM. Every side effect runs inside a LangGraph
// task(): its result is checkpointed, so when a node runs again (after an
// interrupt and resume, or a retry after a later failure) the message is not
// sent twice, the inbox is not read twice and a vote is not opened twice.
// Nodes return envelopes for a SlimLogChannel key and, optionally, messages.

import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { task } from "@langchain/langgraph";
import type { SessionProposalInput, VerifiedOutcome, VoteOutcome } from "@slim-ts/core";
import { SlimError } from "@slim-ts/core";
import type { AgentHub, EnvelopeFilter, Inbox, SessionPort, SlimEnvelope } from "./core-agents.js";
import { envelopeToMessage } from "./messages.js";

type State = Record<string, unknown>;
export type SlimNode<S> = (state: S, config: LangGraphRunnableConfig) => Promise<Record<string, unknown>>;

/** Where a node sends: a port, a peer through the hub (allow-listed), or an attached group. */
export type SlimTarget<S> = SessionPort | { hub: AgentHub; to: string | ((state: S) => string) } | { hub: AgentHub; group: string };

const isPort = (t: unknown): t is SessionPort => typeof t === "object" && t !== null && "mux" in t && "label" in t;

async function portFor<S>(target: SlimTarget<S>, to: string | undefined): Promise<SessionPort> {
  if (isPort(target)) return target;
  if ("group" in target) {
    const p = target.hub.group(target.group);
    if (p === undefined) throw new SlimError("INVALID_ARGUMENT", `not in group ${target.group}`);
    return p;
  }
  return target.hub.peer(to as string);
}

/**
 * Durable SLIM calls for use inside any node: each runs as a task, so a
 * re-run of the node replays the recorded envelope instead of sending again.
 */
export function slimTasks(hub: AgentHub): {
  send: (a: { to: string; text: string }) => Promise<SlimEnvelope>;
  broadcast: (a: { group: string; text: string }) => Promise<SlimEnvelope>;
} {
  // task() types its result as a promise of what the function returns; awaiting flattens it
  const send = task<[{ to: string; text: string }], Promise<SlimEnvelope>>("slim.send", async (a) => (await hub.peer(a.to)).publish(a.text));
  const broadcast = task<[{ group: string; text: string }], Promise<SlimEnvelope>>("slim.broadcast", async (a) => (await portFor({ hub, group: a.group }, undefined)).publish(a.text));
  return { send: async (a) => await send(a), broadcast: async (a) => await broadcast(a) };
}

/** Send `text(state)` to the target once per node run; the envelope goes to `logKey`. */
export function slimSendNode<S extends State>(target: SlimTarget<S>, options: { text: (state: S) => string; logKey?: string }): SlimNode<S> {
  const send = task<[{ to?: string; text: string }], Promise<SlimEnvelope>>("slim.send", async (a) => (await portFor(target, a.to)).publish(a.text));
  return async (state) => {
    const to = !isPort(target) && "to" in target ? (typeof target.to === "function" ? target.to(state) : target.to) : undefined;
    const env = await send({ ...(to === undefined ? {} : { to }), text: options.text(state) });
    return options.logKey === undefined ? {} : { [options.logKey]: [env] };
  };
}

export interface ReceiveNodeOptions<S> {
  filter?: EnvelopeFilter;
  /** Stop once this holds for what arrived (and for the state). */
  until?: (got: readonly SlimEnvelope[], state: S) => boolean;
  max?: number;
  /** The collection window; what arrived by then is returned. */
  timeoutMs: number;
  logKey?: string;
  /** Also append the texts as HumanMessages under this key (e.g. "messages"). */
  messagesKey?: string;
}

/**
 * Take messages from the inbox (waiting up to `timeoutMs`). The node holds its
 * superstep while it waits: for long waits prefer the pump (pump.ts). Each
 * arrival is reported on the "custom" stream as `{ slim: "received", id, from }`.
 */
export function slimReceiveNode<S extends State>(source: AgentHub | Inbox, options: ReceiveNodeOptions<S>): SlimNode<S> {
  const inbox = "inbox" in source ? source.inbox : source;
  return async (state, config) => {
    const receive = task<[], Promise<SlimEnvelope[]>>("slim.receive", async () => {
      const got = await inbox.collect({
        ...(options.filter === undefined ? {} : { filter: options.filter }),
        ...(options.max === undefined ? {} : { max: options.max }),
        ...(options.until === undefined ? {} : { until: (g: readonly SlimEnvelope[]) => options.until!(g, state) }),
        timeoutMs: options.timeoutMs,
        ...(config.signal === undefined ? {} : { signal: config.signal }),
      });
      for (const e of got) config.writer?.({ slim: "received", id: e.id, from: e.from });
      return got;
    });
    const got = await receive();
    const out: Record<string, unknown> = {};
    if (options.logKey !== undefined) out[options.logKey] = got;
    if (options.messagesKey !== undefined) out[options.messagesKey] = got.map(envelopeToMessage);
    return out;
  };
}

/** A closed vote as the vote node stores it (plain JSON). */
export type VoteRecord = Omit<VoteOutcome, "commits">;

/**
 * Open a vote on a group as its moderator and wait for the result, stored
 * under `resultKey`. Progress (accepted and rejected ballots) goes to the
 * "custom" stream.
 */
export function slimVoteNode<S extends State>(group: SessionPort, options: { proposal: (state: S) => SessionProposalInput; resultKey: string }): SlimNode<S> {
  return async (state, config) => {
    const vote = task<[SessionProposalInput], Promise<VoteRecord>>("slim.vote", async (input) => {
      if (group.voting === undefined) throw new SlimError("INVALID_ARGUMENT", `voting is off on ${group.label}`);
      const round = await group.voting.open(input);
      void (async () => {
        for await (const p of round.progress()) config.writer?.({ slim: "vote", ...p });
      })().catch(() => undefined);
      const { commits: _c, ...outcome } = await round.result();
      return outcome;
    });
    return { [options.resultKey]: await vote(options.proposal(state)) };
  };
}

/**
 * Wait for the next vote opened on `group`, cast `decide(proposal, state)` and
 * wait for the moderator's result, which is recounted here before it is
 * stored under `resultKey` (a tampered result fails the node with INTEGRITY).
 */
export function slimBallotNode<S extends State>(
  group: SessionPort,
  options: { decide: (proposal: VoteOutcome["proposal"], state: S) => string[] | Promise<string[]>; resultKey: string; timeoutMs?: number },
): SlimNode<S> {
  return async (state, config) => {
    const ballot = task<[], Promise<VerifiedOutcome>>("slim.ballot", async () => {
      const vote = await group.nextVote({ ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }), ...(config.signal === undefined ? {} : { signal: config.signal }) });
      if (vote.eligible) await vote.cast(await options.decide(vote.proposal, state));
      return vote.result();
    });
    return { [options.resultKey]: await ballot() };
  };
}
