// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * Official SLIM (@agntcy/slim-bindings) nodes and apps in child processes, for interop tests
 * and benchmarks. One official app per process (two in one process deadlock under load), every
 * server on 127.0.0.1, every call bounded. Children exit when this process goes away (IPC
 * disconnect). Set SLIM_HARNESS_DEBUG=1 to see the children's logs (and Rust tracing,
 * level SLIM_HARNESS_RUST_LOG, default "info") on stderr.
 *
 * ```ts
 * await using node = await startOfficialNode();
 * await using bob = await startOfficialApp({ name: "org/ns/bob", url: node.url });
 * ```
 */

import net from "node:net";
import { ChildHandle } from "./child.js";

export const DEFAULT_CALL_TIMEOUT_MS = 15_000;
/** Secret shared by every app that does not name one (SharedSecret identities must match to talk). */
export const DEFAULT_SECRET = "slim-ts-interop-shared-secret-0123456789abcdef";
const READY_TIMEOUT_MS = 20_000;
/** Added to a command's own `timeoutMs` (listen, recv, echo, sink) to get its IPC deadline. */
const CALL_MARGIN_MS = 5_000;

/** Binds 127.0.0.1:0, reads the port the kernel picked, closes. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/**
 * Per-call options. `timeoutMs` bounds the whole IPC round trip: default 15 s, or the command's own
 * wait + 5 s for listen/recv/echo/sink. Long burst/rtt runs must pass their own.
 */
export interface CallOptions {
  timeoutMs?: number;
}

// ---------------------------------------------------------------- node

/**
 * How `linkTo` links are dialled.
 * - "edge" (default): `service.connectAsync(newInsecureClientConfig(url))` on the node's own service.
 *   The link comes up (X25519 + header MAC), but an official node forwards subscriptions only to
 *   PEER links, so no subscription crosses it: apps behind the two nodes cannot reach each other.
 * - "peer": the node is started from a YAML config (`initializeFromConfigWithError`) whose
 *   `dataplane.clients` carry `connection_type: peer`; both nodes then sync subscriptions (full sync
 *   at link-up, then every new one) and sessions work across them in both directions.
 */
export type LinkType = "edge" | "peer";

export interface StartOfficialNodeOptions {
  /** 127.0.0.1 port; a free one is picked when absent. */
  port?: number;
  /** URL(s) of other nodes this node dials once it listens (e.g. one of ours: `http://127.0.0.1:47000`). */
  linkTo?: string | readonly string[];
  /** See {@link LinkType}; default "edge". */
  linkType?: LinkType;
  /** Strict = require_header_mac (default true, what createServiceWithConfig gives). */
  strict?: boolean;
  nodeId?: string;
  /** Serve TLS 1.3 with this certificate and key (PEM files); the node's URL is then `https://`. Edge links only. */
  tls?: { certFile: string; keyFile: string };
  /** Require link-level Basic authentication from every dialer (official ServerConfig.auth). */
  basicAuth?: { username: string; password: string };
  /** Require a Bearer JWT from every dialer: HS256 with this secret, audience `slim-node`, issuer `slim-ts-test`. */
  jwtHs256Secret?: string;
}

export interface NodeLink {
  url: string;
  connId: string;
}

export interface OfficialNode extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly nodeId: string;
  readonly pid: number;
  /** Links dialled at start-up (`linkTo`). */
  readonly links: readonly NodeLink[];
  /** Dial another node now (always an EDGE link: the bindings cannot dial PEER links at run time). */
  link(url: string, opts?: CallOptions): Promise<NodeLink>;
  /** Drop a dialled link (service.disconnect). */
  unlink(connId: string, opts?: CallOptions): Promise<void>;
  /** Kill the process (SIGTERM, SIGKILL after 2 s). Idempotent. */
  close(): Promise<void>;
}

interface NodeReady {
  port: number;
  url: string;
  nodeId: string;
  links: NodeLink[];
}

