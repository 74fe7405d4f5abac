// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// A low-level endpoint: one named app attached to a datapath, able to subscribe
// (locally or through an upstream link), publish raw SLIM messages and receive
// what is routed to it. The session layer is built on this.

import { randomBytes } from "node:crypto";
import type { MessageProcessor } from "./datapath/processor.js";
import { SlimError } from "./errors.js";
import { attachLocal, type LocalConnection } from "./link/local.js";
import type { Name } from "./names/name.js";
import { AsyncQueue } from "./util/async-queue.js";
import { withDeadline, type AbortOptions } from "./util/abort.js";
import {
  SessionMessageType,
  SessionType,
  type ProtoMessage,
  type ProtoPublish,
  type ProtoSessionHeader,
  type ProtoSLIMHeader,
} from "./wire/gen/dataplane.js";
import { DEFAULT_MESSAGE_TTL, SLIM_PROTOCOL_VERSION, newHeader, subscribeMessage } from "./wire/message.js";
import { protoNameOf, toProtoName } from "./wire/names.js";

export const DEFAULT_SUBSCRIBE_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_PENDING = 10_000;

export interface EndpointOptions {
  /** The app's name, with its instance id. */
  name: Name;
  /** Identity token placed in every header (empty until an identity provider is set). */
  identity?: string;
  /** Inbound messages buffered before new ones are dropped (default 10 000). */
  maxPending?: number;
}

export interface PublishOptions {
  payloadType?: string;
  fanout?: number;
  metadata?: Map<string, string>;
  session?: Partial<ProtoSessionHeader>;
}

export class Endpoint implements AsyncDisposable {
  readonly name: Name;
  identity: string;
  private readonly conn: LocalConnection;
  private readonly inbox: AsyncQueue<ProtoMessage>;
  private readonly acks = new Map<bigint, (ok: boolean, error: string) => void>();
  private readonly errors: SlimError[] = [];
  private errorHandler: ((err: SlimError, msg: ProtoMessage) => void) | undefined;
  private sink: ((msg: ProtoMessage) => void) | undefined;
  private closed = false;
  private nextSubId = randomBytes(8).readBigUInt64BE() >> 1n;
  private readonly subs = new Map<string, { id: bigint; via: number | undefined }>();

  constructor(
    private readonly processor: MessageProcessor,
    options: EndpointOptions,
  ) {
    this.name = options.name;
    this.identity = options.identity ?? "";
    this.inbox = new AsyncQueue(options.maxPending ?? DEFAULT_MAX_PENDING);
    this.conn = attachLocal(
      processor,
      {
        deliver: (m) => (this.sink === undefined ? this.inbox.push(m) : (this.sink(m), true)),
        ack: (id, ok, err) => {
          const f = this.acks.get(id);
          this.acks.delete(id);
          f?.(ok, err);
        },
        error: (err, msg) => {
          if (this.errorHandler !== undefined) return this.errorHandler(err, msg);
          if (this.errors.length < 100) this.errors.push(err);
        },
      },
      options.name.toString(),
    );
    // A reader that falls behind pauses the links that send to it (HTTP/2 flow control then
    // slows those senders) instead of losing messages; the hard cap only bites for
    // in-process senders, which cannot be paused.
    const max = this.inbox.maxPending;
    this.inbox.setWatermarks(
      Math.max(1, Math.floor(max / 2)),
      Math.floor(max / 8),
      () => processor.congestion(this.conn, true),
      () => processor.congestion(this.conn, false),
    );
  }

  private readonly holds = new Set<number>();

  get connectionId(): number {
    return this.conn.id;
  }

  /**
   * Flow control from a consumer above this endpoint (a session's unread backlog): while any
   * `key` is held, this endpoint counts as congested, so the links that send to it stop
   * being read.
   */
  holdInput(key: number, hold: boolean): void {
    const had = this.holds.size > 0;
    if (hold) this.holds.add(key);
    else this.holds.delete(key);
    if (had !== this.holds.size > 0) this.processor.holdInput(this.conn, this.holds.size > 0);
  }

  /** Run `send` when this process's links can take more output (see MessageProcessor.runWhenWritable). */
  runWhenWritable(send: () => void): void {
    this.processor.runWhenWritable(send);
  }

  /** Receive the datapath's errors for our messages (no route, refused) as they happen, instead of collecting them. */
  onError(handler: (err: SlimError, msg: ProtoMessage) => void): void {
    this.errorHandler = handler;
  }

  /** Errors the datapath reported for our messages (no route, refused), oldest first; clears the list. */
  takeErrors(): SlimError[] {
    return this.errors.splice(0);
  }

  /**
   * Route `name` to this endpoint. With `via`, the subscription is also sent
   * upstream on that link and the promise resolves when the upstream node acks.
   */
  subscribe(name: Name, options: AbortOptions & { via?: number } = {}): Promise<void> {
    return this.subscription(name, true, options);
  }

  unsubscribe(name: Name, options: AbortOptions & { via?: number } = {}): Promise<void> {
    return this.subscription(name, false, options);
  }

