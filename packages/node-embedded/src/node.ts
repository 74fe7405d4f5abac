// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { readFile } from "node:fs/promises";
import { JwtVerifier, SharedSecretProvider, SharedSecretVerifier, SlimError, createConnectionAuthChecker, loggerFromEnv, type ClientConnectionAuth, type Logger } from "@slim-ts/core";
import { DialedLink, MessageProcessor, createChannelServer, openChannelHandler, type ChannelServer, type RequestHeaders, type DialOptions, type ProcessorOptions } from "@slim-ts/core/internal";
import { parseNodeConfig, type NodeConfig, type NodeConfigInput } from "./config.js";
import { nodeStatus, type NodeStatus } from "./status.js";
import { startStatusServer, type StatusServer } from "./status-server.js";

export interface StartNodeOptions {
  logger?: Logger;
  /** Test-only: sees every publish the node routes. */
  tap?: ProcessorOptions["tap"];
}

export interface SlimNode extends AsyncDisposable {
  readonly nodeId: string;
  /** host:port the data-plane server is bound to. */
  readonly address: string;
  /** `http://host:port` or `https://host:port`: what apps and other nodes dial. */
  readonly url: string;
  /** URL of the HTTP status endpoint, when enabled. */
  readonly statusUrl: string | undefined;
  /** The node's datapath, for in-process apps (internal API). */
  readonly processor: MessageProcessor;
  /** Resolves when the node has closed. */
  readonly closed: Promise<void>;
  status(): NodeStatus;
  /** Dial another node (ours or official) and exchange routes with it. */
  link(url: string, options?: Omit<DialOptions, "strictMac">): Promise<DialedLink>;
  close(): Promise<void>;
}

async function pem(path: string | undefined): Promise<Buffer | null> {
  if (path === undefined) return null;
  try {
    return await readFile(path);
  } catch (cause) {
    throw new SlimError("CONFIG", `cannot read ${path}`, { cause });
  }
}

async function serverTls(config: NodeConfig) {
  const tls = config.tls;
  if (tls === undefined) return undefined;
  const [cert, key, ca] = await Promise.all([pem(tls.cert), pem(tls.key), pem(tls.ca)]);
  return { cert: cert!, key: key!, ...(ca === null ? {} : { ca }), requireClientCert: tls.requireClientCert ?? ca !== null };
}

async function listen(server: ChannelServer, listenOn: string): Promise<number> {
  const i = listenOn.lastIndexOf(":");
  const host = listenOn.slice(0, i).replace(/^\[|\]$/g, "");
  const port = Number(listenOn.slice(i + 1));
  try {
    return await server.listen(port, host);
  } catch (err) {
    throw new SlimError("CONFIG", `cannot listen on ${listenOn}: ${(err as Error).message}`, { cause: err });
  }
}

