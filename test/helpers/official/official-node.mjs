// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Child program: one official SLIM node (@agntcy/slim-bindings), h2c on 127.0.0.1:<port>.
// Start it with child_process.fork; see child-common.mjs for the IPC protocol.
//
//   node official-node.mjs --port 47000 [--link http://127.0.0.1:47001 ...] [--link-type edge|peer]
//                          [--lenient] [--node-id ID] [--tls-cert PEM --tls-key PEM] [--basic-auth user:pass]
//                          [--jwt-hs256 secret]
//
// Default: the service is created with createServiceWithConfig + run(), i.e. a *strict* node
// (require_header_mac = true; protocol/dataplane.md §3.3); --lenient sets requireHeaderMac=false.
// Each --link makes this node dial another node with svc.connectAsync on this same service. Such
// links are EDGE links (the bindings' ClientConfig record has no connection_type), and a node
// forwards subscriptions only to PEER links: nothing propagates over them.
// --link-type peer: the node is built instead from a YAML config (initializeFromConfigWithError,
// the same path as the `slim` binary) whose dataplane.clients carry `connection_type: peer`; then
// both nodes sync their subscriptions and apps on either side reach each other.
// Ready message: {ready: true, port, url, nodeId, links: [{url, connId}]} once the port accepts TCP
// and every link is up.
// Commands: link {url} -> {connId} (edge); unlink {connId}; exit.

import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import {
  slim, DEBUG, initBindings, bindLifetime, makeLogger, serveCommands, send, exitSoon, errorText, hrms,
} from "./child-common.mjs";

const READY_PROBE_MS = 5_000;
const LINK_TIMEOUT_MS = 10_000;

const { values: opts } = parseArgs({
  options: {
    port: { type: "string" },
    link: { type: "string", multiple: true, default: [] },
    "link-type": { type: "string", default: "edge" },
    lenient: { type: "boolean", default: false },
    "node-id": { type: "string" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    "basic-auth": { type: "string" },
    "jwt-hs256": { type: "string" },
  },
});

bindLifetime();
const port = Number(opts.port);
const nodeId = opts["node-id"] ?? `official-node-${port}`;
const log = makeLogger(`node ${nodeId}`);

function probeOnce(p, host = "127.0.0.1") {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port: p });
    const done = (ok) => { sock.destroy(); resolve(ok); };
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
    sock.setTimeout(500, () => done(false));
  });
}

