// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The user-facing app: a name, an identity, a place on a datapath (an embedded
// node in this process, or a remote node over a link), and its sessions.

import { z } from "zod";
import type { ClientConnectionAuth } from "./auth/connection-auth.js";
import { SharedSecretProvider, SharedSecretVerifier } from "./auth/shared-secret.js";
import type { IdentityProvider, IdentityVerifier } from "./auth/types.js";
import { MessageProcessor } from "./datapath/processor.js";
import { Endpoint } from "./endpoint.js";
import { SlimError } from "./errors.js";
import { DialedLink, type TlsClientOptions } from "./link/grpc-client.js";
import { loggerFromEnv, type Logger } from "./log.js";
import { Name } from "./names/name.js";
import { randomSessionId } from "./session/build.js";
import { DEFAULT_CONTROL_INTERVAL_MS, DEFAULT_CONTROL_RETRIES } from "./session/control.js";
import { deriveGroupChannels } from "./session/group/channels.js";
import { GroupSession } from "./session/group/session.js";
import { P2PSession } from "./session/p2p.js";
import { SessionLayer, type AnySession } from "./session/session-layer.js";
import type { SessionMls } from "./session/mls-session.js";
import type { MlsCiphersuiteId } from "./mls/profile.js";
import type { SessionOptions } from "./session/types.js";
import { withDeadline, type AbortOptions } from "./util/abort.js";
import { AppStore } from "./persist/store.js";
import { persistentIdentity, SessionStore } from "./persist/session-store.js";

export const DEFAULT_SESSION_SETUP_TIMEOUT_MS = 30_000;

export const AppOptionsSchema = z.strictObject({
  /** `org/namespace/service`; the instance id comes from the identity. */
  name: z.union([z.string(), z.instanceof(Name)]),
  /** Shared secret (>= 32 bytes) for the default identity. */
  secret: z.string().min(32, "the shared secret must be at least 32 characters").optional(),
  /** Dial this node: `http://host:port` or `https://host:port`. */
  connect: z.string().optional(),
  /** Or attach to a datapath in this process (an embedded node's `processor`). */
  processor: z.instanceof(MessageProcessor).optional(),
  tls: z.custom<TlsClientOptions>().optional(),
  /**
   * Link-level authentication towards the node (`connect`), as the official ClientConfig `auth`:
   * `{ kind: "basic", username, password }`, or `{ kind: "bearer", token }` where `token` is a string,
   * a function returning one, or a provider with `token()` (a JwtProvider or SharedSecretProvider mints
   * a fresh one for every connect).
   */
  auth: z
    .discriminatedUnion("kind", [
      z.strictObject({ kind: z.literal("basic"), username: z.string().min(1, "auth.username must not be empty"), password: z.string().min(1, "auth.password must not be empty") }),
      z.strictObject({
        kind: z.literal("bearer"),
        token: z.union([
          z.string().min(1, "auth.token must not be empty"),
          z.custom<() => string>((v) => typeof v === "function", "auth.token must be a string, a function or a provider with token()"),
          z.custom<{ token(): string }>((v) => typeof (v as { token?: unknown } | null)?.token === "function", "auth.token must be a string, a function or a provider with token()"),
        ]),
      }),
    ])
    .optional(),
  provider: z.custom<IdentityProvider>().optional(),
  verifier: z.custom<IdentityVerifier>().optional(),
  logger: z.custom<Logger>().optional(),
  /**
   * Heartbeat interval of sessions (default 10 s, as upstream). A peer silent for three
   * intervals is declared gone (p2p: the session ends; group: the member is offline).
   * Every side must use the same value: official apps use 10 s.
   */
  heartbeatIntervalMs: z.int().positive().optional(),
  /**
   * How long a session this app joined (it answered an invitation) waits for the inviter's
   * welcome before it is dropped (default 60 s). At most 256 wait at once; later invitations
   * are dropped until some complete.
   */
  joinTimeoutMs: z.int().positive().optional(),
  /**
   * Keep sessions across restarts, as the official `createAppWithPersistence`: the identity and
   * every open session (MLS group, members, counters) are saved, encrypted, under `path`;
   * `restoreSessions()` brings them back after a restart. `app.close()` then keeps the sessions
   * for the next start instead of ending them (close a session to end it).
   */
  persistence: z
    .strictObject({
      /** Directory for the stores of the apps that use it (one store per app name). */
      path: z.string().min(1, "the persistence path must not be empty"),
      /** The store's key derives from it (scrypt); nothing in the store is written in the clear. */
      passphrase: z.string().min(8, "the persistence passphrase must be at least 8 characters"),
      /** Flush each save to the disk (survives a power cut, not only a killed process); each save costs a disk flush. */
      fsync: z.boolean().optional(),
    })
    .optional(),
});
export type AppOptions = z.input<typeof AppOptionsSchema>;