export async function startOfficialNode(options: StartOfficialNodeOptions = {}): Promise<OfficialNode> {
  const attempts = options.port === undefined ? 3 : 1; // a picked port can be taken before the child binds it
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    const port = options.port ?? (await freePort());
    const args = ["--port", String(port), "--link-type", options.linkType ?? "edge"];
    for (const url of [options.linkTo ?? []].flat()) args.push("--link", url);
    if (options.strict === false) args.push("--lenient");
    if (options.nodeId !== undefined) args.push("--node-id", options.nodeId);
    if (options.tls !== undefined) args.push("--tls-cert", options.tls.certFile, "--tls-key", options.tls.keyFile);
    if (options.basicAuth !== undefined) args.push("--basic-auth", `${options.basicAuth.username}:${options.basicAuth.password}`);
    if (options.jwtHs256Secret !== undefined) args.push("--jwt-hs256", options.jwtHs256Secret);
    const child = new ChildHandle({ label: `official node 127.0.0.1:${port}`, script: "official-node.mjs", args });
    try {
      const ready = await child.ready<NodeReady>(READY_TIMEOUT_MS);
      return makeNode(child, ready);
    } catch (e) {
      lastError = e;
      if (!/Address already in use/.test(String(e))) break;
    }
  }
  throw lastError;
}