async function waitListening(p, limitMs, host = "127.0.0.1") {
  const t0 = hrms();
  while (hrms() - t0 < limitMs) {
    if (await probeOnce(p, host)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${host}:${p} not accepting connections after ${limitMs} ms`);
}

async function dialEdge(service, url) {
  // connectAsync retries a refused connection forever; the abort surfaces as "A Rust future was aborted".
  const signal = AbortSignal.timeout(LINK_TIMEOUT_MS);
  try {
    const connId = await service.connectAsync(slim.newInsecureClientConfig(url), { signal });
    log("linked (edge)", url, "conn", connId);
    return String(connId);
  } catch (e) {
    if (signal.aborted) throw new Error(`edge link to ${url} not up after ${LINK_TIMEOUT_MS} ms`);
    throw e;
  }
}

function hostPort(url) {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || (u.protocol === "https:" ? 443 : 80)) };
}

/** Default path: createServiceWithConfig + run(), then dial each link as EDGE. */
async function startConfigured() {
  initBindings();
  const server = slim.newInsecureServerConfig(`127.0.0.1:${port}`);
  if (opts.lenient) server.requireHeaderMac = false;
  if (opts["basic-auth"]) {
    // link-level Basic authentication required from every dialer (official ServerConfig.auth)
    const [username, password] = opts["basic-auth"].split(":");
    server.auth = new slim.ServerAuthenticationConfig.Basic({ config: slim.BasicAuth.create({ username, password }) });
  }
  if (opts["jwt-hs256"]) {
    // link-level JWT (Bearer) authentication: HS256 with this secret, audience slim-node, issuer slim-ts-test
    const key = slim.JwtKeyConfig.create({ algorithm: slim.JwtAlgorithm.Hs256, format: slim.JwtKeyFormat.Pem, key: new slim.JwtKeyData.Data({ value: opts["jwt-hs256"] }) });
    server.auth = new slim.ServerAuthenticationConfig.Jwt({
      config: slim.JwtAuth.create({ key: new slim.JwtKeyType.Decoding({ key }), audience: ["slim-node"], issuer: "slim-ts-test", subject: undefined, duration: 3600 }),
    });
  }
  if (opts["tls-cert"]) {
    // TLS 1.3 with the given certificate and key (no client certificates)
    server.tls = slim.TlsServerConfig.create({
      insecure: false,
      source: new slim.TlsSource.File({ cert: opts["tls-cert"], key: opts["tls-key"] }),
      clientCa: new slim.CaSource.None(),
      includeSystemCaCertsPool: false,
      tlsVersion: "tls1.3",
    });
  }
  const config = slim.newServiceConfigWith(nodeId, undefined, { servers: [server], clients: [] });
  const service = slim.createServiceWithConfig(nodeId, config);
  // If the Service object is garbage-collected, its Rust Drop drains the server (dataplane.md §8).
  globalThis.__slimHarnessService = service;
  service.run(); // blocking flavour returns once the listener is bound; runAsync() panics "no reactor running"
  await waitListening(port, READY_PROBE_MS);
  const links = [];
  for (const url of opts.link) links.push({ url, connId: await dialEdge(service, url) });
  return { service, links };
}

const yamlString = (s) => JSON.stringify(String(s)); // a JSON string is a valid YAML scalar

/** --link-type peer: the global service from a YAML config whose clients are PEER links. */
async function startFromYaml() {
  const lines = [
    "tracing:",
    `  log_level: ${yamlString(DEBUG ? (process.env.SLIM_HARNESS_RUST_LOG ?? "info") : "off")}`,
    "services:",
    "  slim/0:",
    `    node_id: ${yamlString(nodeId)}`,
    "    dataplane:",
    "      servers:",
    `        - endpoint: ${yamlString(`127.0.0.1:${port}`)}`,
    "          tls: { insecure: true }",
    ...(opts.lenient ? ["          require_header_mac: false"] : []),
    "      clients:",
    ...opts.link.flatMap((url) => [
      `        - endpoint: ${yamlString(url)}`,
      "          connection_type: peer",
      "          tls: { insecure: true }",
    ]),
  ];
  // initializeFromConfig blocks this thread while it dials, retrying a refused connection forever:
  // make sure every peer accepts TCP first.
  for (const url of opts.link) {
    const { host, port: p } = hostPort(url);
    await waitListening(p, LINK_TIMEOUT_MS, host);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "slim-harness-node-"));
  const file = path.join(dir, "config.yaml");
  fs.writeFileSync(file, lines.join("\n") + "\n");
  try {
    slim.initializeFromConfigWithError(file); // starts the servers and dials the clients
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const service = slim.getGlobalService();
  globalThis.__slimHarnessService = service;
  await waitListening(port, READY_PROBE_MS);
  const links = [];
  for (const url of opts.link) {
    const t0 = hrms();
    let connId;
    while ((connId = service.getConnectionId(url)) === undefined) {
      if (hrms() - t0 > LINK_TIMEOUT_MS) throw new Error(`peer link to ${url} not up after ${LINK_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
    log("linked (peer)", url, "conn", connId);
    links.push({ url, connId: String(connId) });
  }
  return { service, links };
}

async function main() {
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad --port ${opts.port}`);
  const linkType = opts["link-type"];
  if (linkType !== "edge" && linkType !== "peer") throw new Error(`bad --link-type ${linkType}`);
  const { service, links } = linkType === "peer" && opts.link.length > 0 ? await startFromYaml() : await startConfigured();
  serveCommands({
    link: async ({ url }) => ({ connId: await dialEdge(service, url) }),
    unlink: async ({ connId }) => { service.disconnect(BigInt(connId)); return null; },
    exit: async () => { exitSoon(0); return null; },
  }, log);
  send({ ready: true, port, url: `${opts["tls-cert"] ? "https" : "http"}://127.0.0.1:${port}`, nodeId, links });
}

main().catch((e) => {
  const error = errorText(e);
  log("startup failed", error);
  send({ ready: false, error });
  exitSoon(1);
});
