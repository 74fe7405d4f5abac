// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Groups and token streams as the demos use them: an MLS group created by an
// agent hub, and token streams on a group announced by a plain message, so a
// member knows which stream is whose answer before it reads it.

import { randomUUID } from "node:crypto";
import { AGENT_TOKEN_TYPE, DEFAULT_AGENT_RELIABILITY, type AgentHub, type GroupSession, type SessionPort } from "@slim-ts/core";

/** A port on a group session. */
export type GroupPort = SessionPort & { readonly session: GroupSession };

/** Payload type of a stream announcement: `{ stream, kind, ... }` as JSON. */
export const STREAM_ANNOUNCE_TYPE = "application/vnd.slim-ts.example.stream+json";

/**
 * Create an MLS group on `channel` moderated by `hub`'s app, attach it to the
 * hub (its messages go to the hub's inbox, ports, votes) and invite `members`
 * one by one (each invite is an MLS commit every member applies).
 */
export async function createMlsGroup(hub: AgentHub, channel: string, members: readonly string[], onInvited?: (name: string) => void): Promise<GroupPort> {
  const session = await hub.app.createSession({ type: "group", channel }, { reliable: DEFAULT_AGENT_RELIABILITY, mls: true });
  const port = hub.attach(session) as GroupPort;
  for (const m of members) {
    await session.invite(m);
    onInvited?.(m);
  }
  return port;
}

export interface Announcement {
  stream: string;
  kind: string;
  [key: string]: unknown;
}

/**
 * Announce a stream on the group, then send `tokens` as one ordered stream
 * (SessionMux.sendStream: one message per token, then an end frame). Resolves
 * with the tokens sent once every one was acknowledged by every member.
 */
export async function streamToGroup(port: SessionPort, tokens: AsyncIterable<string>, info: { kind: string; [key: string]: unknown }): Promise<string[]> {
  const id = randomUUID();
  await port.publish(JSON.stringify({ ...info, stream: id }), { payloadType: STREAM_ANNOUNCE_TYPE });
  const sent: string[] = [];
  async function* tap(): AsyncGenerator<string> {
    for await (const t of tokens) {
      sent.push(t);
      yield t;
    }
  }
  await port.mux.sendStream(tap(), { id, payloadType: AGENT_TOKEN_TYPE });
  return sent;
}

export interface AnnouncedStream {
  /** Sender (full name). */
  from: string;
  info: Announcement;
  tokens: AsyncIterable<string>;
}

const dec = new TextDecoder();

/** The next stream announced on `port` (optionally of one kind), ready to read token by token. */
export async function nextAnnouncedStream(hub: AgentHub, port: SessionPort, options: { kind?: string; timeoutMs: number }): Promise<AnnouncedStream> {
  const e = await hub.inbox.next(
    {
      to: port.label,
      payloadType: STREAM_ANNOUNCE_TYPE,
      ...(options.kind === undefined ? {} : { where: (x) => (JSON.parse(x.text ?? "{}") as { kind?: string }).kind === options.kind }),
    },
    { timeoutMs: options.timeoutMs },
  );
  const info = JSON.parse(e.text ?? "{}") as Announcement;
  const stream = await port.stream(info.stream, { timeoutMs: options.timeoutMs });
  return {
    from: e.from,
    info,
    tokens: {
      async *[Symbol.asyncIterator]() {
        for await (const m of stream) yield dec.decode(m.payload);
      },
    },
  };
}

/** Read a stream to its end, calling `onToken` for each token; returns the tokens. */
export async function readTokens(tokens: AsyncIterable<string>, onToken?: (t: string) => void): Promise<string[]> {
  const got: string[] = [];
  for await (const t of tokens) {
    got.push(t);
    onToken?.(t);
  }
  return got;
}
