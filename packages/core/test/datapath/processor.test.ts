// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { describe, expect, it } from "vitest";
import { MessageProcessor } from "../../src/datapath/processor.js";
import { addConn, nm, pub, sub, textOf, unsub } from "../helpers/fake-connection.js";

const bobAny = nm("org/ns/bob");
const bob1 = nm("org/ns/bob/00000000-0000-0000-0000-000000000001");
const bob2 = nm("org/ns/bob/00000000-0000-0000-0000-000000000002");

describe("subscriptions", () => {
  it("acks a non-zero subscription id on the connection it came from, and not a zero one", () => {
    const p = new MessageProcessor();
    const a = addConn(p, "edge");
    p.handle(a, sub(bob1, 42n));
    p.handle(a, sub(bob2, 0n));
    expect(a.acks()).toEqual([{ id: 42n, ok: true, error: "" }]);
    expect(p.table.size).toBe(2);
  });

  it("refuses a Subscribe without str_name and drops it with a counted reason", () => {
    const p = new MessageProcessor();
    const a = addConn(p, "edge");
    p.handle(a, sub(bob1, 7n, { strName: false }));
    expect(p.table.size).toBe(0);
    expect(a.counters.dropped.invalid).toBe(1);
  });

  it("answers an unknown unsubscribe with a failed ack", () => {
    const p = new MessageProcessor();
    const a = addConn(p, "edge");
    p.handle(a, unsub(bob1, 9n));
    expect(a.acks()).toEqual([{ id: 9n, ok: false, error: "subscription not found" }]);
  });

  it("unsubscribe removes the route", () => {
    const p = new MessageProcessor();
    const a = addConn(p, "edge");
    const src = addConn(p, "local");
    p.handle(a, sub(bob1, 1n));
    p.handle(a, unsub(bob1, 1n));
    p.handle(src, pub(bob1, "x"));
    expect(a.publishes()).toHaveLength(0);
    expect(src.counters.dropped.no_route).toBe(1);
  });

  it("enforces the per-connection subscription limit without touching other connections", () => {
    const p = new MessageProcessor({ maxSubscriptionsPerConnection: 3 });
    const a = addConn(p, "edge");
    const b = addConn(p, "edge");
    for (let i = 1; i <= 5; i++) p.handle(a, sub(nm(`org/ns/s${i}`), BigInt(i)));
    p.handle(b, sub(bob1, 99n));
    expect(a.acks().map((x) => x.ok)).toEqual([true, true, true, false, false]);
    expect(a.counters.dropped.subscription_limit).toBe(2);
    expect(b.acks()).toEqual([{ id: 99n, ok: true, error: "" }]);
  });

  it("recv_from installs a route towards another connection (setRoute) and acks at once", () => {
    const p = new MessageProcessor();
    const app = addConn(p, "local");
    const up = addConn(p, "edge");
    p.handle(app, sub(bobAny, 5n, { recvFrom: up.id }));
    expect(app.acks()).toEqual([{ id: 5n, ok: true, error: "" }]);
    p.handle(app, pub(bobAny, "via-route"));
    expect(up.publishes().map(textOf)).toEqual(["via-route"]);
    expect(up.sent.every((m) => m.messageType.case !== "subscribe")).toBe(true);
  });

  it("forward_to sends the Subscribe upstream and acks the app only after the upstream ack", () => {
    const p = new MessageProcessor();
    const app = addConn(p, "local");
    const up = addConn(p, "edge");
    p.handle(app, sub(bob1, 77n, { forwardTo: up.id }));
    expect(up.sent.map((m) => m.messageType.case)).toEqual(["subscribe"]);
    expect(app.acks()).toEqual([]);
    p.handle(up, { messageType: { case: "subscriptionAck", value: { subscriptionId: 77n, success: true, error: "" } }, metadata: new Map() });
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        expect(app.acks()).toEqual([{ id: 77n, ok: true, error: "" }]);
        resolve();
      }),
    );
  });
});

