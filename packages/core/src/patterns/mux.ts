// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Request/reply and ordered streams on top of a session. A session is read once,
// so a SessionMux reads it and routes: replies to their waiting requests,
// requests to the server handler, stream frames to their stream, everything
// else to messages(). Control lives in message metadata (keys below), so a
// plain app on the other side still sees ordinary messages.

import { randomUUID } from "node:crypto";
import { SlimError } from "../errors.js";
import type { SessionMessage, SessionPublishOptions } from "../session/types.js";
import { AsyncQueue } from "../util/async-queue.js";
import { withDeadline, type AbortOptions } from "../util/abort.js";
import { ChunkBatcher, type CoalesceOptions, StreamChunk, unpackChunks } from "./stream-batch.js";

export const META_KIND = "slim-ts-kind";
export const META_ID = "slim-ts-id";
export const META_SEQ = "slim-ts-seq";
export const META_ERROR = "slim-ts-error";

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_STREAM_BUFFER = 10_000;
/** Chunks a stream sender keeps unacknowledged before it waits. */
const STREAM_WINDOW = 1_024;

/** The part of a session the mux needs (P2P and group sessions both fit). */
export interface MuxableSession extends AsyncIterable<SessionMessage> {
  readonly kind?: "p2p" | "group";
  publish(data: Uint8Array | string, options?: SessionPublishOptions): Promise<void>;
}

/**
 * How a reply finds its request. "id" (default): a correlation id in the metadata, which
 * our apps echo. "order": the next reply that carries none, for peers that answer with a
 * plain message, e.g. official SLIM apps answering with publish_to (in a group only direct
 * replies count); requests in this mode are answered in the order they were sent.
 */
export type Correlation = "id" | "order";

export interface ServeOptions {
  /** Also answer plain messages (no correlation id) as requests, e.g. from official apps. */
  plain?: boolean;
}

export type RequestHandler = (request: SessionMessage) => Promise<Uint8Array | string> | Uint8Array | string;

/** One incoming stream: chunks in order, ended by the sender, or failed. */
export interface IncomingStream extends AsyncIterable<SessionMessage> {
  readonly id: string;
  readonly source: string;
}

const enc = new TextEncoder();
const bytes = (d: Uint8Array | string): Uint8Array => (typeof d === "string" ? enc.encode(d) : d);

interface StreamState {
  queue: AsyncQueue<SessionMessage>;
  next: number;
}

export class SessionMux {
  private readonly pending = new Map<string, { resolve: (m: SessionMessage) => void; reject: (e: SlimError) => void }>();
  private readonly plain: AsyncQueue<SessionMessage>;
  private readonly incomingStreams = new AsyncQueue<IncomingStream>(1_000);
  private readonly streams = new Map<string, StreamState>();
  private handler: RequestHandler | undefined;
  private servePlain = false;
  private readonly inOrder: Array<{ resolve: (m: SessionMessage) => void; reject: (e: SlimError) => void }> = [];
  private readonly reading: Promise<void>;

  constructor(
    private readonly session: MuxableSession,
    options: { maxPending?: number } = {},
  ) {
    this.plain = new AsyncQueue(options.maxPending ?? DEFAULT_STREAM_BUFFER);
    this.reading = this.read();
  }

