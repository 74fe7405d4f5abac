// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The SLIM tools an LLM agent gets, independent of any framework: a name, a
// description, a zod schema for the arguments and a `call` that validates
// them again (LlamaIndex runs a tool even when its schema check failed),
// checks names against the hub's allow-list and returns a string for the
// model. Errors are SlimError("INVALID_ARGUMENT") with text a model can act on.

import { z } from "zod";
import { SlimError } from "../errors.js";
import type { AbortOptions } from "../util/abort.js";
import { VoteStrategySchema } from "../voting/proposal.js";
import type { AgentHub } from "./hub.js";
import type { SessionPort } from "./port.js";
import { callAgent, DEFAULT_AGENT_TIMEOUT_MS } from "./remote.js";

export const AGENT_TOOL_NAMES = ["slim_send", "slim_request", "slim_broadcast", "slim_read_inbox", "slim_open_vote", "slim_cast_ballot"] as const;
export type AgentToolName = (typeof AGENT_TOOL_NAMES)[number];

const MAX_TOOL_TEXT = 64_000;
const PeerName = z.string().min(1).max(512).describe("SLIM name of the agent, org/namespace/service");
const GroupName = z.string().min(1).max(512).describe("SLIM group channel, org/namespace/room");
const Text = z.string().min(1).max(MAX_TOOL_TEXT);

export const SendArgsSchema = z.strictObject({ to: PeerName, text: Text.describe("message text") });
export const RequestArgsSchema = z.strictObject({
  to: PeerName,
  text: Text.describe("what to ask"),
  timeoutMs: z.int().min(1).max(600_000).optional().describe("how long to wait for the answer, ms"),
});
export const BroadcastArgsSchema = z.strictObject({ group: GroupName, text: Text.describe("message for every member") });
export const ReadInboxArgsSchema = z.strictObject({
  from: z.string().min(1).max(512).optional().describe("only messages from this agent (org/namespace/service)"),
  max: z.int().min(1).max(100).default(20).describe("at most this many messages"),
});
export const OpenVoteArgsSchema = z.strictObject({
  group: GroupName,
  question: z.string().min(1).max(4_096),
  choices: z.array(z.string().min(1).max(256)).min(2).max(16).describe("the options, distinct"),
  strategy: VoteStrategySchema.default("majority"),
  durationMs: z.int().min(10).max(600_000).default(30_000).describe("how long the vote stays open, ms"),
});
export const CastBallotArgsSchema = z
  .strictObject({
    proposalId: z.string().min(1).max(128).describe("id of the open vote (see slim_read_inbox)"),
    choice: z.string().min(1).max(256).optional().describe("your choice (majority, plurality, weighted)"),
    choices: z.array(z.string().min(1).max(256)).min(1).max(64).optional().describe("approved set, or ranking best first (approval, ranked)"),
  })
  .refine((a) => (a.choice === undefined) !== (a.choices === undefined), "give exactly one of `choice` or `choices`");

/** A framework-neutral tool. */
export interface AgentTool<S extends z.ZodType = z.ZodType> {
  readonly name: AgentToolName;
  readonly description: string;
  readonly schema: S;
  /** Validate `args` with `schema`, then run; the string (plain text or JSON) goes back to the model. */
  call(args: unknown, options?: AbortOptions): Promise<string>;
  /** As `call`, but the result as a JSON value (for frameworks that format tool output themselves). */
  invoke(args: unknown, options?: AbortOptions): Promise<JsonValue>;
}

export interface AgentToolsOptions {
  /** Which tools; default all. */
  include?: readonly AgentToolName[];
  /** Default bound for slim_request; default {@link DEFAULT_AGENT_TIMEOUT_MS}. */
  requestTimeoutMs?: number;
}

