// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { Metadata } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import {
  authorizationFromMetadata,
  basicAuthorization,
  bearerAuthorization,
  clientAuthHeaders,
  type ConnectionAuthResult,
  createConnectionAuthChecker,
} from "../../src/auth/connection-auth.js";
import { JwtProvider, JwtVerifier } from "../../src/auth/jwt.js";
import { SharedSecretProvider, SharedSecretVerifier } from "../../src/auth/shared-secret.js";
import { sharedFile } from "../helpers/vectors.js";

const failure = (r: ConnectionAuthResult) => (r.ok ? undefined : { reason: r.error.reason, code: r.error.code, www: r.wwwAuthenticate, status: r.httpStatus });

describe("client authorization headers", () => {
  it("Basic matches what the official client sent on the wire", () => {
    const open = sharedFile("spikes/p3-security/captures/capture_auth_basic.jsonl")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as { ev: string; metadata?: Record<string, string> })
      .find((r) => r.ev === "open");
    expect(open?.metadata?.["authorization"]).toBe("Basic YWxpY2U6cHctMTIz");
    expect(basicAuthorization("alice", "pw-123")).toBe(open?.metadata?.["authorization"]);
    expect(clientAuthHeaders({ kind: "basic", username: "alice", password: "pw-123" })).toEqual({ authorization: "Basic YWxpY2U6cHctMTIz" });
  });

  it("Basic refuses an empty username or password (official config errors)", () => {
    expect(() => basicAuthorization("", "pw")).toThrowError(expect.objectContaining({ code: "CONFIG" }) as Error);
    expect(() => clientAuthHeaders({ kind: "basic", username: "u", password: "" })).toThrowError(expect.objectContaining({ code: "CONFIG" }) as Error);
  });

  it("Bearer from a string, a function or a provider (fresh token per call)", () => {
    expect(bearerAuthorization("abc.def.ghi")).toBe("Bearer abc.def.ghi");
    expect(clientAuthHeaders({ kind: "bearer", token: "t0k" })).toEqual({ authorization: "Bearer t0k" });
    expect(clientAuthHeaders({ kind: "bearer", token: () => "fn" })).toEqual({ authorization: "Bearer fn" });
    const jwt = new JwtProvider({ key: { algorithm: "HS256", key: { data: "a-jwt-secret-with-enough-bytes-000" } }, subject: "org/ns/a" });
    const a = clientAuthHeaders({ kind: "bearer", token: jwt })["authorization"];
    expect(a).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(() => bearerAuthorization("with space")).toThrowError(expect.objectContaining({ code: "INVALID_ARGUMENT" }) as Error);
    expect(() => bearerAuthorization("line\nbreak")).toThrow();
    expect(clientAuthHeaders({ kind: "none" })).toEqual({});
  });
});

describe("server-side check", () => {
  const basic = createConnectionAuthChecker({ kind: "basic", username: "alice", password: "pw-123" });

  it("Basic accepts the exact credentials from grpc-js Metadata or a header record", () => {
    const md = new Metadata();
    md.set("authorization", "Basic YWxpY2U6cHctMTIz");
    expect(basic(md)).toEqual({ ok: true, kind: "basic", username: "alice" });
    expect(basic({ authorization: "Basic YWxpY2U6cHctMTIz" }).ok).toBe(true);
    expect(basic({ Authorization: "Basic YWxpY2U6cHctMTIz" }).ok).toBe(true);
    expect(basic({ authorization: ["Basic YWxpY2U6cHctMTIz", "Basic eDp5"] }).ok).toBe(true);
  });

  it("Basic refuses wrong or missing credentials with 401 + www-authenticate: Basic", () => {
    expect(failure(basic({}))).toEqual({ reason: "missing-credentials", code: "AUTH", www: "Basic", status: 401 });
    for (const value of [basicAuthorization("alice", "pw-124"), basicAuthorization("bob", "pw-123"), "basic YWxpY2U6cHctMTIz", "Basic  YWxpY2U6cHctMTIz", "Basic YWxpY2U6cHctMTIz ", "Bearer x"]) {
      expect(failure(basic({ authorization: value })), value).toEqual({ reason: "bad-credentials", code: "AUTH", www: "Basic", status: 401 });
    }
    // only the first value counts, as on the official server
    expect(basic({ authorization: ["Basic eDp5", "Basic YWxpY2U6cHctMTIz"] }).ok).toBe(false);
    const r = basic({ authorization: basicAuthorization("alice", "wrong-password") });
    expect(r.ok ? "" : r.error.message).not.toContain("wrong-password");
  });

  it("Bearer verifies JWTs (no pubkey needed) and reports failures", () => {
    const secret = "a-jwt-secret-with-enough-bytes-000";
    const provider = new JwtProvider({ key: { algorithm: "HS256", key: { data: secret } }, subject: "org/ns/a" });
    const check = createConnectionAuthChecker({ kind: "bearer", verifier: new JwtVerifier({ key: { algorithm: "HS256", key: { data: secret } } }) });
    const ok = check(clientAuthHeaders({ kind: "bearer", token: provider }));
    expect(ok.ok && ok.kind === "bearer" ? ok.token.tokenId : undefined).toBe("org/ns/a");
    const token = provider.token();
    expect(check({ authorization: `bearer   ${token}` }).ok).toBe(true); // scheme case-insensitive, leading spaces trimmed
    expect(failure(check({}))).toEqual({ reason: "missing-credentials", code: "AUTH", www: undefined, status: 401 });
    expect(failure(check({ authorization: "Basic YWxpY2U6cHctMTIz" }))?.reason).toBe("missing-credentials");
    expect(failure(check({ authorization: "Bearer" }))?.reason).toBe("missing-credentials");
    expect(failure(check({ authorization: `Bearer ${token}x` }))?.reason).toBe("bad-credentials");
    expect(failure(check({ authorization: `Bearer ${token}` }, { nowMs: Date.now() + 2 * 3600_000 }))?.reason).toBe("bad-credentials");
    const r = check({ authorization: `Bearer ${token}x` });
    expect(r.ok ? undefined : (r.error.cause as { reason?: string }).reason).toBe("bad-signature");
  });

  it("Bearer can carry shared-secret tokens too", () => {
    const s = "0123456789abcdef0123456789abcdef-xx";
    const check = createConnectionAuthChecker({ kind: "bearer", verifier: new SharedSecretVerifier(s) });
    expect(check(clientAuthHeaders({ kind: "bearer", token: new SharedSecretProvider("org/ns/x", s) })).ok).toBe(true);
  });

  it("none accepts everything; authorizationFromMetadata reads binary values too", () => {
    expect(createConnectionAuthChecker({ kind: "none" })({})).toEqual({ ok: true, kind: "none" });
    expect(authorizationFromMetadata({ get: () => [Buffer.from("Basic eA==")] })).toBe("Basic eA==");
    expect(authorizationFromMetadata({ get: () => [] })).toBeUndefined();
  });
});
