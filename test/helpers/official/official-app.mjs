// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Child program: ONE official SLIM app (@agntcy/slim-bindings) connected to a node, driven over IPC.
// Start it with child_process.fork; see child-common.mjs for the IPC protocol.
//
//   SLIM_APP_NAME=org/ns/alice SLIM_APP_URL=http://127.0.0.1:47000 SLIM_APP_SECRET=... node official-app.mjs
//   (or: node official-app.mjs <org/ns/name> <url> <secret>)
//
// One app per process: two official apps in one process deadlock under load (bench/README.md).
// Ready message: {ready: true, name, appId, connId}. Commands: see the handlers below and index.ts.

import {
  slim, initBindings, bindLifetime, makeLogger, serveCommands, send, exitSoon, errorText, hrms,
} from "./child-common.mjs";
import { sendBurst, sink, pingPong, echo, decodeMessage, encodeBody, toMetadataMap, parseName } from "./official-work.mjs";

const CONNECT_TIMEOUT_MS = 10_000;

const [argName, argUrl, argSecret] = process.argv.slice(2);
const appName = process.env.SLIM_APP_NAME ?? argName;
const url = process.env.SLIM_APP_URL ?? argUrl;
const secret = process.env.SLIM_APP_SECRET ?? argSecret;

bindLifetime();
const log = makeLogger(`app ${appName}`);

// The bindings stop an object's Rust receive loop when its JS wrapper is garbage-collected:
// every Service, App and Session stays reachable from here for the life of the process.
const keep = (globalThis.__slimHarnessKeep = { service: null, app: null, sessions: new Map(), closed: [] });
/** @type {{session: any, lastContext: any} | null} */
let latest = null;

function entry(sessionId) {
  if (sessionId === undefined || sessionId === null) {
    if (!latest) throw new Error("no session yet (create or listen first)");
    return latest;
  }
  const e = keep.sessions.get(Number(sessionId));
  if (!e) throw new Error(`unknown session ${sessionId}`);
  return e;
}

function register(session) {
  const e = { session, lastContext: null };
  keep.sessions.set(session.sessionId(), e);
  latest = e;
  return e;
}

function describe(session) {
  const cfg = session.config();
  return {
    sessionId: session.sessionId(),
    type: session.sessionType() === slim.SessionType.Group ? "group" : "p2p",
    initiator: session.isInitiator(),
    source: session.source().components().join("/"),
    destination: session.destination().components().join("/"),
    mls: cfg.mlsSettings !== undefined,
    maxRetries: cfg.maxRetries ?? null,
    intervalMs: cfg.interval ?? null,
    metadata: Object.fromEntries(cfg.metadata ?? []),
  };
}

function sessionConfig({ type, mls, maxRetries, intervalMs, metadata }) {
  if (type !== "p2p" && type !== "group") throw new Error(`create: type must be "p2p" or "group", got ${type}`);
  const cfg = {
    sessionType: type === "group" ? slim.SessionType.Group : slim.SessionType.PointToPoint,
    metadata: toMetadataMap(metadata) ?? new Map(),
  };
  if (maxRetries !== undefined) cfg.maxRetries = maxRetries;
  if (intervalMs !== undefined) cfg.interval = intervalMs;
  if (mls) cfg.mlsSettings = slim.MlsSettings.create({ headerIntegrityValidationPercent: 100 });
  return slim.SessionConfig.create(cfg);
}

async function timed(fn) {
  const t0 = hrms();
  await fn();
  return { ms: hrms() - t0 };
}

