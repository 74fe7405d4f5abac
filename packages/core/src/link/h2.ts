// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The data plane's one gRPC method, OpenChannel, spoken directly over node:http2:
// request/response headers and trailers exactly as a gRPC peer expects them.

import * as http2 from "node:http2";
import * as net from "node:net";
import * as tls from "node:tls";
import type { SecureContextOptions } from "node:tls";
import { SlimError } from "../errors.js";
import { Http2FrameStream, type FrameStream } from "./frame-stream.js";

export const OPEN_CHANNEL_PATH = "/dataplane.proto.v1.DataPlaneService/OpenChannel";
/** HTTP/2 flow-control window per stream and per connection (the official client uses 2 MiB per stream). */
const STREAM_WINDOW = 4 * 1024 * 1024;
const SESSION_WINDOW = 32 * 1024 * 1024;
const USER_AGENT = "slim-ts/0.1";

export const GrpcStatus = { OK: 0, UNAUTHENTICATED: 16, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, UNAVAILABLE: 14 } as const;

function tuneSession(session: http2.Http2Session): void {
  try {
    session.setLocalWindowSize(SESSION_WINDOW);
  } catch {
    // not yet connected on some paths; the stream window still applies
  }
}

// ---- server ---------------------------------------------------------------

export interface H2ServerOptions {
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer; requireClientCert: boolean };
  /** Check request headers before accepting a channel; return an error to refuse with UNAUTHENTICATED. */
  authorize?: (headers: http2.IncomingHttpHeaders) => SlimError | undefined;
  /** Called for each accepted OpenChannel stream. */
  onChannel: (stream: FrameStream) => void;
  /** HTTP/2 PING every `timeMs`; a connection that does not answer within `timeoutMs` is closed. */
  keepalive?: { timeMs: number; timeoutMs: number };
}

/** Server keepalive as the official node's defaults: ping every 120 s, give up after 20 s. */
export const DEFAULT_SERVER_KEEPALIVE = { timeMs: 120_000, timeoutMs: 20_000 };

function keepAlive(session: http2.Http2Session, ka: { timeMs: number; timeoutMs: number }): void {
  const timer = setInterval(() => {
    if (session.closed || session.destroyed) return clearInterval(timer);
    const deadline = setTimeout(() => session.destroy(new Error("keepalive ping timed out")), ka.timeoutMs);
    deadline.unref();
    try {
      session.ping(() => clearTimeout(deadline));
    } catch {
      clearTimeout(deadline);
    }
  }, ka.timeMs);
  timer.unref();
  session.once("close", () => clearInterval(timer));
}

function refuse(stream: http2.ServerHttp2Stream, code: number, message: string): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": String(code), "grpc-message": encodeURIComponent(message) }, { endStream: true });
}