const SessionOptionsSchema = z.strictObject({
  reliable: z.strictObject({ intervalMs: z.int().positive(), maxRetries: z.int().nonnegative() }).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  mls: z
    .union([
      z.boolean(),
      z.strictObject({
        ciphersuite: z.union([z.literal(1), z.literal(2)]).optional(),
        headerIntegrityPercent: z.int().min(0).max(100).optional(),
        rotateEveryMs: z.int().positive().optional(),
      }),
    ])
    .optional(),
});

export class SlimApp implements AsyncDisposable {
  private constructor(
    readonly name: Name,
    private readonly layer: SessionLayer,
    private readonly ownProcessor: MessageProcessor | undefined,
    private readonly link: DialedLink | undefined,
    private readonly store: AppStore | undefined,
  ) {}

  static async create(input: AppOptions): Promise<SlimApp> {
    const parsed = AppOptionsSchema.safeParse(input);
    if (!parsed.success) throw new SlimError("INVALID_ARGUMENT", `invalid app options:\n${z.prettifyError(parsed.error)}`);
    const o = parsed.data;
    const base = typeof o.name === "string" ? Name.parse(o.name) : o.name;
    if ((o.connect === undefined) === (o.processor === undefined)) {
      throw new SlimError("INVALID_ARGUMENT", "give exactly one of `connect` (a node URL) or `processor` (an embedded node)");
    }
    if (o.connect === undefined && (o.auth !== undefined || o.tls !== undefined)) {
      throw new SlimError("INVALID_ARGUMENT", "`auth` and `tls` apply to `connect`; an app on an embedded node's `processor` has no link");
    }
    let provider = o.provider;
    let verifier = o.verifier;
    if ((provider === undefined || verifier === undefined) && o.secret === undefined) {
      throw new SlimError("INVALID_ARGUMENT", "give a `secret` or both `provider` and `verifier`");
    }
    const store = o.persistence === undefined ? undefined : await AppStore.open(o.persistence, base.withoutId());
    try {
      if (store !== undefined) provider = await persistentIdentity(store, base, o.secret, provider);
      provider ??= new SharedSecretProvider(base.withoutId(), o.secret!);
      verifier ??= new SharedSecretVerifier(o.secret!);
      const name = base.withId(await provider.appId());
      const logger = o.logger ?? loggerFromEnv();
      const processor = o.processor ?? new MessageProcessor({ logger });
      let link: DialedLink | undefined;
      if (o.connect !== undefined) {
        link = await DialedLink.connect(processor, o.connect, {
          ...(o.tls === undefined ? {} : { tls: o.tls }),
          ...(o.auth === undefined ? {} : { auth: o.auth as ClientConnectionAuth }),
        });
      }
      const endpoint = new Endpoint(processor, { name, identity: provider.token() });
      await endpoint.subscribe(name, link === undefined ? {} : { via: link.id });
      const sessions = store === undefined ? undefined : new SessionStore(store, logger.child("store"));
      const layer = new SessionLayer(endpoint, provider, verifier, logger, link?.id, o.heartbeatIntervalMs, sessions, o.joinTimeoutMs);
      return new SlimApp(name, layer, o.processor === undefined ? processor : undefined, link, store);
    } catch (err) {
      await store?.close();
      throw err;
    }
  }

  /**
   * Persistence on: the sessions this app had open when it last stopped, back as they were (same
   * ids, members, MLS groups; no new handshake). Group members tell the others they are back, as
   * the official restore does. Call once, after a restart; without persistence, nothing. Aborted or
   * timed out, the sessions restored so far are stopped again and stay saved for another try.
   */
  restoreSessions(options: AbortOptions = {}): Promise<AnySession[]> {
    return withDeadline("restore sessions", options, DEFAULT_SESSION_SETUP_TIMEOUT_MS, (signal) => this.layer.restore(signal));
  }