  private async read(): Promise<void> {
    let failure: SlimError | undefined;
    try {
      for await (const m of this.session) this.route(m);
    } catch (err) {
      failure = SlimError.from(err, "RECEIVE");
    }
    const err = failure ?? new SlimError("CLOSED", "session closed");
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const p of this.inOrder.splice(0)) p.reject(err);
    for (const s of this.streams.values()) s.queue.fail(err);
    this.streams.clear();
    if (failure) this.plain.fail(failure);
    else this.plain.end();
    this.incomingStreams.end();
  }

  private route(m: SessionMessage): void {
    const kind = m.metadata[META_KIND];
    const id = m.metadata[META_ID];
    if (kind === undefined || id === undefined) {
      // a plain answer to an order-correlated request (in a group: only a direct reply)
      if (this.inOrder.length > 0 && (this.session.kind !== "group" || m.metadata["PUBLISH_TO"] === "TRUE")) return this.inOrder.shift()!.resolve(m);
      if (this.servePlain && this.handler !== undefined) return void this.answer(m, undefined);
      if (!this.plain.push(m)) this.plain.fail(new SlimError("SLOW_CONSUMER", "too many unread messages"));
      return;
    }
    switch (kind) {
      case "reply":
      case "reply-error": {
        const p = this.pending.get(id);
        if (p === undefined) return; // late reply after a timeout
        this.pending.delete(id);
        if (kind === "reply") p.resolve(m);
        else p.reject(new SlimError("SESSION", `remote handler failed: ${m.metadata[META_ERROR] ?? "unknown error"}`));
        return;
      }
      case "request":
        return void this.answer(m, id);
      case "chunk":
      case "chunks":
      case "end":
      case "error":
        return this.onStreamFrame(m, kind, id);
      default:
        if (!this.plain.push(m)) this.plain.fail(new SlimError("SLOW_CONSUMER", "too many unread messages"));
    }
  }

  // ---- request / reply ----------------------------------------------------

  /** Send a request and wait for its reply (correlated by id), bounded by `timeoutMs`. */
  request(data: Uint8Array | string, options: AbortOptions & { payloadType?: string; correlation?: Correlation } = {}): Promise<SessionMessage> {
    if (options.correlation === "order") return this.requestInOrder(data, options);
    const id = randomUUID();
    return withDeadline("request", options, DEFAULT_REQUEST_TIMEOUT_MS, (signal) => {
      const reply = new Promise<SessionMessage>((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        signal.addEventListener("abort", () => this.pending.delete(id), { once: true });
      });
      const sent = this.session.publish(bytes(data), {
        ...(options.payloadType === undefined ? {} : { payloadType: options.payloadType }),
        metadata: { [META_KIND]: "request", [META_ID]: id },
      });
      return sent.then(() => reply);
    });
  }

  private requestInOrder(data: Uint8Array | string, options: AbortOptions & { payloadType?: string }): Promise<SessionMessage> {
    return withDeadline("request", options, DEFAULT_REQUEST_TIMEOUT_MS, (signal) => {
      const reply = new Promise<SessionMessage>((resolve, reject) => {
        const waiter = { resolve, reject };
        this.inOrder.push(waiter);
        // a request given up on keeps its place, so later replies still line up with theirs
        signal.addEventListener("abort", () => (waiter.resolve = () => undefined), { once: true });
      });
      const sent = this.session.publish(bytes(data), options.payloadType === undefined ? {} : { payloadType: options.payloadType });
      return sent.then(() => reply);
    });
  }

  /**
   * Answer every request with `handler`, directly to its sender (in a group, the others do
   * not see it); a thrown error goes back as a reply-error.
   */
  serve(handler: RequestHandler, options: ServeOptions = {}): void {
    this.handler = handler;
    this.servePlain = options.plain === true;
  }

  /** `id` undefined: a plain request, answered with a plain reply (or nothing, if the handler fails). */
  private async answer(req: SessionMessage, id: string | undefined): Promise<void> {
    const h = this.handler;
    const respond = (data: Uint8Array, metadata: Record<string, string>) => req.reply(data, { metadata });
    let out: Promise<void>;
    try {
      if (h === undefined) throw new SlimError("SESSION", "no request handler on this session");
      const result = await h(req);
      out = respond(bytes(result), id === undefined ? {} : { [META_KIND]: "reply", [META_ID]: id });
    } catch (err) {
      if (id === undefined) return;
      const message = SlimError.from(err).message.slice(0, 1_000);
      out = respond(new Uint8Array(0), { [META_KIND]: "reply-error", [META_ID]: id, [META_ERROR]: message });
    }
    await out.catch(() => {});
  }

  // ---- ordered streams ----------------------------------------------------

  /**
   * Send an async iterable as one ordered stream (e.g. LLM tokens): one message per chunk, then an
   * end frame; if the source throws, an error frame. Chunks are pipelined (a reliable session's
   * in-flight window paces them); the promise settles once every chunk is acknowledged (reliable)
   * or handed over.
   *
   * `coalesce` (for readers that are slim-ts apps): chunks the source produces within one turn of
   * the event loop go out as one "chunks" frame (the first chunk always alone, at once), which the
   * reader hands out one by one. A buffered answer then costs a few messages instead of one per
   * token; a source that waits between chunks still sends each as it comes. Readers built on the
   * official bindings that parse our frames (examples/official-agent) know only "chunk" frames.
   */
  async sendStream(
    source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
    options: { id?: string; payloadType?: string; coalesce?: boolean | CoalesceOptions } = {},
  ): Promise<string> {
    const id = options.id ?? randomUUID();
    const payloadType = options.payloadType ?? "stream";
    let seq = 0;
    const meta = (kind: string, extra: Record<string, string> = {}) => ({ [META_KIND]: kind, [META_ID]: id, [META_SEQ]: String(seq++), ...extra });
    const outstanding: Array<Promise<void>> = [];
    const track = (sent: Promise<void>) => {
      sent.catch(() => undefined); // a failure surfaces through settle()/the window, never as an unhandled rejection
      outstanding.push(sent);
    };
    const settle = async () => {
      await Promise.all(outstanding.splice(0));
    };
    const coalesce = options.coalesce === true ? {} : options.coalesce === false ? undefined : options.coalesce;
    const batcher = coalesce === undefined ? undefined : new ChunkBatcher(coalesce, (payload, kind) => track(this.session.publish(payload, { payloadType, metadata: meta(kind) })));
    try {
      let n = 0;
      for await (const chunk of source) {
        let sentFrame: boolean;
        if (batcher !== undefined) sentFrame = batcher.add(bytes(chunk), n === 0);
        else {
          track(this.session.publish(bytes(chunk), { payloadType, metadata: meta("chunk") }));
          sentFrame = n === 0 || n % 64 === 63;
        }
        // a sliding window: wait for the oldest frame only, so the pipe never drains
        if (outstanding.length >= STREAM_WINDOW) await outstanding.shift();
        // A source that never waits (a buffered answer) would otherwise keep the socket
        // from being written until the window fills: let the first chunk, then every 64th
        // (with a batcher: every full frame), reach the wire.
        else if (sentFrame) await new Promise((r) => setImmediate(r));
        n++;
      }
      batcher?.flush();
    } catch (err) {
      batcher?.flush();
      outstanding.push(this.session.publish(new Uint8Array(0), { metadata: meta("error", { [META_ERROR]: SlimError.from(err).message.slice(0, 1_000) }) }));
      await settle().catch(() => {});
      throw err;
    }
    outstanding.push(this.session.publish(new Uint8Array(0), { metadata: meta("end") }));
    await settle();
    return id;
  }

  /** Streams the peer opens, as they start. */
  incoming(): AsyncIterable<IncomingStream> {
    return this.incomingStreams;
  }

  private onStreamFrame(m: SessionMessage, kind: string, id: string): void {
    let s = this.streams.get(id);
    if (s === undefined) {
      const queue = new AsyncQueue<SessionMessage>(DEFAULT_STREAM_BUFFER, () => this.streams.delete(id));
      s = { queue, next: 0 };
      this.streams.set(id, s);
      const source = m.source.toString();
      this.incomingStreams.push({ id, source, [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator]() });
    }
    const seq = Number(m.metadata[META_SEQ]);
    if (seq !== s.next) {
      s.queue.fail(new SlimError("RECEIVE", `stream ${id}: expected chunk ${s.next}, got ${seq} (use a reliable session for lossless streams)`));
      this.streams.delete(id);
      return;
    }
    s.next++;
    if (kind === "chunk" || kind === "chunks") {
      let chunks: SessionMessage[];
      try {
        chunks = kind === "chunk" ? [m] : unpackChunks(m.payload).map((payload) => new StreamChunk(m, payload));
      } catch (err) {
        s.queue.fail(SlimError.from(err));
        this.streams.delete(id);
        return;
      }
      for (const c of chunks) {
        if (!s.queue.push(c)) {
          s.queue.fail(new SlimError("SLOW_CONSUMER", `stream ${id}: reader is too slow`));
          this.streams.delete(id);
          return;
        }
      }
      return;
    }
    this.streams.delete(id);
    if (kind === "end") s.queue.end();
    else s.queue.fail(new SlimError("RECEIVE", `stream ${id} failed at the sender: ${m.metadata[META_ERROR] ?? "unknown error"}`));
  }

  /** Messages that are not requests, replies or stream frames. */
  messages(): AsyncIterable<SessionMessage> {
    return this.plain;
  }

  /** Resolves when the session's messages end. */
  get done(): Promise<void> {
    return this.reading;
  }
}
