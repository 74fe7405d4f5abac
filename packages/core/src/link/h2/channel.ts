// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The data plane's one gRPC method, OpenChannel, on our HTTP/2 connections:
// a server that accepts channels (h2c or TLS) and a client that opens one.

import * as net from "node:net";
import * as tls from "node:tls";
import type { SecureContextOptions } from "node:tls";
import { SlimError } from "../../errors.js";
import type { FrameStream } from "../frame-stream.js";
import { DEFAULT_H2_LIMITS, H2Connection, type H2Limits, type H2Stream } from "./connection.js";
import type { HeaderList } from "./hpack.js";
import { GrpcStream } from "./grpc-stream.js";

export const OPEN_CHANNEL_PATH = "/dataplane.proto.v1.DataPlaneService/OpenChannel";
const USER_AGENT = "slim-ts/0.1";

export const GrpcStatus = { OK: 0, UNAUTHENTICATED: 16, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, UNAVAILABLE: 14 } as const;

/** Request headers as a plain record (repeated names joined with ", "), the shape auth checks read. */
export type RequestHeaders = Record<string, string | undefined>;

function toRecord(list: HeaderList): RequestHeaders {
  const out: RequestHeaders = {};
  for (const [n, v] of list) out[n] = out[n] === undefined ? v : `${out[n]}, ${v}`;
  return out;
}

function statusTrailers(code: number, message?: string): HeaderList {
  const t: HeaderList = [["grpc-status", String(code)]];
  if (message !== undefined) t.push(["grpc-message", encodeURIComponent(message)]);
  return t;
}

// ---- server ---------------------------------------------------------------

export interface ChannelServerOptions {
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer; requireClientCert: boolean };
  /** Check request headers before accepting a channel; return an error to refuse with UNAUTHENTICATED. */
  authorize?: (headers: RequestHeaders) => SlimError | undefined;
  /** Called for each accepted OpenChannel stream. */
  onChannel: (stream: FrameStream) => void;
  /** HTTP/2 PING every `timeMs`; a connection that does not answer within `timeoutMs` is closed. */
  keepalive?: { timeMs: number; timeoutMs: number };
  /** HTTP/2 limits (windows, streams, header size, time to open a stream); defaults suit links. */
  limits?: Partial<H2Limits>;
}

/** Server keepalive as the official node's defaults: ping every 120 s, give up after 20 s. */
export const DEFAULT_SERVER_KEEPALIVE = { timeMs: 120_000, timeoutMs: 20_000 };

export interface ChannelServer {
  /** Listen; resolves with the bound port. */
  listen(port: number, host: string): Promise<number>;
  /** Stop accepting, GOAWAY every connection, and resolve once they are gone (forced after 1 s). */
  close(): Promise<void>;
  readonly connections: number;
}

