// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// `slim-ts-node app echo|send`: poke a live SLIM network from the shell, in the
// spirit of `nats sub` / `nats pub`. One JSON line per message on stdout.

import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { createApp, SlimError, type AnySession, type GroupSession, type SessionMessage } from "@slim-ts/core";

export const APP_USAGE = `usage:
  slim-ts-node app echo --name org/ns/bob --connect http://127.0.0.1:46357 --secret <s>
  slim-ts-node app send --name org/ns/alice --to org/ns/bob --connect <url> --secret <s>
                        [--count N | lines from stdin] [--reliable] [--mls] [--timeout-ms 10000]
  slim-ts-node app send --name org/ns/alice --group org/ns/room --invite org/ns/bob,org/ns/carol ...

  echo  accepts sessions (point-to-point and group invitations) and sends every message back
  send  opens a session (or a group and invites), sends, prints each reply; exits 0 only if
        every reply came back, in order from each peer
  --heartbeat-ms  session heartbeat interval (default 10000, as official apps; every side must agree)
  --mls           end-to-end encryption (MLS) for the session send opens; echo accepts
                  sessions with or without it, as the inviter chose, and with --mls loads
                  the MLS engine before it prints ready
  --store DIR     echo keeps its sessions in an encrypted store under DIR (passphrase from
                  SLIM_STORE_PASSPHRASE): killed and started again, it restores them and
                  goes on echoing (printed as "restored")
  --basic-auth user:password, --bearer-token t
                  link authentication for a node that requires it (also from
                  SLIM_BASIC_AUTH / SLIM_BEARER_TOKEN, which keeps them out of ps)
  --secret may also come from SLIM_SECRET.`;

const dec = new TextDecoder();
const enc = new TextEncoder();
const line = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

function common(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      name: { type: "string" },
      to: { type: "string" },
      connect: { type: "string" },
      secret: { type: "string" },
      count: { type: "string" },
      reliable: { type: "boolean" },
      mls: { type: "boolean" },
      group: { type: "string" },
      invite: { type: "string" },
      "timeout-ms": { type: "string" },
      "heartbeat-ms": { type: "string" },
      store: { type: "string" },
      "basic-auth": { type: "string" },
      "bearer-token": { type: "string" },
    },
    strict: true,
  });
  if ((values.group === undefined) !== (values.invite === undefined)) {
    throw new SlimError("INVALID_ARGUMENT", "--group and --invite go together");
  }
  const secret = values.secret ?? process.env.SLIM_SECRET;
  if (values.name === undefined || values.connect === undefined || secret === undefined) {
    throw new SlimError("INVALID_ARGUMENT", `--name, --connect and --secret are required\n${APP_USAGE}`);
  }
  const hb = values["heartbeat-ms"];
  const heartbeatIntervalMs = hb === undefined ? undefined : Number(hb);
  if (heartbeatIntervalMs !== undefined && !(Number.isInteger(heartbeatIntervalMs) && heartbeatIntervalMs > 0)) {
    throw new SlimError("INVALID_ARGUMENT", "--heartbeat-ms must be a positive integer");
  }
  let persistence: { path: string; passphrase: string } | undefined;
  if (values.store !== undefined) {
    const passphrase = process.env.SLIM_STORE_PASSPHRASE;
    if (passphrase === undefined) throw new SlimError("INVALID_ARGUMENT", "--store needs the store passphrase in SLIM_STORE_PASSPHRASE");
    persistence = { path: values.store, passphrase };
  }
  const basic = values["basic-auth"] ?? process.env.SLIM_BASIC_AUTH;
  const bearer = values["bearer-token"] ?? process.env.SLIM_BEARER_TOKEN;
  if (basic !== undefined && bearer !== undefined) throw new SlimError("INVALID_ARGUMENT", "give --basic-auth or --bearer-token, not both");
  let auth: { kind: "basic"; username: string; password: string } | { kind: "bearer"; token: string } | undefined;
  if (basic !== undefined) {
    const colon = basic.indexOf(":");
    if (colon <= 0 || colon === basic.length - 1) throw new SlimError("INVALID_ARGUMENT", "--basic-auth must be user:password, both non-empty");
    auth = { kind: "basic", username: basic.slice(0, colon), password: basic.slice(colon + 1) };
  } else if (bearer !== undefined) auth = { kind: "bearer", token: bearer };
  const appOptions = {
    name: values.name,
    secret,
    connect: values.connect,
    ...(auth === undefined ? {} : { auth }),
    ...(heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs }),
    ...(persistence === undefined ? {} : { persistence }),
  };
  return { ...values, name: values.name, connect: values.connect, secret, appOptions };
}

const show = (m: SessionMessage, extra: Record<string, unknown> = {}) => ({
  from: m.source.toString(),
  payloadType: m.payloadType,
  text: dec.decode(m.payload),
  metadata: m.metadata,
  ...extra,
});