  /**
   * Send traffic for `name` out on link `via` (the official `setRoute`): a
   * purely local route, nothing goes on the wire.
   */
  route(name: Name, via: number, options: AbortOptions = {}): Promise<void> {
    return this.localRoute(name, via, true, options);
  }

  unroute(name: Name, via: number, options: AbortOptions = {}): Promise<void> {
    return this.localRoute(name, via, false, options);
  }

  private localRoute(name: Name, via: number, add: boolean, options: AbortOptions): Promise<void> {
    const subId = this.nextSubId++;
    const header = newHeader(toProtoName(this.name), toProtoName(name), { identity: this.identity, recvFrom: BigInt(via) });
    return this.awaitAck(subId, `${add ? "route" : "unroute"} ${name.toString()}`, options, subscribeMessage(header, subId, add));
  }

  private awaitAck(subId: bigint, what: string, options: AbortOptions, msg: ProtoMessage): Promise<void> {
    if (this.closed) return Promise.reject(new SlimError("CLOSED", `${what}: endpoint is closed`));
    return withDeadline(what, options, DEFAULT_SUBSCRIBE_TIMEOUT_MS, (signal) => {
      return new Promise<void>((resolve, reject) => {
        this.acks.set(subId, (ok, error) => (ok ? resolve() : reject(new SlimError("CONNECTION", `${what} refused: ${error}`))));
        signal.addEventListener("abort", () => this.acks.delete(subId), { once: true });
        this.conn.submit(msg);
      });
    });
  }

  private subscription(name: Name, add: boolean, options: AbortOptions & { via?: number }): Promise<void> {
    if (this.closed) return Promise.reject(new SlimError("CLOSED", `${add ? "subscribe" : "unsubscribe"} ${name.toString()}: endpoint is closed`));
    const key = `${name.toString()}@${options.via ?? "local"}`;
    const known = this.subs.get(key);
    if (!add && known === undefined) return Promise.reject(new SlimError("INVALID_ARGUMENT", `not subscribed to ${name.toString()}`));
    const subId = add ? this.nextSubId++ : known!.id;
    const header = newHeader(toProtoName(this.name), toProtoName(name), { identity: this.identity });
    if (options.via !== undefined) header.forwardTo = BigInt(options.via);
    return withDeadline(`${add ? "subscribe" : "unsubscribe"} ${name.toString()}`, options, DEFAULT_SUBSCRIBE_TIMEOUT_MS, (signal) => {
      return new Promise<void>((resolve, reject) => {
        this.acks.set(subId, (ok, error) => {
          if (!ok) return reject(new SlimError("CONNECTION", `subscription refused: ${error}`));
          if (add) this.subs.set(key, { id: subId, via: options.via });
          else this.subs.delete(key);
          resolve();
        });
        signal.addEventListener("abort", () => this.acks.delete(subId), { once: true });
        this.conn.submit(subscribeMessage(header, subId, add));
      });
    });
  }

  /** Send a message to `destination`; returns synchronously (routing errors arrive via takeErrors()). */
  publish(destination: Name, payload: Uint8Array, options: PublishOptions = {}): void {
    this.conn.submit(this.buildPublish(destination, payload, options));
  }

  buildPublish(destination: Name, payload: Uint8Array, options: PublishOptions = {}): ProtoMessage {
    const header: ProtoSLIMHeader = {
      source: protoNameOf(this.name),
      destination: protoNameOf(destination),
      identity: this.identity,
      fanout: options.fanout ?? 1,
      version: SLIM_PROTOCOL_VERSION,
      ttl: DEFAULT_MESSAGE_TTL,
    };
    const value: ProtoPublish = {
      header,
      session:
        options.session === undefined
          ? { sessionType: SessionType.POINT_TO_POINT, sessionMessageType: SessionMessageType.MSG, sessionId: 0, messageId: 0 }
          : {
              sessionType: SessionType.POINT_TO_POINT,
              sessionMessageType: SessionMessageType.MSG,
              sessionId: 0,
              messageId: 0,
              ...options.session,
            },
      msg: { contentType: { case: "appPayload", value: { payloadType: options.payloadType ?? "msg", blob: payload } } },
    };
    return { messageType: { case: "publish", value }, metadata: options.metadata ?? new Map() };
  }

  /** Hand a fully built message to the datapath. */
  submit(msg: ProtoMessage): void {
    this.conn.submit(msg);
  }

  /**
   * Take every message routed here synchronously, as it arrives, instead of through messages()
   * (the session layer does: it demultiplexes at once into bounded per-session queues). The
   * handler must not throw.
   */
  setSink(handler: (msg: ProtoMessage) => void): void {
    this.sink = handler;
    for (const m of this.inbox.drain()) handler(m);
  }

  /** Everything routed to this endpoint. Iterate once; leaving the loop closes the endpoint's inbox. */
  messages(): AsyncIterable<ProtoMessage> {
    return this.inbox;
  }

  /** Take what is buffered without waiting (batch consumers). */
  drain(max?: number): ProtoMessage[] {
    return this.inbox.drain(max);
  }

  close(): Promise<void> {
    this.closed = true;
    this.inbox.end();
    this.conn.close();
    for (const f of this.acks.values()) f(false, "endpoint closed");
    this.acks.clear();
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