export function createH2Server(options: H2ServerOptions): http2.Http2Server | http2.Http2SecureServer {
  const settings: http2.Settings = { initialWindowSize: STREAM_WINDOW, maxConcurrentStreams: 100 };
  const server = options.tls
    ? http2.createSecureServer({
        cert: options.tls.cert,
        key: options.tls.key,
        ...(options.tls.ca === undefined ? {} : { ca: options.tls.ca }),
        requestCert: options.tls.requireClientCert,
        rejectUnauthorized: options.tls.requireClientCert,
        allowHTTP1: false,
        settings,
      })
    : http2.createServer({ settings });
  // Nagle off on the raw socket, before HTTP/2 owns it (it refuses socket tweaks afterwards).
  server.on("connection", (sock: import("node:net").Socket) => sock.setNoDelay(true));
  server.on("session", (s) => {
    tuneSession(s);
    keepAlive(s, options.keepalive ?? DEFAULT_SERVER_KEEPALIVE);
    s.on("error", () => {});
  });
  server.on("sessionError", () => {});
  server.on("stream", (stream, headers) => {
    stream.on("error", () => {});
    if (headers[":path"] !== OPEN_CHANNEL_PATH) return refuse(stream, GrpcStatus.UNIMPLEMENTED, "unknown method");
    const ct = headers["content-type"];
    if (typeof ct !== "string" || !ct.startsWith("application/grpc")) {
      stream.respond({ ":status": 415 }, { endStream: true });
      return;
    }
    const denied = options.authorize?.(headers);
    if (denied !== undefined) return refuse(stream, GrpcStatus.UNAUTHENTICATED, denied.message);
    // Official clients wait for response headers before they send their Link message.
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    const remote = `${stream.session?.socket?.remoteAddress ?? "?"}:${stream.session?.socket?.remotePort ?? "?"}`;
    const fs = new Http2FrameStream(stream, remote, () => stream.end());
    stream.on("wantTrailers", () => {
      const f = fs.failure;
      if (f === undefined) return stream.sendTrailers({ "grpc-status": String(GrpcStatus.OK) });
      const code = f.code === "MESSAGE_TOO_LARGE" ? GrpcStatus.RESOURCE_EXHAUSTED : GrpcStatus.UNAVAILABLE;
      stream.sendTrailers({ "grpc-status": String(code), "grpc-message": encodeURIComponent(f.message) });
    });
    options.onChannel(fs);
  });
  return server;
}

// ---- client ---------------------------------------------------------------

export interface H2ClientOptions {
  tls?: SecureContextOptions & { servername?: string };
  headers?: Record<string, string>;
}

export interface H2Channel {
  stream: FrameStream;
  session: http2.ClientHttp2Session;
}

/** Open an HTTP/2 connection and one OpenChannel stream on it. */
export function openChannel(url: URL, options: H2ClientOptions): H2Channel {
  const secure = url.protocol === "https:";
  const port = Number(url.port);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const session = http2.connect(url.origin, {
    settings: { initialWindowSize: STREAM_WINDOW, enablePush: false },
    // Open the socket ourselves to turn Nagle off before HTTP/2 owns it.
    createConnection: () => {
      const sock = secure
        ? tls.connect({ host, port, ALPNProtocols: ["h2"], servername: options.tls?.servername ?? (net.isIP(host) ? "" : host), ...options.tls })
        : net.connect({ host, port });
      sock.setNoDelay(true);
      return sock;
    },
  });
  session.on("error", () => {});
  session.once("connect", () => tuneSession(session));
  const req = session.request(
    {
      ":method": "POST",
      ":path": OPEN_CHANNEL_PATH,
      "content-type": "application/grpc",
      te: "trailers",
      "user-agent": USER_AGENT,
      ...options.headers,
    },
    { endStream: false },
  );
  req.on("error", () => {});
  const fs = new Http2FrameStream(req, url.host, () => req.end());
  let status: string | undefined;
  let grpcMessage = "";
  const noteStatus = (h: http2.IncomingHttpHeaders) => {
    const s = h["grpc-status"];
    if (typeof s === "string") {
      status = s;
      const m = h["grpc-message"];
      grpcMessage = typeof m === "string" ? decodeURIComponent(m) : "";
    }
  };
  req.on("response", (h) => {
    if (h[":status"] !== 200) {
      const code = h[":status"] === 401 ? "AUTH" : "CONNECTION";
      return fs.abort(new SlimError(code, `the node answered HTTP ${String(h[":status"])}`));
    }
    noteStatus(h);
    // a trailers-only answer: the node refused the channel
    if (status !== undefined && status !== "0") {
      const code = Number(status) === GrpcStatus.UNAUTHENTICATED ? "AUTH" : "CONNECTION";
      fs.abort(new SlimError(code, `the node refused the link: ${grpcMessage || `gRPC status ${status}`}`));
    }
  });
  req.on("trailers", noteStatus);
  req.on("close", () => session.close());
  return { stream: fs, session };
}