  /**
   * Open a point-to-point session with `peer` (resolves once the peer accepted),
   * or create a group on `channel` (`org/ns/room`) with this app as its moderator
   * (resolves once subscribed to the group's channels; then `invite` members).
   * Group sessions are always reliable: without `reliable`, 1000 ms / 10 retries.
   */
  async createSession(target: { type: "p2p"; peer: Name | string }, options?: SessionOptions & AbortOptions): Promise<P2PSession>;
  async createSession(target: { type: "group"; channel: Name | string }, options?: SessionOptions & AbortOptions): Promise<GroupSession>;
  async createSession(
    target: { type: "p2p"; peer: Name | string } | { type: "group"; channel: Name | string },
    options: SessionOptions & AbortOptions = {},
  ): Promise<AnySession> {
    const { signal, timeoutMs, ...rest } = options;
    const o = SessionOptionsSchema.safeParse(rest);
    if (!o.success) throw new SlimError("INVALID_ARGUMENT", `invalid session options:\n${z.prettifyError(o.error)}`);
    if (target.type === "group") {
      const channel = (typeof target.channel === "string" ? Name.parse(target.channel) : target.channel).withoutId();
      const channels = await deriveGroupChannels(this.layer.tokenId, channel);
      // members always get timer settings (official participants refuse a group invitation without
      // them) and then ack and retransmit, so the moderator does too, with the same defaults
      const reliable = o.data.reliable ?? { intervalMs: DEFAULT_CONTROL_INTERVAL_MS, maxRetries: DEFAULT_CONTROL_RETRIES };
      const mls = this.mlsOf(o.data.mls);
      await mls?.create();
      const group = new GroupSession(this.layer, randomSessionId(), "moderator", this.name, channels, reliable, o.data.metadata ?? {}, this.layer.heartbeatIntervalMs, mls);
      this.layer.add(group);
      try {
        await withDeadline(
          `group ${channel.toString()}`,
          { ...(signal === undefined ? {} : { signal }), ...(timeoutMs === undefined ? {} : { timeoutMs }) },
          DEFAULT_SESSION_SETUP_TIMEOUT_MS,
          async () => {
            await this.layer.joinChannel(channels.data);
            await this.layer.joinChannel(channels.control);
          },
        );
      } catch (err) {
        group.finish(SlimError.from(err, "SESSION"));
        throw err;
      }
      this.layer.persist(group);
      return group;
    }
    const peer = typeof target.peer === "string" ? Name.parse(target.peer) : target.peer;
    const metadata = o.data.metadata ?? {};
    // like the official setRoute, done for the user: unknown names go to the node this app dialed
    if (this.link !== undefined) await this.layer.routeVia(peer.withoutId(), this.link.id);
    const mls = this.mlsOf(o.data.mls);
    const session = new P2PSession(this.layer, randomSessionId(), true, peer, o.data.reliable, metadata, this.layer.heartbeatIntervalMs, mls);
    this.layer.add(session);
    try {
      await withDeadline(
        `session with ${peer.toString()}`,
        { ...(signal === undefined ? {} : { signal }), ...(timeoutMs === undefined ? {} : { timeoutMs }) },
        DEFAULT_SESSION_SETUP_TIMEOUT_MS,
        () => session.establish(new Map(Object.entries(metadata))),
      );
    } catch (err) {
      session.finish(SlimError.from(err, "SESSION"));
      throw err;
    }
    this.layer.persist(session);
    return session;
  }

  /**
   * Load the MLS engine now and run it once, so that the first MLS session or invitation does not
   * pay for it (about 0.1 s of module loading and first-use setup on a small machine, per process).
   * Without this call MLS loads on first use, and apps that never use it do not carry it.
   */
  async prepareMls(options: { ciphersuite?: MlsCiphersuiteId } & AbortOptions = {}): Promise<void> {
    const mls = this.layer.newMls(options.ciphersuite === undefined ? {} : { ciphersuite: options.ciphersuite });
    await withDeadline("prepare MLS", options, DEFAULT_SESSION_SETUP_TIMEOUT_MS, () => mls.prepare());
  }

  private mlsOf(option: SessionOptions["mls"]): SessionMls | undefined {
    return option === undefined || option === false ? undefined : this.layer.newMls(option === true ? {} : option);
  }

  /**
   * Sessions other apps open with this one, both kinds, as they are accepted
   * (`session.kind` tells them apart). With `kind`, sessions of the other kind are
   * declined: closed at once, and the peer is told. Iterate one listener at a time;
   * leaving the loop stops accepting.
   */
  listen(): AsyncIterable<AnySession>;
  listen(options: { kind: "p2p" }): AsyncIterable<P2PSession>;
  listen(options: { kind: "group" }): AsyncIterable<GroupSession>;
  listen(options: { kind: "any" }): AsyncIterable<AnySession>;
  listen(options: { kind?: "p2p" | "group" | "any" } = {}): AsyncIterable<AnySession> {
    const kind = options.kind ?? "any";
    const all = this.layer.incoming;
    if (kind === "any") return all;
    return {
      async *[Symbol.asyncIterator]() {
        for await (const s of all) {
          if (s.kind === kind) yield s;
          else void s.close();
        }
      },
    };
  }

  /** Close every session (with persistence: save and keep them for the next start), then leave the node. */
  async close(): Promise<void> {
    await this.layer.close();
    this.link?.close();
    this.ownProcessor?.close();
    await this.store?.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

export const createApp = (options: AppOptions): Promise<SlimApp> => SlimApp.create(options);