function makeNode(child: ChildHandle, ready: NodeReady): OfficialNode {
  const close = () => child.close();
  return {
    url: ready.url,
    port: ready.port,
    nodeId: ready.nodeId,
    pid: child.pid,
    links: ready.links,
    async link(url, opts = {}) {
      const { connId } = await child.call<{ connId: string }>("link", { url }, opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
      return { url, connId };
    },
    async unlink(connId, opts = {}) {
      await child.call("unlink", { connId }, opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

// ---------------------------------------------------------------- app

export interface StartOfficialAppOptions {
  /** "org/ns/app" */
  name: string;
  /** Node URL, e.g. `http://127.0.0.1:47000`. */
  url: string;
  /** Shared secret of the SharedSecret identity; default {@link DEFAULT_SECRET}. */
  secret?: string;
  /** A restorable app (createAppWithPersistence): its store directory and passphrase. */
  persist?: { path: string; passphrase: string };
  /** For an `https://` URL: the PEM file of the CA that signed the node's certificate (TLS 1.3, verified). */
  tlsCaFile?: string;
  /** Link-level Basic authentication towards the node (official ClientConfig.auth). */
  basicAuth?: { username: string; password: string };
  /** Link-level JWT towards the node: HS256 with this secret, audience `slim-node`, issuer `slim-ts-test`. */
  jwtHs256Secret?: string;
}

export type SessionKind = "p2p" | "group";

/** Commands acting on a session take its id; default = the latest created or accepted one. */
export interface SessionRef {
  sessionId?: number;
}

export interface SessionInfo {
  sessionId: number;
  type: SessionKind;
  initiator: boolean;
  source: string;
  destination: string;
  mls: boolean;
  maxRetries: number | null;
  intervalMs: number | null;
  metadata: Record<string, string>;
}

export type CreateArgs = {
  mls?: boolean;
  /** Reliability: retransmissions and their interval (ms); absent = bindings' default. */
  maxRetries?: number;
  intervalMs?: number;
  metadata?: Record<string, string>;
} & ({ type: "p2p"; peer: string } | { type: "group"; channel: string });

/** A payload: UTF-8 text or raw bytes as base64. */
export type Body = { text: string; base64?: never } | { base64: string; text?: never };

export type PublishArgs = Body & SessionRef & {
  payloadType?: string;
  metadata?: Record<string, string>;
  /** true (default): publishAndWait (resolves once acked); false: hand-off only. */
  wait?: boolean;
};

export interface Received {
  text: string;
  payloadType: string;
  /** Sender "org/ns/app". */
  from: string;
  /** Sender's 128-bit id (UUID text). */
  fromId: string;
  metadata: Record<string, string>;
  size: number;
  /** Present when recv was called with `base64: true`. */
  base64?: string;
}

/** recv ends at the first error (typically the receive timeout), reported as the last item. */
export type RecvItem = Received | { error: string };

export interface Participant {
  name: string;
  id: string;
  status: "online" | "offline";
}

export interface Timing {
  ms: number;
}

export interface LatencySummary {
  n: number;
  min: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

export interface EchoResult {
  echoed: number;
  error: string | null;
}

/** Receiver side of a burst. Times are CLOCK_MONOTONIC ms, comparable with {@link BurstResult}. */
export interface SinkResult {
  got: number;
  unique: number;
  dup: number;
  bytes: number;
  firstAt: number | null;
  lastAt: number | null;
  error: string | null;
  /** One-way latency (ms) from the send time embedded in each probe. */
  latency: LatencySummary;
}

export type BurstMode = "pipelined" | "windowed-ack" | "awaited";

export interface BurstResult {
  count: number;
  size: number;
  mode: BurstMode;
  sendStart: number;
  sendEnd: number;
  sendMs: number;
  /** Sender-side rate; the delivered rate is {@link oneWayRate}. */
  sendRate: number;
  errors: number;
  firstError: string | null;
}

export interface RttResult {
  rtt: LatencySummary;
  completed: number;
  error: string | null;
}

export interface OfficialApp extends AsyncDisposable {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  /** The app's 128-bit id (UUID text); new on every start. */
  readonly appId: string;
  readonly connId: string;

  /** setRoute(name, connection to the node): needed before create/invite towards `name`. */
  route(name: string, opts?: CallOptions): Promise<Timing>;
  /** createSessionAndWait; becomes the latest session. */
  create(args: CreateArgs, opts?: CallOptions): Promise<SessionInfo & Timing>;
  /** Next incoming session (listenForSession); becomes the latest session. */
  listen(args?: { timeoutMs?: number }, opts?: CallOptions): Promise<SessionInfo>;
  publish(args: PublishArgs, opts?: CallOptions): Promise<Timing>;
  /** Up to `n` messages (default 1) within `timeoutMs` in total (default 5 s). */
  recv(args?: SessionRef & { n?: number; timeoutMs?: number; base64?: boolean }, opts?: CallOptions): Promise<RecvItem[]>;
  /** publishTo the context of the last message received on the session. */
  replyTo(args: PublishArgs, opts?: CallOptions): Promise<Timing>;
  invite(name: string, args?: SessionRef, opts?: CallOptions): Promise<Timing>;
  remove(name: string, args?: SessionRef, opts?: CallOptions): Promise<Timing>;
  participants(args?: SessionRef, opts?: CallOptions): Promise<Participant[]>;
  /** mode "delete" (default): app.deleteSessionAndWait; "close": session.closeAndWait; "soft": closeWithMode(Soft) (group: go offline, stay a member). */
  closeSession(args?: SessionRef & { mode?: "delete" | "close" | "soft" }, opts?: CallOptions): Promise<Timing>;
  /** Persistent apps: app.restoreSessions over the app's connection; the restored sessions, last one latest. */
  restore(opts?: CallOptions): Promise<SessionInfo[]>;
  /** session.rejoinAndWait after a soft close. */
  rejoin(args?: SessionRef, opts?: CallOptions): Promise<Timing>;
  /** Receive up to `count` messages within `timeoutMs` (stop early after `idleMs` without one); publishTo each back prefixed "echo:". */
  echo(args: SessionRef & { count: number; timeoutMs?: number; idleMs?: number }, opts?: CallOptions): Promise<EchoResult>;
  /** Count up to `count` probe messages (see burst) within `timeoutMs`. */
  sink(args: SessionRef & { count: number; timeoutMs?: number; idleMs?: number }, opts?: CallOptions): Promise<SinkResult>;
  /** Send `count` probes of `size` bytes (default 64, pipelined, window 64). */
  burst(args: SessionRef & { count: number; size?: number; mode?: BurstMode; window?: number }, opts?: CallOptions): Promise<BurstResult>;
  /** Ping-pong `count` rounds (after `warmup`, default 10) against a peer running echo. */
  rtt(args: SessionRef & { count: number; size?: number; warmup?: number; timeoutMs?: number }, opts?: CallOptions): Promise<RttResult>;
  /** Ask the process to exit, then make sure it did (close()). */
  exit(opts?: CallOptions): Promise<void>;
  /** Kill the process (SIGTERM, SIGKILL after 2 s). Idempotent. */
  close(): Promise<void>;
}

/** Delivered one-way rate (msgs/s) of a burst, as the shared bench computes it. */
export function oneWayRate(burst: BurstResult, sink: SinkResult): number {
  if (sink.lastAt === null || sink.got === 0) return 0;
  return (sink.got / (sink.lastAt - burst.sendStart)) * 1000;
}

interface AppReady {
  name: string;
  appId: string;
  connId: string;
}

export async function startOfficialApp(options: StartOfficialAppOptions): Promise<OfficialApp> {
  const child = new ChildHandle({
    label: `official app "${options.name}"`,
    script: "official-app.mjs",
    env: {
      SLIM_APP_NAME: options.name,
      SLIM_APP_URL: options.url,
      SLIM_APP_SECRET: options.secret ?? DEFAULT_SECRET,
      ...(options.persist === undefined ? {} : { SLIM_APP_PERSIST_PATH: options.persist.path, SLIM_APP_PERSIST_PASSPHRASE: options.persist.passphrase }),
      ...(options.tlsCaFile === undefined ? {} : { SLIM_APP_TLS_CA: options.tlsCaFile }),
      ...(options.basicAuth === undefined ? {} : { SLIM_APP_BASIC_AUTH: `${options.basicAuth.username}:${options.basicAuth.password}` }),
      ...(options.jwtHs256Secret === undefined ? {} : { SLIM_APP_JWT_HS256: options.jwtHs256Secret }),
    },
  });
  const ready = await child.ready<AppReady>(READY_TIMEOUT_MS);

  const deadline = (opts: CallOptions | undefined, ownWaitMs?: number) =>
    opts?.timeoutMs ?? Math.max(DEFAULT_CALL_TIMEOUT_MS, (ownWaitMs ?? 0) + CALL_MARGIN_MS);
  const call = <T>(cmd: string, args: object, opts: CallOptions | undefined, ownWaitMs?: number) =>
    child.call<T>(cmd, args, deadline(opts, ownWaitMs));
  const close = () => child.close();

  return {
    name: options.name,
    url: options.url,
    pid: child.pid,
    appId: ready.appId,
    connId: ready.connId,
    route: (name, opts) => call("route", { name }, opts),
    create: (args, opts) => call("create", args, opts),
    listen: (args = {}, opts) => call("listen", args, opts, args.timeoutMs ?? 10_000),
    publish: (args, opts) => call("publish", args, opts),
    recv: (args = {}, opts) => call("recv", args, opts, args.timeoutMs ?? 5_000),
    replyTo: (args, opts) => call("replyTo", args, opts),
    invite: (name, args = {}, opts) => call("invite", { ...args, name }, opts),
    remove: (name, args = {}, opts) => call("remove", { ...args, name }, opts),
    participants: (args = {}, opts) => call("participants", args, opts),
    closeSession: (args = {}, opts) => call("close", args, opts),
    rejoin: (args = {}, opts) => call("rejoin", args, opts),
    restore: (opts) => call("restore", {}, opts),
    echo: (args, opts) => call("echo", args, opts, args.timeoutMs ?? 10_000),
    sink: (args, opts) => call("sink", args, opts, args.timeoutMs ?? 30_000),
    burst: (args, opts) => call("burst", args, opts),
    rtt: (args, opts) => call("rtt", args, opts),
    async exit(opts) {
      if (child.exited) return;
      await call("exit", {}, opts).catch(() => {});
      if (!(await child.waitExit(2_000))) await close();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
