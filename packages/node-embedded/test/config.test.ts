// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { describe, expect, it } from "vitest";
import { SlimError } from "@slim-ts/core";
import { parseNodeConfig } from "../src/config.js";

describe("node config", () => {
  it("fills defaults", () => {
    const c = parseNodeConfig({});
    expect(c.listen).toBe("127.0.0.1:0");
    expect(c.lenient).toBe(false);
    expect(c.links).toEqual([]);
    expect(c.limits).toEqual({ maxLinks: 1_000, maxSubscriptionsPerConnection: 10_000, negotiationTimeoutMs: 5_000 });
  });

  it("accepts links with a kind and TLS files", () => {
    const c = parseNodeConfig({ links: [{ url: "https://10.0.0.1:46357", tls: { ca: "ca.pem" } }, { url: "http://h:1", kind: "edge" }] });
    expect(c.links.map((l) => l.kind)).toEqual(["peer", "edge"]);
  });

  it.each([
    [{ listen: "nope" }, "listen"],
    [{ links: [{ url: "ftp://x:1" }] }, "links"],
    [{ lenient: "yes" }, "lenient"],
    [{ unknownField: 1 }, "unknownField"],
    [{ limits: { maxLinks: -1 } }, "maxLinks"],
    [{ tls: { cert: "c.pem" } }, "key"],
  ])("rejects %j with a readable CONFIG error naming the field", (input, field) => {
    let err: unknown;
    try {
      parseNodeConfig(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SlimError);
    expect((err as SlimError).code).toBe("CONFIG");
    expect((err as SlimError).message).toContain(field);
  });
});