function handlers(app, connId) {
  return {
    route: async ({ name }) => timed(() => app.setRouteAsync(parseName(name), connId)),

    create: async (args) => {
      const config = sessionConfig(args);
      const dest = args.type === "group" ? args.channel : args.peer;
      if (!dest) throw new Error(`create: ${args.type === "group" ? "channel" : "peer"} is required`);
      const t0 = hrms();
      const session = await app.createSessionAndWaitAsync(config, parseName(dest));
      register(session);
      return { ...describe(session), ms: hrms() - t0 };
    },

    listen: async ({ timeoutMs = 10_000 }) => {
      const session = await app.listenForSessionAsync(timeoutMs);
      register(session);
      return describe(session);
    },

    publish: async ({ sessionId, wait = true, payloadType, metadata, ...body }) => {
      const { session } = entry(sessionId);
      const data = encodeBody(body);
      const md = toMetadataMap(metadata);
      return timed(() => (wait ? session.publishAndWaitAsync(data, payloadType, md) : session.publishAsync(data, payloadType, md)));
    },

    recv: async ({ sessionId, n = 1, timeoutMs = 5_000, base64 = false }) => {
      const e = entry(sessionId);
      const deadline = hrms() + timeoutMs;
      const out = [];
      while (out.length < n) {
        const left = Math.max(1, Math.round(deadline - hrms()));
        try {
          const msg = await e.session.getMessageAsync(left);
          e.lastContext = msg.context;
          out.push(decodeMessage(msg, base64));
        } catch (err) {
          out.push({ error: errorText(err) });
          break;
        }
      }
      return out;
    },

    replyTo: async ({ sessionId, wait = true, payloadType, metadata, ...body }) => {
      const e = entry(sessionId);
      if (!e.lastContext) throw new Error("replyTo: nothing received on this session yet");
      const data = encodeBody(body);
      const md = toMetadataMap(metadata);
      return timed(() => (wait
        ? e.session.publishToAndWaitAsync(e.lastContext, data, payloadType, md)
        : e.session.publishToAsync(e.lastContext, data, payloadType, md)));
    },

    invite: async ({ sessionId, name }) => timed(() => entry(sessionId).session.inviteAndWaitAsync(parseName(name))),
    remove: async ({ sessionId, name }) => timed(() => entry(sessionId).session.removeAndWaitAsync(parseName(name))),

    participants: async ({ sessionId }) => (await entry(sessionId).session.participantsListAsync()).map((p) => ({
      name: p.name.components().join("/"),
      id: p.name.id(),
      status: p.status === slim.ParticipantStatus.Online ? "online" : "offline",
    })),

    close: async ({ sessionId, mode = "delete" }) => {
      const e = entry(sessionId);
      // soft: go offline but stay in the group (rejoin brings it back)
      if (mode === "soft") return timed(() => e.session.closeWithModeAndWaitAsync(slim.CloseMode.Soft));
      const id = e.session.sessionId();
      const result = await timed(() => (mode === "close" ? e.session.closeAndWaitAsync() : app.deleteSessionAndWaitAsync(e.session)));
      keep.sessions.delete(id);
      keep.closed.push(e.session);
      if (latest === e) latest = [...keep.sessions.values()].at(-1) ?? null;
      return result;
    },

    rejoin: async ({ sessionId }) => timed(() => entry(sessionId).session.rejoinAndWaitAsync()),

    echo: async ({ sessionId, count = 1, timeoutMs = 10_000, idleMs }) => echo(entry(sessionId), { count, timeoutMs, idleMs }),
    sink: async ({ sessionId, count, timeoutMs = 30_000, idleMs }) => sink(entry(sessionId).session, { count, timeoutMs, idleMs }),
    burst: async ({ sessionId, count, size = 64, mode = "pipelined", window = 64 }) =>
      sendBurst(entry(sessionId).session, { count, size, mode, window }),
    rtt: async ({ sessionId, count, size = 64, warmup = 10, timeoutMs = 5_000 }) =>
      pingPong(entry(sessionId).session, { count, size, warmup, timeoutMs }),

    // persistent apps only: rebuild the sessions saved before a restart (they become the latest ones)
    restore: async () => {
      // restoreSessionsAsync panics here (no Tokio reactor on its thread); the blocking call runs on the runtime
      const sessions = app.restoreSessions(BigInt(connId));
      return sessions.map((session) => describe(register(session).session));
    },

    exit: async () => { exitSoon(0); return null; },
  };
}