/** Parse tool arguments or throw SlimError("INVALID_ARGUMENT") naming the tool and every problem. */
export function parseToolArgs<S extends z.ZodType>(tool: string, schema: S, args: unknown): z.output<S> {
  const r = schema.safeParse(args);
  if (!r.success) throw new SlimError("INVALID_ARGUMENT", `${tool}: invalid arguments:\n${z.prettifyError(r.error)}`);
  return r.data;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

function define<S extends z.ZodType>(name: AgentToolName, description: string, schema: S, run: (a: z.output<S>, o: AbortOptions) => Promise<JsonValue>): AgentTool<S> {
  const invoke = (args: unknown, options: AbortOptions = {}) => run(parseToolArgs(name, schema, args), options);
  return {
    name,
    description,
    schema,
    invoke,
    async call(args, options) {
      const out = await invoke(args, options);
      return typeof out === "string" ? out : JSON.stringify(out);
    },
  };
}

function groupPort(hub: AgentHub, channel: string): SessionPort {
  const port = hub.group(channel);
  if (port === undefined) {
    const known = hub.groups();
    throw new SlimError("INVALID_ARGUMENT", `${JSON.stringify(channel)} is not a group this agent is in${known.length === 0 ? "" : `; groups: ${known.join(", ")}`}`);
  }
  return port;
}

const abortOnly = (o: AbortOptions) => (o.signal === undefined ? {} : { signal: o.signal });

/** The SLIM tools over `hub`; names are stable across the LangGraph and LlamaIndex adapters. */
export function agentTools(hub: AgentHub, options: AgentToolsOptions = {}): AgentTool[] {
  const peers = hub.allow.entries();
  const allowed = peers.length === 0 ? "" : ` Allowed agents: ${peers.join(", ")}.`;
  const all: AgentTool[] = [
    define("slim_send", `Send a text message to another agent over SLIM (no answer awaited).${allowed}`, SendArgsSchema, async (a, o) => {
      const port = await hub.peer(a.to, abortOnly(o));
      const env = await port.publish(a.text, abortOnly(o));
      return { sent: env.id, to: port.label };
    }),
    define("slim_request", `Ask another agent over SLIM and wait for its answer.${allowed}`, RequestArgsSchema, async (a, o) => {
      const port = await hub.peer(a.to, abortOnly(o));
      const reply = await callAgent(port, [{ role: "user", content: a.text }], {
        ...abortOnly(o),
        timeoutMs: a.timeoutMs ?? o.timeoutMs ?? options.requestTimeoutMs ?? DEFAULT_AGENT_TIMEOUT_MS,
      });
      return reply.text;
    }),
    define("slim_broadcast", "Send a text message to every member of a SLIM group this agent is in.", BroadcastArgsSchema, async (a, o) => {
      const env = await groupPort(hub, a.group).publish(a.text, abortOnly(o));
      return { sent: env.id, group: a.group };
    }),
    define("slim_read_inbox", "Read (and remove) messages that arrived for this agent, oldest first, and list votes open for it.", ReadInboxArgsSchema, async (a) => {
      const messages = hub.inbox.take(a.from === undefined ? undefined : { from: a.from }, a.max).map((e) => ({
        id: e.id,
        from: e.from,
        ...(e.to === undefined ? {} : { via: e.to }),
        text: e.text ?? `<${e.payloadType}, binary>`,
      }));
      const openVotes = hub
        .ports()
        .flatMap((p) => p.openVotes().map((v) => ({ group: p.label, v })))
        .filter(({ v }) => v.eligible)
        .map(({ group, v }) => ({ proposalId: v.proposal.id, group, question: v.proposal.question, choices: [...v.proposal.choices], strategy: v.proposal.strategy }));
      return { messages, openVotes };
    }),
    define("slim_open_vote", "Open a vote among the other members of a SLIM group and wait for its verified result.", OpenVoteArgsSchema, async (a, o) => {
      const port = groupPort(hub, a.group);
      if (port.voting === undefined) throw new SlimError("INVALID_ARGUMENT", `voting is off on ${a.group}`);
      const round = await port.voting.open({ question: a.question, choices: a.choices, strategy: a.strategy, durationMs: a.durationMs }, abortOnly(o));
      const { result } = await round.result(abortOnly(o));
      return { proposalId: result.proposalId, status: result.status, winner: result.winner, scores: { ...result.scores }, turnout: result.turnout, digest: result.digest };
    }),
    define("slim_cast_ballot", "Cast this agent's ballot in an open vote.", CastBallotArgsSchema, async (a, o) => {
      const vote = hub
        .ports()
        .map((p) => p.vote(a.proposalId))
        .find((v) => v !== undefined);
      if (vote === undefined) throw new SlimError("INVALID_ARGUMENT", `no open vote ${JSON.stringify(a.proposalId)}; slim_read_inbox lists the open ones`);
      const selection = a.choices ?? [a.choice as string];
      await vote.cast(selection, abortOnly(o));
      return { proposalId: a.proposalId, cast: [...selection] };
    }),
  ];
  if (options.include === undefined) return all;
  const wanted = new Set(options.include);
  return all.filter((t) => wanted.has(t.name));
}