async function echo(argv: string[]): Promise<number> {
  const o = common(argv);
  const app = await createApp(o.appOptions);
  // MLS invitations are accepted either way; with --mls the engine loads before "ready"
  if (o.mls === true) await app.prepareMls();
  const serve = async (s: AnySession, event = "session") => {
    line({ event, kind: s.kind, sessionId: s.sessionId, peer: s.peer.toString(), metadata: s.metadata, mls: s.mls !== undefined });
    try {
      for await (const m of s) {
        line({ event: "message", sessionId: s.sessionId, ...show(m) });
        // in a group, answer only the moderator (echoing other members' echoes would never
        // stop), and only to it: a direct reply the other members do not see
        if (s.kind === "group" && !m.source.equals(s.moderator)) continue;
        await m.reply(m.payload, { payloadType: m.payloadType, metadata: m.metadata });
      }
      line({ event: "closed", sessionId: s.sessionId });
    } catch (err) {
      line({ event: "closed", sessionId: s.sessionId, error: SlimError.from(err).message });
    }
  };
  const stop = new Promise<void>((r) => {
    process.once("SIGINT", () => r());
    process.once("SIGTERM", () => r());
  });
  for (const s of await app.restoreSessions()) void serve(s, "restored");
  line({ event: "ready", name: app.name.toString() });
  const accepting = (async () => {
    for await (const s of app.listen()) void serve(s);
  })();
  await stop;
  await app.close();
  await accepting;
  return 0;
}

async function* inputs(count: string | undefined): AsyncGenerator<string> {
  if (count !== undefined) {
    const n = Number(count);
    if (!Number.isInteger(n) || n < 0) throw new SlimError("INVALID_ARGUMENT", "--count must be a non-negative integer");
    for (let i = 0; i < n; i++) yield `message ${i}`;
    return;
  }
  for await (const l of createInterface({ input: process.stdin })) yield l;
}

async function send(argv: string[]): Promise<number> {
  const o = common(argv);
  if (o.to === undefined && o.group === undefined) throw new SlimError("INVALID_ARGUMENT", "send needs --to, or --group with --invite");
  if (o.store !== undefined) throw new SlimError("INVALID_ARGUMENT", "--store is for echo: send's session ends when it exits");
  const timeoutMs = Number(o["timeout-ms"] ?? 10_000);
  await using app = await createApp(o.appOptions);
  const reliable = { ...(o.reliable ? { reliable: { intervalMs: 1_000, maxRetries: 5 } } : {}), ...(o.mls ? { mls: true } : {}) };
  let session: AnySession;
  let peers = 1;
  if (o.group !== undefined) {
    const group: GroupSession = await app.createSession({ type: "group", channel: o.group }, reliable);
    const members = o.invite!.split(",").map((x) => x.trim()).filter(Boolean);
    for (const m of members) {
      await group.invite(m);
      line({ event: "invited", name: m });
    }
    session = group;
    peers = members.length;
  } else {
    session = await app.createSession({ type: "p2p", peer: o.to! }, reliable);
  }
  line({ event: "session", kind: session.kind, sessionId: session.sessionId, peer: session.peer.toString(), mls: session.mls !== undefined });
  const sent: string[] = [];
  const replies = session[Symbol.asyncIterator]();
  for await (const text of inputs(o.count)) {
    sent.push(text);
    await session.publish(enc.encode(text));
  }
  let ok = true;
  // every peer answers every message: check the order per peer
  const seen = new Map<string, number>();
  for (let i = 0; i < sent.length * peers; i++) {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      replies.next(),
      new Promise<"timeout">((res) => (timer = setTimeout(() => res("timeout"), timeoutMs))),
    ]).catch((err: unknown) => SlimError.from(err));
    clearTimeout(timer);
    if (r === "timeout" || r instanceof SlimError || r.done) {
      line({ event: "error", error: r === "timeout" ? `no reply ${i} within ${timeoutMs} ms` : r instanceof SlimError ? r.message : "session closed" });
      ok = false;
      break;
    }
    const text = dec.decode(r.value.payload);
    const from = r.value.source.toString();
    const k = seen.get(from) ?? 0;
    seen.set(from, k + 1);
    const inOrder = text === sent[k];
    if (!inOrder) ok = false;
    line({ event: "reply", index: k, ...show(r.value, { inOrder }) });
  }
  if (seen.size !== peers) ok = false;
  await session.close();
  line({ event: "done", sent: sent.length, peers: seen.size, ok });
  return ok ? 0 : 1;
}

export async function appCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "echo") return echo(rest);
  if (sub === "send") return send(rest);
  process.stderr.write(`${APP_USAGE}\n`);
  return 2;
}