/** Start a SLIM node: a gRPC data-plane server plus links to other nodes. */
export async function startNode(input: NodeConfigInput = {}, options: StartNodeOptions = {}): Promise<SlimNode> {
  const config = parseNodeConfig(input);
  const logger = options.logger ?? loggerFromEnv();
  const log = logger.child("node");
  const processor = new MessageProcessor({
    ...(config.nodeId === undefined ? {} : { nodeId: config.nodeId }),
    logger,
    maxSubscriptionsPerConnection: config.limits.maxSubscriptionsPerConnection,
    ...(options.tap === undefined ? {} : { tap: options.tap }),
    ...(config.faults === undefined ? {} : { faults: { dropRatio: config.faults.dropRatio, ...(config.faults.seed === undefined ? {} : { seed: config.faults.seed }) } }),
  });
  const accept = openChannelHandler(processor, {
    strictMac: !config.lenient,
    maxLinks: config.limits.maxLinks,
    negotiationTimeoutMs: config.limits.negotiationTimeoutMs,
    onLinkDown: (l, err) => log.debug("link down", { conn: l.id, error: err.message }),
  });
  const tls = await serverTls(config);
  const checker = config.auth === undefined ? undefined : createConnectionAuthChecker(serverAuth(config.auth));
  const authorize =
    checker === undefined
      ? undefined
      : (headers: RequestHeaders) => {
          const r = checker(headers);
          return r.ok ? undefined : r.error;
        };
  const server = createChannelServer({ ...(tls === undefined ? {} : { tls }), keepalive: config.keepalive, ...(authorize === undefined ? {} : { authorize }), onChannel: accept.handler });
  const port = await listen(server, config.listen);
  const host = config.listen.slice(0, config.listen.lastIndexOf(":"));
  const address = `${host}:${port}`;
  const url = `${config.tls === undefined ? "http" : "https"}://${address}`;
  const dialed = new Set<DialedLink>();
  let statusServer: StatusServer | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let closing: Promise<void> | undefined;

  const node: SlimNode = {
    nodeId: processor.nodeId,
    address,
    url,
    get statusUrl() {
      return statusServer?.url;
    },
    processor,
    closed,
    status: () => nodeStatus(processor, address),
    async link(target, linkOptions = {}) {
      const d = await DialedLink.connect(processor, target, { kind: "peer", ...linkOptions, strictMac: !config.lenient });
      dialed.add(d);
      return d;
    },
    close() {
      closing ??= (async () => {
        await statusServer?.close();
        for (const d of dialed) d.close();
        for (const l of accept.links) l.close("node shutting down");
        processor.close();
        await server.close();
        resolveClosed();
      })();
      return closing;
    },
    [Symbol.asyncDispose]() {
      return node.close();
    },
  };

  try {
    for (const l of config.links) {
      const tls = l.tls;
      const tlsOpts =
        tls === undefined
          ? undefined
          : {
              ...(tls.ca === undefined ? {} : { ca: (await pem(tls.ca))! }),
              ...(tls.cert === undefined ? {} : { cert: (await pem(tls.cert))! }),
              ...(tls.key === undefined ? {} : { key: (await pem(tls.key))! }),
              ...(tls.serverName === undefined ? {} : { serverName: tls.serverName }),
            };
      await node.link(l.url, { kind: l.kind, ...(tlsOpts === undefined ? {} : { tls: tlsOpts }), ...(l.auth === undefined ? {} : { auth: linkAuth(l.auth, processor.nodeId) }) });
    }
    if (config.status !== undefined) statusServer = await startStatusServer(config.status, () => node.status());
  } catch (err) {
    await node.close();
    throw err;
  }
  log.info("listening", { address, nodeId: processor.nodeId });
  return node;
}

/** A link's configured credentials as the dialer sends them (a shared secret mints a token per connect). */
function linkAuth(auth: NonNullable<NodeConfig["links"][number]["auth"]>, nodeId: string): ClientConnectionAuth {
  if (auth.kind === "basic") return auth;
  if ("token" in auth) return { kind: "bearer", token: auth.token };
  return { kind: "bearer", token: new SharedSecretProvider(`slim-ts-node/${nodeId}`, auth.secret) };
}

/** What the node requires from dialers, as the connection checker takes it. */
function serverAuth(auth: NonNullable<NodeConfig["auth"]>): Parameters<typeof createConnectionAuthChecker>[0] {
  switch (auth.kind) {
    case "basic":
      return { kind: "basic", username: auth.username, password: auth.password };
    case "bearer":
      return { kind: "bearer", verifier: new SharedSecretVerifier(auth.secret) };
    case "jwt":
      return {
        kind: "bearer",
        verifier: new JwtVerifier({
          key: { algorithm: auth.algorithm, key: auth.key },
          ...(auth.audience === undefined ? {} : { audience: auth.audience }),
          ...(auth.issuer === undefined ? {} : { issuer: auth.issuer }),
        }),
      };
  }
}
