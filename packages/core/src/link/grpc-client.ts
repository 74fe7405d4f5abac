// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Dialing a link to another node: gRPC channel, negotiation, and reconnect with
// backoff that keeps the link id and replays what was forwarded on it.

import { randomUUID } from "node:crypto";
import type { MessageProcessor } from "../datapath/processor.js";
import { SlimError } from "../errors.js";
import { clientAuthHeaders, type ClientConnectionAuth } from "../auth/connection-auth.js";
import { dialChannel, type ChannelClientOptions } from "./h2/channel.js";
import type { H2Connection } from "./h2/connection.js";
import { Link } from "./link.js";

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
  /** Extra gRPC metadata sent when opening the channel. */
  headers?: Record<string, string>;
  /** Link-level authentication: Basic credentials or a Bearer token (a provider mints a fresh one per connect). */
  auth?: ClientConnectionAuth;
  connectTimeoutMs?: number;
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number; enabled?: boolean };
  keepalive?: { timeMs: number; timeoutMs: number };
  signal?: AbortSignal;
}

const pemBuffer = (v: Uint8Array | string): Buffer => (typeof v === "string" ? Buffer.from(v) : Buffer.from(v.buffer, v.byteOffset, v.byteLength));

function parseTarget(url: string): URL {
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
  return u;
}

/** A link this process dialed. Stays registered across reconnects until `close()`. */
export class DialedLink {
  readonly link: Link;
  readonly url: string;
  private readonly target: URL;
  private readonly h2: ChannelClientOptions;
  private connection: H2Connection | undefined;
  private registered = false;
  private closing = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly ready: Promise<void>;
  private settleReady!: (err?: SlimError) => void;

  private constructor(
    private readonly processor: MessageProcessor,
    url: string,
    private readonly options: DialOptions,
  ) {
    this.url = url;
    this.target = parseTarget(url);
    const secure = this.target.protocol === "https:";
    if (!secure && options.tls !== undefined) throw new SlimError("INVALID_ARGUMENT", "TLS options given for an http:// endpoint");
    const tls = options.tls;
    this.h2 = {
      ...(tls === undefined
        ? {}
        : {
            tls: {
              ...(tls.ca === undefined ? {} : { ca: pemBuffer(tls.ca) }),
              ...(tls.cert === undefined ? {} : { cert: pemBuffer(tls.cert) }),
              ...(tls.key === undefined ? {} : { key: pemBuffer(tls.key) }),
              ...(tls.serverName === undefined ? {} : { servername: tls.serverName }),
            },
          }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
    };
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
    const auth = this.options.auth === undefined ? {} : clientAuthHeaders(this.options.auth);
    const { stream, connection } = dialChannel(this.target, { ...this.h2, headers: { ...this.h2.headers, ...auth } });
    this.connection = connection;
    this.link.attach(stream);
    const ka = this.options.keepalive;
    if (ka !== undefined) connection.keepalive(ka.timeMs, ka.timeoutMs);
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
    // refused credentials do not get better by retrying the first connect
    if (err.code === "AUTH" && !this.registered) return this.giveUp(err);
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
    this.connection?.close();
    if (this.registered) this.processor.unregister(this.link.id);
    else this.processor.releaseId(this.link.id);
    this.settleReady(new SlimError("CLOSED", "link closed"));
  }
}
