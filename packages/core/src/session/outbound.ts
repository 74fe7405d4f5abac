// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// What p2p and group sessions share when the app sends: the payload as the
// sender keeps it, waiting for the app's links to take more, and the optional
// deadline of a reliable publish.

import { SlimError } from "../errors.js";
import type { Checkpoints } from "../persist/checkpoints.js";
import { withDeadline, type AbortOptions } from "../util/abort.js";
import { SessionMessageType, type ProtoMessage } from "../wire/gen/dataplane.js";
import { publishOf } from "./build.js";
import type { OutboundData } from "./sender.js";
import type { SessionPublishOptions } from "./types.js";

export const DEFAULT_PUBLISH_TIMEOUT_MS = 60_000;

const utf8 = new TextEncoder();

/** A payload as bytes: strings are sent as UTF-8; anything else is refused (it would go out empty). */
export function payloadOf(data: Uint8Array | string): Uint8Array {
  if (typeof data === "string") return utf8.encode(data);
  if (data instanceof Uint8Array) return data;
  throw new SlimError("INVALID_ARGUMENT", `a payload must be a Uint8Array or a string, not ${data === null ? "null" : typeof data}`);
}

/**
 * The app's payload as the data sender keeps it (for resends), plus `extra` metadata;
 * SlimError("INVALID_ARGUMENT") for a payload that is neither bytes nor text.
 */
export function outboundOf(data: Uint8Array | string, options: SessionPublishOptions, extra?: [string, string]): OutboundData {
  const blob = payloadOf(data);
  const metadata = new Map(Object.entries(options.metadata ?? {}));
  if (extra !== undefined) metadata.set(extra[0], extra[1]);
  return { payloadType: options.payloadType ?? "msg", blob, metadata };
}

/** `send` the payload as the sender keeps it; a payload that is neither bytes nor text rejects instead. */
export function sendOutbound(data: Uint8Array | string, options: SessionPublishOptions, send: (out: OutboundData) => Promise<void>, extra?: [string, string]): Promise<void> {
  let out: OutboundData;
  try {
    out = outboundOf(data, options, extra);
  } catch (err) {
    return Promise.reject(err);
  }
  return send(out);
}

/** Run `send` once the app's links can take more output; settles as the send does. */
export function whenWritable(host: { runWhenWritable(run: () => void): void }, send: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve, reject) => host.runWhenWritable(() => void send().then(resolve, reject)));
}

/**
 * A reliable send bounded by the caller's signal or timeout when it gave one; without, it still
 * settles (acked, or the retries ran out). Unreliable sends settle at once and need no bound.
 */
export function bounded(sent: Promise<void>, reliable: boolean, options: AbortOptions, what: string): Promise<void> {
  if (!reliable || (options.signal === undefined && options.timeoutMs === undefined)) return sent;
  return withDeadline(what, options, DEFAULT_PUBLISH_TIMEOUT_MS, () => sent);
}

/**
 * Output of a session without MLS (MLS sessions go through MlsPipe). Saved for restore, a data
 * message leaves only once a save covering its id is done (a restart goes on after it), in order;
 * everything else, and everything of an unsaved session, leaves at once.
 */
export class SessionOutput {
  #tail: Promise<void> = Promise.resolve();

  constructor(private readonly host: { send(msg: ProtoMessage): void; readonly log?: { warn(msg: string, fields?: Record<string, unknown>): void } | undefined }) {}

  send(msg: ProtoMessage, saves: Checkpoints | undefined): void | Promise<void> {
    if (saves === undefined || publishOf(msg)?.session?.sessionMessageType !== SessionMessageType.MSG) return this.host.send(msg);
    const ready = saves.request();
    return (this.#tail = Promise.all([this.#tail, ready]).then(
      () => this.host.send(msg),
      (err: unknown) => this.host.log?.warn("message not sent: the session state could not be saved", { error: SlimError.from(err).message }),
    ));
  }
}
