// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { describe, expect, it } from "vitest";
import { MessageProcessor } from "../../src/datapath/processor.js";
import { newCounters, type Connection } from "../../src/datapath/types.js";
import { LocalConnection } from "../../src/link/local.js";
import type { ProtoMessage } from "../../src/wire/gen/dataplane.js";
import { headerOf } from "../../src/wire/validate.js";
import { addConn, nm, pub, sub, textOf } from "../helpers/fake-connection.js";

/** Signs in place, as a link does: the header of the very object it is handed gets a MAC. */
class SigningConnection implements Connection {
  readonly counters = newCounters();
  readonly info = { role: "dialer" as const };
  readonly kind = "edge" as const;
  constructor(readonly id: number) {}
  send(msg: ProtoMessage): boolean {
    headerOf(msg)!.headerMac = new Uint8Array(32).fill(this.id);
    return true;
  }
  close(): void {}
}

function localApp(p: MessageProcessor): { conn: LocalConnection; got: ProtoMessage[] } {
  const got: ProtoMessage[] = [];
  const conn = new LocalConnection(p.allocateId(), p, { deliver: (m) => (got.push(m), true), ack: () => {}, error: () => {} });
  p.register(conn);
  return { conn, got };
}

describe("local delivery", () => {
  const topic = nm("org/ns/topic");
  const withMac = (text: string, fanout: number) => {
    const m = pub(topic, text, { fanout });
    headerOf(m)!.headerMac = new Uint8Array(32).fill(9);
    return m;
  };

  it("an app never sees a link's MAC: stripped when it is the only destination, and when links sign the shared message after it", () => {
    const p = new MessageProcessor();
    const from = addConn(p, "edge");
    const app = localApp(p);
    p.handle(app.conn, sub(topic));
    p.handle(from, withMac("alone", 1));
    expect(app.got.map(textOf)).toEqual(["alone"]);
    expect(headerOf(app.got[0]!)!.headerMac).toBeUndefined();

    // the same publish to the app and to two links that sign it in place, the app first and in between
    const before = new SigningConnection(p.allocateId());
    p.register(before);
    p.handle(before, sub(topic));
    const second = localApp(p);
    p.handle(second.conn, sub(topic));
    const after = new SigningConnection(p.allocateId());
    p.register(after);
    p.handle(after, sub(topic));
    p.handle(from, withMac("shared", 256));
    for (const a of [app, second]) {
      expect(a.got.map(textOf)).toEqual(a === app ? ["alone", "shared"] : ["shared"]);
      expect(headerOf(a.got.at(-1)!)!.headerMac).toBeUndefined();
    }
  });
});