export function createChannelServer(options: ChannelServerOptions): ChannelServer {
  const conns = new Set<H2Connection>();
  const limits = { ...DEFAULT_H2_LIMITS, ...options.limits };
  const onSocket = (sock: net.Socket) => {
    sock.setNoDelay(true);
    const ka = options.keepalive ?? DEFAULT_SERVER_KEEPALIVE;
    const conn = new H2Connection(sock, "server", {
      onRequest: (stream, headers, endStream) => accept(conn, stream, toRecord(headers), endStream),
      onClose: () => conns.delete(conn),
    }, limits);
    conn.keepalive(ka.timeMs, ka.timeoutMs);
    conns.add(conn);
  };
  const accept = (conn: H2Connection, stream: H2Stream, h: RequestHeaders, endStream: boolean) => {
    const refuse = (status: number, message: string) => {
      stream.sendHeaders([[":status", "200"], ["content-type", "application/grpc"], ...statusTrailers(status, message)], true);
    };
    if (h[":method"] !== "POST") return stream.sendHeaders([[":status", "405"]], true);
    if (h[":path"] !== OPEN_CHANNEL_PATH) return refuse(GrpcStatus.UNIMPLEMENTED, "unknown method");
    const ct = h["content-type"];
    if (ct === undefined || !ct.startsWith("application/grpc")) return stream.sendHeaders([[":status", "415"]], true);
    if (endStream) return refuse(GrpcStatus.UNAVAILABLE, "the channel ended before it opened");
    const denied = options.authorize?.(h);
    if (denied !== undefined) return refuse(GrpcStatus.UNAUTHENTICATED, denied.message);
    // Official clients wait for response headers before they send their Link message.
    stream.sendHeaders([[":status", "200"], ["content-type", "application/grpc"]]);
    const fs = new GrpcStream(stream, conn.remoteAddress, (failure) => {
      if (failure === undefined) return stream.end(statusTrailers(GrpcStatus.OK));
      const code = failure.code === "MESSAGE_TOO_LARGE" ? GrpcStatus.RESOURCE_EXHAUSTED : GrpcStatus.UNAVAILABLE;
      stream.end(statusTrailers(code, failure.message));
    });
    options.onChannel(fs);
  };
  const server = options.tls
    ? tls.createServer(
        {
          cert: options.tls.cert,
          key: options.tls.key,
          ...(options.tls.ca === undefined ? {} : { ca: options.tls.ca }),
          requestCert: options.tls.requireClientCert,
          rejectUnauthorized: options.tls.requireClientCert,
          ALPNProtocols: ["h2"],
        },
        (sock) => onSocket(sock),
      )
    : net.createServer((sock) => onSocket(sock));
  server.on("tlsClientError", () => {});
  server.on("error", () => {});
  return {
    get connections() {
      return conns.size;
    },
    listen(port, host) {
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.once("error", onError);
        server.listen(port, host, () => {
          server.off("error", onError);
          const a = server.address();
          resolve(typeof a === "object" && a !== null ? a.port : port);
        });
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of conns) c.close();
        setTimeout(() => {
          for (const c of conns) c.destroy();
        }, 1_000).unref();
      });
    },
  };
}

// ---- client ---------------------------------------------------------------

export interface ChannelClientOptions {
  tls?: SecureContextOptions & { servername?: string };
  headers?: Record<string, string>;
}

export interface DialedChannel {
  stream: FrameStream;
  connection: H2Connection;
}

/** Open an HTTP/2 connection and one OpenChannel stream on it. */
export function dialChannel(url: URL, options: ChannelClientOptions): DialedChannel {
  const secure = url.protocol === "https:";
  const port = Number(url.port);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const sock = secure
    ? tls.connect({ host, port, ALPNProtocols: ["h2"], servername: options.tls?.servername ?? (net.isIP(host) ? "" : host), ...options.tls })
    : net.connect({ host, port });
  sock.setNoDelay(true);
  const conn = new H2Connection(sock, "client", {}, DEFAULT_H2_LIMITS);
  const headers: HeaderList = [
    [":method", "POST"],
    [":scheme", secure ? "https" : "http"],
    [":path", OPEN_CHANNEL_PATH],
    [":authority", url.host],
    ["content-type", "application/grpc"],
    ["te", "trailers"],
    ["user-agent", USER_AGENT],
  ];
  for (const [k, v] of Object.entries(options.headers ?? {})) headers.push([k.toLowerCase(), v]);
  let sawResponse = false;
  const onHeaders = (list: HeaderList, endStream: boolean, fs: GrpcStream) => {
    const h = toRecord(list);
    if (!sawResponse) {
      sawResponse = true;
      if (h[":status"] !== "200") {
        const code = h[":status"] === "401" ? "AUTH" : "CONNECTION";
        return fs.abort(new SlimError(code, `the node answered HTTP ${String(h[":status"])}`));
      }
    }
    const status = h["grpc-status"];
    if (status !== undefined && status !== "0") {
      const message = h["grpc-message"] === undefined ? `gRPC status ${status}` : safeDecode(h["grpc-message"]);
      const code = Number(status) === GrpcStatus.UNAUTHENTICATED ? "AUTH" : "CONNECTION";
      fs.abort(new SlimError(code, endStream && list.some(([n]) => n === ":status") ? `the node refused the link: ${message}` : `the node ended the link: ${message}`));
    }
  };
  // GrpcStream binds the stream's events itself
  const stream = conn.request(headers);
  const fs = new GrpcStream(stream, url.host, () => stream.endData(), onHeaders);
  return { stream: fs, connection: conn };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
