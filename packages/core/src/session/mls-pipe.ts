// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The two ordered lanes of an MLS session. Out: every message is stamped when
// it is emitted, application data is then sealed (an async MLS operation), and
// messages reach the datapath in emission order whatever they are. In: command
// messages must carry a valid token and header signature; application data is
// opened and its headers checked before anything else (acks included) sees it,
// and every message waits for the ones before it, so a close or a commit never
// overtakes the data sent ahead of it.

import { SlimError } from "../errors.js";
import { noopLogger, type Logger } from "../log.js";
import { SessionMessageType, type ProtoMessage, type ProtoPublish } from "../wire/gen/dataplane.js";
import { isCommandMessageType } from "../auth/header-signature.js";
import type { Checkpoints } from "../persist/checkpoints.js";
import { publishOf } from "./build.js";
import type { SessionMls } from "./mls-session.js";
import type { SessionHost } from "./p2p.js";

/** MSG and non-error RTX_REPLY carry sealed application data; nothing else is encrypted. */
export function isSealed(p: ProtoPublish): boolean {
  const t = p.session?.sessionMessageType;
  return (t === SessionMessageType.MSG || t === SessionMessageType.RTX_REPLY) && p.header?.error !== true && p.msg?.contentType.case === "appPayload";
}

/** Inbound messages handled between two turns of the event loop. */
const YIELD_EVERY = 16;

export class MlsPipe {
  private out: Promise<void> = Promise.resolve();
  /** Saved sessions: messages leave in order once the state after their sealing is saved. */
  private submitted: Promise<void> = Promise.resolve();
  private in: Promise<void> = Promise.resolve();
  /** Saved sessions: opened data reaches the session in order once the state after opening it is saved. */
  private delivered: Promise<void> = Promise.resolve();
  private handled = 0;
  private commandsQueued = 0;
  /** Messages dropped on the way in, by reason (for status and tests). */
  readonly dropped = { unverified: 0, undecryptable: 0 };

  constructor(
    private readonly host: SessionHost,
    private readonly mls: SessionMls,
    private readonly log: Logger = noopLogger,
    /**
     * Sessions saved for restore: their saves (undefined: not saved). What a save request returns
     * covers everything done before it.
     * A sealed message must not leave before it: a restart would seal again with the same key and
     * nonce. An opened one is not handed on before it: a restart would open a replay of it again.
     */
    private readonly saves: () => Checkpoints | undefined = () => undefined,
  ) {}

  /** Resolves when `msg` reached the datapath (or could not be sealed or saved, which is logged). */
  send(msg: ProtoMessage): Promise<void> {
    this.host.stamp(msg);
    const p = publishOf(msg);
    const seal = p !== undefined && isSealed(p);
    const saves = this.saves();
    if (saves === undefined) {
      return (this.out = this.out.then(async () => {
        if (await this.seal(p, seal)) this.host.submit(msg);
      }));
    }
    // saved sessions: sealed in order, submitted in the same order once a save made after the sealing is done (saves are shared)
    const sealed = this.out.then(() => this.seal(p, seal));
    this.out = sealed.then(() => undefined);
    const ready = sealed.then((ok) => (ok && seal ? saves.request() : undefined));
    return (this.submitted = Promise.all([this.submitted, sealed, ready]).then(
      ([, ok]) => {
        if (ok) this.host.submit(msg);
      },
      (err: unknown) => this.log.warn("message not sent: the session state could not be saved", { error: SlimError.from(err).message }),
    ));
  }

  /** Seal `p` if it carries application data; false (logged) when it cannot be. */
  private async seal(p: ProtoPublish | undefined, seal: boolean): Promise<boolean> {
    if (!seal) return true;
    try {
      await this.mls.seal(p!);
      return true;
    } catch (err) {
      // not in the group (yet or any more): the reliable layer resends, or the caller was told
      this.log.info("MLS: message not sent", { error: SlimError.from(err).message });
      return false;
    }
  }

  /**
   * Check and open `p`, then run `then` (the session's own handling), after everything before it.
   * `delivered` says a data message is a resend of one already delivered: it is not opened (MLS
   * would refuse nothing, but the work is wasted), only handled, i.e. acked again and dropped.
   */
  receive(p: ProtoPublish, then: () => void | Promise<void>, delivered?: () => boolean): void {
    const type = p.session?.sessionMessageType ?? 0;
    const command = isCommandMessageType(type);
    // Data is opened as it arrives (the group orders the work; signature checks may overlap),
    // unless a command waits in the lane: a commit must be applied before what follows it.
    let opening: Promise<boolean> | undefined;
    if (!command && this.commandsQueued === 0 && isSealed(p) && delivered?.() !== true) opening = this.open(p, type);
    if (command) this.commandsQueued++;
    this.in = this.in.then(async () => {
      // a long backlog is worked through in microtasks: let timers and sockets run now and then
      if (++this.handled % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
      try {
        await this.inbound(p, type, command, then, opening, delivered);
      } finally {
        // counted until handled: data arriving meanwhile is opened after the command, not eagerly
        if (command) this.commandsQueued--;
      }
    });
  }

  private async inbound(
    p: ProtoPublish,
    type: number,
    command: boolean,
    then: () => void | Promise<void>,
    opening: Promise<boolean> | undefined,
    delivered: (() => boolean) | undefined,
  ): Promise<void> {
    if (command && !this.host.verifyCommand(p)) {
      this.dropped.unverified++;
      return;
    }
    let opened = false;
    if (opening !== undefined) {
      if (!(await opening)) return;
      opened = true;
    } else if (isSealed(p) && delivered?.() !== true) {
      if (!(await this.open(p, type))) return;
      opened = true;
    }
    const handle = async () => {
      try {
        await then();
      } catch (err) {
        this.log.info("MLS session message failed", { error: SlimError.from(err).message, type });
      }
    };
    const saves = this.saves();
    if (saves === undefined) return handle();
    // saved sessions: opened data waits for a save (shared with what follows); the rest keeps its place
    const ready = opened ? saves.request() : undefined;
    this.delivered = Promise.all([this.delivered, ready]).then(handle, (err: unknown) =>
      this.log.warn("message dropped: the session state could not be saved", { error: SlimError.from(err).message, type }),
    );
    // a command changes what the next messages open with: it is handled before they are opened
    if (command) await this.delivered;
  }

  private open(p: ProtoPublish, type: number): Promise<boolean> {
    return this.mls.open(p).then(
      () => true,
      (err: unknown) => {
        this.dropped.undecryptable++;
        this.log.info("MLS: message dropped", { error: SlimError.from(err).message, type });
        return false;
      },
    );
  }

  /** Resolves once everything emitted so far reached the datapath. */
  flushed(): Promise<void> {
    return Promise.all([this.out, this.submitted]).then(() => undefined);
  }
}
