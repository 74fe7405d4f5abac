// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Dialing a link to another node: gRPC channel, negotiation, and reconnect with
// backoff that keeps the link id and replays what was forwarded on it.

import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import type { Duplex } from "node:stream";
import type { MessageProcessor } from "../datapath/processor.js";
import { SlimError } from "../errors.js";
import { codec, OPEN_CHANNEL_PATH } from "./grpc-service.js";
import { Link, MAX_MESSAGE_BYTES } from "./link.js";

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_RECONNECT_INITIAL_MS = 250;
export const DEFAULT_RECONNECT_MAX_MS = 5_000;

export interface TlsClientOptions {
  /** PEM CA bundle to trust; the system store when absent. */
  ca?: Uint8Array | string;
  /** PEM client certificate and key, for mTLS. */
  cert?: Uint8Array | string;
  key?: Uint8Array | string;
  /** Override the name checked in the server certificate. */
  serverName?: string;
}

export interface DialOptions {
  /** `edge` (what an app's process is to its node) or `peer` (node to node). Default edge. */
  kind?: "edge" | "peer";
  /** Refuse a peer that offers no header MAC key (default true). */
  strictMac?: boolean;
  tls?: TlsClientOptions;
  /** Extra gRPC metadata sent when opening the channel (e.g. authorization). */
  headers?: Record<string, string>;
  connectTimeoutMs?: number;
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number; enabled?: boolean };
  keepalive?: { timeMs: number; timeoutMs: number };
  signal?: AbortSignal;
}

const toBuf = (v: Uint8Array | string | undefined): Buffer | null =>
  v === undefined ? null : typeof v === "string" ? Buffer.from(v) : Buffer.from(v);

function parseTarget(url: string): { target: string; secure: boolean } {
  let u: URL;
  try {
    u = new URL(url);
  } catch (cause) {
    throw new SlimError("INVALID_ARGUMENT", `invalid endpoint URL ${JSON.stringify(url)}`, { cause });
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new SlimError("INVALID_ARGUMENT", `endpoint URL must start with http:// or https://, got ${JSON.stringify(url)}`);
  }
  if (u.port === "") throw new SlimError("INVALID_ARGUMENT", `endpoint URL needs a port: ${JSON.stringify(url)}`);
  return { target: `${u.hostname}:${u.port}`, secure: u.protocol === "https:" };
}

/** A link this process dialed. Stays registered across reconnects until `close()`. */
export class DialedLink {
  readonly link: Link;
  readonly url: string;
  private readonly client: grpc.Client;
  private registered = false;
  private closing = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly ready: Promise<void>;
  private settleReady!: (err?: SlimError) => void;
  private readonly headers: Record<string, string>;

  private constructor(
    private readonly processor: MessageProcessor,
    url: string,
    private readonly options: DialOptions,
  ) {
    this.url = url;
    const { target, secure } = parseTarget(url);
    if (!secure && options.tls !== undefined) throw new SlimError("INVALID_ARGUMENT", "TLS options given for an http:// endpoint");
    const tls = options.tls ?? {};
    const creds = secure
      ? grpc.credentials.createSsl(toBuf(tls.ca), toBuf(tls.key), toBuf(tls.cert))
      : grpc.credentials.createInsecure();
    const channelOptions: grpc.ChannelOptions = {
      "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
      "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
      "grpc.initial_reconnect_backoff_ms": options.reconnect?.initialDelayMs ?? DEFAULT_RECONNECT_INITIAL_MS,
      "grpc.max_reconnect_backoff_ms": options.reconnect?.maxDelayMs ?? DEFAULT_RECONNECT_MAX_MS,
      ...(tls.serverName === undefined ? {} : { "grpc.ssl_target_name_override": tls.serverName }),
      ...(options.keepalive === undefined
        ? {}
        : { "grpc.keepalive_time_ms": options.keepalive.timeMs, "grpc.keepalive_timeout_ms": options.keepalive.timeoutMs }),
    };
    this.client = new grpc.Client(target, creds, channelOptions);
    this.headers = options.headers ?? {};
    const id = processor.allocateId();
    this.link = new Link(
      id,
      "dialer",
      options.kind ?? "edge",
      randomUUID(),
      processor,
      { strictMac: options.strictMac ?? true },
      { up: () => this.onUp(), down: (_l, err) => this.onDown(err) },
      url,
    );
    this.ready = new Promise((resolve, reject) => {
      this.settleReady = (err) => (err === undefined ? resolve() : reject(err));
    });
    this.ready.catch(() => {});
  }

  /** Dial `url` and negotiate; resolves once the link is up (or rejects after the connect timeout). */
  static async connect(processor: MessageProcessor, url: string, options: DialOptions = {}): Promise<DialedLink> {
    options.signal?.throwIfAborted();
    const d = new DialedLink(processor, url, options);
    const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const timer = setTimeout(() => d.giveUp(new SlimError("TIMEOUT", `could not connect to ${url} within ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => d.giveUp(new SlimError("ABORTED", `connect to ${url} aborted`, { cause: options.signal?.reason }));
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      d.open();
      await d.ready;
      return d;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  get id(): number {
    return this.link.id;
  }

  private open(): void {
    if (this.closing) return;
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(this.headers)) md.set(k, v);
    const call = this.client.makeBidiStreamRequest(OPEN_CHANNEL_PATH, codec.serialize, codec.deserialize, md, {});
    call.on("error", () => {}); // reported through the link's stream listeners
    this.link.attach(call as unknown as Duplex, () => call.cancel());
  }

  private onUp(): void {
    this.attempt = 0;
    if (!this.registered) {
      this.processor.register(this.link);
      this.registered = true;
    }
    this.processor.linkUp(this.link);
    this.settleReady();
  }

  private onDown(err: SlimError): void {
    if (this.registered) this.processor.unregister(this.link.id, !this.closing);
    if (this.closing) return;
    if (this.options.reconnect?.enabled === false && this.registered) return this.close();
    const initial = this.options.reconnect?.initialDelayMs ?? DEFAULT_RECONNECT_INITIAL_MS;
    const max = this.options.reconnect?.maxDelayMs ?? DEFAULT_RECONNECT_MAX_MS;
    const delay = Math.min(max, initial * 2 ** Math.min(this.attempt++, 16)) * (0.8 + Math.random() * 0.4);
    this.processor.log.debug("link down, reconnecting", { url: this.url, error: err.message, delayMs: Math.round(delay) });
    this.retryTimer = setTimeout(() => this.open(), delay);
    this.retryTimer.unref?.();
  }

  private giveUp(err: SlimError): void {
    this.settleReady(err);
    this.close();
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.retryTimer);
    this.link.close("link closed by this side");
    if (this.registered) this.processor.unregister(this.link.id);
    else this.processor.releaseId(this.link.id);
    this.client.close();
    this.settleReady(new SlimError("CLOSED", "link closed"));
  }
}