async function main() {
  if (!appName || !url || !secret) throw new Error("app name, node URL and secret are required (SLIM_APP_NAME, SLIM_APP_URL, SLIM_APP_SECRET)");
  initBindings();
  const service = slim.getGlobalService();
  const name = parseName(appName);
  // SLIM_APP_PERSIST_PATH (+ SLIM_APP_PERSIST_PASSPHRASE): a restorable app, as createAppWithSecret would build it
  const persistPath = process.env.SLIM_APP_PERSIST_PATH;
  const app = persistPath
    ? service.createAppWithPersistence(
      name,
      new slim.IdentityProviderConfig.SharedSecret({ id: name.toString(), data: secret }),
      new slim.IdentityVerifierConfig.SharedSecret({ id: name.toString(), data: secret }),
      slim.Direction.Bidirectional,
      slim.PersistenceConfig.create({ path: persistPath, passphrase: process.env.SLIM_APP_PERSIST_PASSPHRASE }),
    )
    : service.createAppWithSecret(name, secret);
  keep.service = service;
  keep.app = app;
  const t0 = hrms();
  // connectAsync retries a refused connection forever; the abort surfaces as "A Rust future was aborted".
  const signal = AbortSignal.timeout(CONNECT_TIMEOUT_MS);
  let clientConfig = slim.newInsecureClientConfig(url);
  if (process.env.SLIM_APP_TLS_CA) {
    // TLS to the node, its certificate verified against the given CA only
    clientConfig = {
      ...clientConfig,
      tls: slim.TlsClientConfig.create({
        insecure: false,
        insecureSkipVerify: false,
        source: new slim.TlsSource.None(),
        caSource: new slim.CaSource.File({ path: process.env.SLIM_APP_TLS_CA }),
        includeSystemCaCertsPool: false,
        tlsVersion: "tls1.3",
      }),
    };
  }
  if (process.env.SLIM_APP_BASIC_AUTH) {
    // link-level Basic authentication towards the node (official ClientConfig.auth)
    const [username, password] = process.env.SLIM_APP_BASIC_AUTH.split(":");
    clientConfig = { ...clientConfig, auth: new slim.ClientAuthenticationConfig.Basic({ config: slim.BasicAuth.create({ username, password }) }) };
  }
  if (process.env.SLIM_APP_JWT_HS256) {
    // link-level JWT towards the node: HS256 with this secret, audience slim-node, issuer slim-ts-test
    const key = slim.JwtKeyConfig.create({ algorithm: slim.JwtAlgorithm.Hs256, format: slim.JwtKeyFormat.Pem, key: new slim.JwtKeyData.Data({ value: process.env.SLIM_APP_JWT_HS256 }) });
    clientConfig = {
      ...clientConfig,
      auth: new slim.ClientAuthenticationConfig.Jwt({
        config: slim.ClientJwtAuth.create({ key: new slim.JwtKeyType.Encoding({ key }), audience: ["slim-node"], issuer: "slim-ts-test", subject: appName, duration: 3600 }),
      }),
    };
  }
  const connId = await service.connectAsync(clientConfig, { signal }).catch((e) => {
    throw signal.aborted ? new Error(`no connection to ${url} after ${CONNECT_TIMEOUT_MS} ms`) : e;
  });
  await app.subscribeAsync(name, connId);
  log("connected", url, "conn", connId, "app id", app.id());
  serveCommands(handlers(app, connId), log);
  send({ ready: true, name: appName, appId: app.id(), connId: String(connId), startupMs: hrms() - t0 });
}

main().catch((e) => {
  const error = errorText(e);
  log("startup failed", error);
  send({ ready: false, error });
  exitSoon(1);
});