describe("publish routing", () => {
  it("fanout 1 picks one connection, local before remote, round robin inside a kind", () => {
    const p = new MessageProcessor();
    const src = addConn(p, "edge");
    const l1 = addConn(p, "local");
    const l2 = addConn(p, "local");
    const r = addConn(p, "remote");
    p.handle(l1, sub(bob1));
    p.handle(l2, sub(bob2));
    p.handle(r, sub(bob1));
    for (let i = 0; i < 4; i++) p.handle(src, pub(bobAny, `m${i}`));
    expect(l1.publishes().length + l2.publishes().length).toBe(4);
    expect(l1.publishes().length).toBe(2);
    expect(r.publishes()).toHaveLength(0);
  });

  it("a specific id reaches only that instance; it does not match an any-instance route", () => {
    const p = new MessageProcessor();
    const src = addConn(p, "local");
    const a = addConn(p, "edge");
    const b = addConn(p, "edge");
    const c = addConn(p, "edge");
    p.handle(a, sub(bob1));
    p.handle(b, sub(bob2));
    p.handle(c, sub(bobAny));
    p.handle(src, pub(bob2, "to-2"));
    expect(b.publishes().map(textOf)).toEqual(["to-2"]);
    expect(a.publishes()).toHaveLength(0);
    expect(c.publishes()).toHaveLength(0);
  });

  it("any other fanout goes to every match (0 included), never back to the incoming connection", () => {
    const p = new MessageProcessor();
    const a = addConn(p, "edge");
    const b = addConn(p, "edge");
    const c = addConn(p, "local");
    for (const x of [a, b, c]) p.handle(x, sub(bobAny));
    p.handle(a, pub(bobAny, "all", { fanout: 256 }));
    p.handle(a, pub(bobAny, "zero", { fanout: 0 }));
    expect(a.publishes()).toHaveLength(0);
    expect(b.publishes().map(textOf)).toEqual(["all", "zero"]);
    expect(c.publishes().map(textOf)).toEqual(["all", "zero"]);
  });

  it("never sends a fanout-1 message back where it came from, even when it is the only match", () => {
    const p = new MessageProcessor();
    const a = addConn(p, "edge");
    p.handle(a, sub(bob1));
    p.handle(a, pub(bob1, "loop"));
    expect(a.publishes()).toHaveLength(0);
    expect(a.counters.dropped.no_route).toBe(1);
  });

  it("decrements TTL once per hop from another node, drops at 0, and leaves local TTL alone", () => {
    const p = new MessageProcessor();
    const link = addConn(p, "edge");
    const app = addConn(p, "local");
    const out = addConn(p, "remote");
    p.handle(out, sub(bob1));
    p.handle(link, pub(bob1, "ttl8", { ttl: 8 }));
    p.handle(link, pub(bob1, "ttl1", { ttl: 1 }));
    p.handle(app, pub(bob1, "local", { ttl: 8 }));
    const got = out.publishes();
    expect(got.map(textOf)).toEqual(["ttl8", "local"]);
    const ttl = got.map((m) => (m.messageType.case === "publish" ? m.messageType.value.header!.ttl : -1));
    expect(ttl).toEqual([7, 8]);
    expect(link.counters.dropped.ttl_expired).toBe(1);
  });

  it("records the incoming connection and counts a message with no route", () => {
    const p = new MessageProcessor();
    const a = addConn(p, "edge");
    const b = addConn(p, "edge");
    p.handle(b, sub(bob1));
    p.handle(a, pub(bob1, "x"));
    p.handle(a, pub(nm("org/ns/nobody"), "y"));
    const h = b.publishes()[0]!.messageType;
    expect(h.case === "publish" && h.value.header!.incomingConn).toBe(BigInt(a.id));
    expect(a.counters.dropped.no_route).toBe(1);
    expect(p.stats.dropped.no_route).toBe(1);
  });

  it("a refused send is counted on the refusing connection and does not stop other deliveries", () => {
    const p = new MessageProcessor();
    const src = addConn(p, "local");
    const a = addConn(p, "edge");
    const b = addConn(p, "edge");
    p.handle(a, sub(bobAny));
    p.handle(b, sub(bobAny));
    a.refuse = true;
    p.handle(src, pub(bobAny, "m", { fanout: 2 }));
    expect(b.publishes()).toHaveLength(1);
    expect(a.counters.dropped.send_failed).toBe(1);
  });

  it("removes every route of a dropped connection", () => {
    const p = new MessageProcessor();
    const src = addConn(p, "local");
    const a = addConn(p, "edge");
    p.handle(a, sub(bob1));
    p.handle(a, sub(bob2));
    p.unregister(a.id);
    expect(p.table.size).toBe(0);
    p.handle(src, pub(bob1, "gone"));
    expect(src.counters.dropped.no_route).toBe(1);
  });
});

describe("peers", () => {
  it("announces a new name to peers, syncs the table to a new peer, and withdraws on drop", () => {
    const p = new MessageProcessor();
    const peer = addConn(p, "peer");
    const app = addConn(p, "edge");
    p.handle(app, sub(bob1, 11n));
    const announced = peer.sent.filter((m) => m.messageType.case === "subscribe");
    expect(announced).toHaveLength(1);
    const late = addConn(p, "peer");
    p.linkUp(late);
    expect(late.sent.filter((m) => m.messageType.case === "subscribe")).toHaveLength(1);
    p.unregister(app.id);
    expect(peer.sent.filter((m) => m.messageType.case === "unsubscribe")).toHaveLength(1);
  });

  it("drops a subscription this node already announced (loop guard) but still acks it", () => {
    const p = new MessageProcessor();
    const peerA = addConn(p, "peer");
    const app = addConn(p, "edge");
    p.handle(app, sub(bob1, 11n));
    p.handle(peerA, sub(bob1, 11n));
    expect(peerA.acks()).toEqual([{ id: 11n, ok: true, error: "" }]);
    expect(p.table.countFor(peerA.id)).toBe(0);
  });
});
