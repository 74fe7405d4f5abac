// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Asking another agent over SLIM, whatever framework runs it. A request is a
// JSON chat transcript sent with SessionMux.request; when it names a stream
// id, the serving agent first sends its tokens as an ordered stream with that
// id (one UTF-8 token per chunk), then replies with the final text. Both
// adapters speak this, so a LangGraph graph can call a LlamaIndex agent and
// the other way round.

import { randomUUID } from "node:crypto";
import { z } from "zod";
import { SlimError } from "../errors.js";
import type { RequestHandler } from "../patterns/mux.js";
import type { SessionMessage } from "../session/types.js";
import type { AbortOptions } from "../util/abort.js";
import type { SessionPort } from "./port.js";

export const AGENT_REQUEST_TYPE = "application/vnd.slim-ts.agent-request+json;v=1";
export const AGENT_REPLY_TYPE = "application/vnd.slim-ts.agent-reply+json;v=1";
export const AGENT_TOKEN_TYPE = "text/plain;slim-ts=token";
/** Agents think slowly: the default bound on one remote run. */
export const DEFAULT_AGENT_TIMEOUT_MS = 120_000;
const MAX_TEXT = 1_000_000;

export const ChatTurnSchema = z.strictObject({
  role: z.enum(["system", "user", "assistant", "tool"]),
  content: z.string().max(MAX_TEXT),
  name: z.string().max(256).optional(),
});
export type ChatTurn = z.output<typeof ChatTurnSchema>;

export const AgentRequestSchema = z.strictObject({
  v: z.literal(1),
  messages: z.array(ChatTurnSchema).min(1).max(1_000),
  /** Conversation id: the serving side keeps state per thread (e.g. a LangGraph checkpoint thread). */
  threadId: z.string().min(1).max(256).optional(),
  /** Stream id for the tokens; absent: reply only. */
  stream: z.string().min(1).max(128).optional(),
});
export type AgentRequest = z.output<typeof AgentRequestSchema>;

export const AgentReplySchema = z.strictObject({ v: z.literal(1), text: z.string().max(MAX_TEXT) });
export type AgentReply = z.output<typeof AgentReplySchema>;

/** What a served agent produces: tokens as strings, optionally a `{ final }` text (else the tokens joined). */
export type AgentEvent = string | { final: string };
export type AgentRun = (request: AgentRequest, context: { from: string; signal: AbortSignal }) => AsyncIterable<AgentEvent>;

function parseJson<S extends z.ZodType>(schema: S, bytes: Uint8Array, what: string): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new SlimError("INVALID_ARGUMENT", `${what} is not JSON`, { cause: err });
  }
  const r = schema.safeParse(value);
  if (!r.success) throw new SlimError("INVALID_ARGUMENT", `invalid ${what}:\n${z.prettifyError(r.error)}`);
  return r.data;
}

/** A request handler for `port` that runs `run` per request, streaming its tokens back when asked to. */
export function agentRequestHandler(port: SessionPort, run: AgentRun): RequestHandler {
  return async (msg: SessionMessage) => {
    const request = parseJson(AgentRequestSchema, msg.payload, "agent request");
    const ctl = new AbortController();
    const parts: string[] = [];
    let final: string | undefined;
    async function* tokens(): AsyncGenerator<string> {
      for await (const ev of run(request, { from: msg.source.toString(), signal: ctl.signal })) {
        if (typeof ev === "string") {
          if (ev === "") continue;
          parts.push(ev);
          yield ev;
        } else final = ev.final;
      }
    }
    try {
      if (request.stream !== undefined) await port.mux.sendStream(tokens(), { id: request.stream, payloadType: AGENT_TOKEN_TYPE });
      else for await (const _ of tokens());
    } finally {
      ctl.abort();
    }
    const reply: AgentReply = { v: 1, text: final ?? parts.join("") };
    return JSON.stringify(reply);
  };
}

/** Rejects when `p` rejects; never resolves otherwise. */
const failureOf = (p: Promise<unknown>): Promise<never> => p.then(() => new Promise<never>(() => {}));

/**
 * Ask the agent behind `port`: yields its tokens in order as they arrive and
 * returns its reply. Bounded by `timeoutMs` (default {@link DEFAULT_AGENT_TIMEOUT_MS}).
 */
export async function* askAgent(
  port: SessionPort,
  messages: readonly ChatTurn[],
  options: AbortOptions & { threadId?: string; stream?: boolean } = {},
): AsyncGenerator<string, AgentReply, void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_AGENT_TIMEOUT_MS;
  const streamId = options.stream === false ? undefined : randomUUID();
  const request: AgentRequest = {
    v: 1,
    messages: [...messages],
    ...(options.threadId === undefined ? {} : { threadId: options.threadId }),
    ...(streamId === undefined ? {} : { stream: streamId }),
  };
  const ctl = new AbortController();
  const signal = options.signal === undefined ? ctl.signal : AbortSignal.any([ctl.signal, options.signal]);
  const streamed = streamId === undefined ? undefined : port.stream(streamId, { signal, timeoutMs });
  streamed?.catch(() => {});
  const replied = port.mux.request(JSON.stringify(request), { payloadType: AGENT_REQUEST_TYPE, signal, timeoutMs });
  replied.catch(() => {});
  try {
    if (streamed !== undefined) {
      const stream = await Promise.race([streamed, failureOf(replied)]);
      const it = stream[Symbol.asyncIterator]();
      try {
        for (;;) {
          const r = await Promise.race([it.next(), failureOf(replied)]);
          if (r.done === true) break;
          yield new TextDecoder().decode(r.value.payload);
        }
      } finally {
        await it.return?.();
      }
    }
    const reply = await replied;
    return parseJson(AgentReplySchema, reply.payload, "agent reply");
  } finally {
    ctl.abort();
  }
}

/** {@link askAgent} without the generator: tokens go to `onToken`, the reply comes back. */
export async function callAgent(
  port: SessionPort,
  messages: readonly ChatTurn[],
  options: AbortOptions & { threadId?: string; stream?: boolean; onToken?: (token: string) => void } = {},
): Promise<AgentReply> {
  const { onToken, ...rest } = options;
  const gen = askAgent(port, messages, rest);
  try {
    for (;;) {
      const r = await gen.next();
      if (r.done === true) return r.value;
      onToken?.(r.value);
    }
  } finally {
    // stop reading the stream (and the request) if onToken threw
    await gen.return(undefined as never);
  }
}
