// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { createHmac, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isSlimAuthError, type AuthFailureReason } from "../../src/auth/errors.js";
import { type JwtAlgorithm, type JwtKey, JwtProvider, type JwtProviderOptions, JwtVerifier, type JwtVerifierOptions } from "../../src/auth/jwt.js";
import { verifyWithRawPublicKey } from "../../src/auth/p256.js";
import { appIdFromTokenId } from "../../src/names/app-id.js";

const HS_SECRET = "jwt-shared-secret-for-tests-0123456789";
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const rsaOther = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const ecOther = generateKeyPairSync("ec", { namedCurve: "P-256" });
const ec384 = generateKeyPairSync("ec", { namedCurve: "P-384" });
const ed = generateKeyPairSync("ed25519");
const pem = (k: { export(o: { type: "pkcs8" | "spki"; format: "pem" }): string | Buffer }, type: "pkcs8" | "spki") => k.export({ type, format: "pem" }).toString();

const keys = {
  HS256: { sign: { algorithm: "HS256", format: "pem", key: { data: HS_SECRET } }, verify: { algorithm: "HS256", format: "pem", key: { data: HS_SECRET } } },
  ES256: {
    sign: { algorithm: "ES256", format: "pem", key: { data: pem(ec.privateKey, "pkcs8") } },
    verify: { algorithm: "ES256", format: "pem", key: { data: pem(ec.publicKey, "spki") } },
  },
  RS256: {
    sign: { algorithm: "RS256", format: "pem", key: { data: pem(rsa.privateKey, "pkcs8") } },
    verify: { algorithm: "RS256", format: "jwk", key: { data: JSON.stringify(rsa.publicKey.export({ format: "jwk" })) } },
  },
  PS256: {
    sign: { algorithm: "PS256", format: "jwk", key: { data: rsa.privateKey.export({ format: "jwk" }) } },
    verify: { algorithm: "PS256", format: "pem", key: { data: pem(rsa.publicKey, "spki") } },
  },
  ES384: { sign: { algorithm: "ES384", key: { keyObject: ec384.privateKey } }, verify: { algorithm: "ES384", key: { keyObject: ec384.publicKey } } },
  EdDSA: { sign: { algorithm: "EdDSA", key: { keyObject: ed.privateKey } }, verify: { algorithm: "EdDSA", format: "pem", key: { data: pem(ed.publicKey, "spki") } } },
} satisfies Partial<Record<JwtAlgorithm, { sign: JwtKey; verify: JwtKey }>>;

const NOW = 1_800_000_000;
const at = (deltaS = 0) => ({ nowMs: (NOW + deltaS) * 1000 });
const provider = (alg: keyof typeof keys, extra: Partial<JwtProviderOptions> = {}) => new JwtProvider({ key: keys[alg].sign, subject: "org/ns/alice", ...extra });
const verifier = (alg: keyof typeof keys, extra: Partial<JwtVerifierOptions> = {}) => new JwtVerifier({ key: keys[alg].verify, ...extra });

function expectAuth(fn: () => unknown, reason: AuthFailureReason): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(isSlimAuthError(thrown) ? thrown.reason : String(thrown)).toBe(reason);
  expect((thrown as Error).message).not.toContain(HS_SECRET);
}

const part = (token: string, i: number): Record<string, unknown> => JSON.parse(Buffer.from(token.split(".")[i] ?? "", "base64url").toString()) as Record<string, unknown>;
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
/** HS256 token with arbitrary header/claims (for cases the provider never produces). */
const hs256 = (claims: unknown, header: unknown = { typ: "JWT", alg: "HS256" }, secret = HS_SECRET): string => {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
};

describe("JWT round trips", () => {
  for (const alg of Object.keys(keys) as (keyof typeof keys)[]) {
    it(`${alg}: provider token verifies and yields the identity`, async () => {
      const p = provider(alg, { issuer: "https://issuer", audience: ["slim"] });
      const token = p.token(at());
      const id = verifier(alg, { issuer: "https://issuer", audience: ["slim"] }).verify(token, at());
      expect(id.kind).toBe("jwt");
      expect(id.tokenId).toBe("org/ns/alice");
      expect(id.subject).toBe("org/ns/alice");
      expect(id.issuedAt).toBe(NOW);
      expect(id.expiresAt).toBe(NOW + 3600);
      expect(id.publicKey).toEqual(p.publicKey);
      expect(await p.appId()).toBe(await appIdFromTokenId("org/ns/alice"));
    });
  }

  it("tokens carry the header and claims the official provider writes", () => {
    const p = provider("ES256", { issuer: "iss-1", audience: ["a", "b"], durationSeconds: 120, customClaims: { role: "agent" } });
    const token = p.token(at());
    expect(part(token, 0)).toEqual({ typ: "JWT", alg: "ES256", kid: "org/ns/alice" });
    expect(Object.keys(part(token, 0))).toEqual(["typ", "alg", "kid"]);
    const claims = part(token, 1);
    expect(claims).toEqual({
      iss: "iss-1",
      sub: "org/ns/alice",
      aud: ["a", "b"],
      exp: NOW + 120,
      iat: NOW,
      nbf: NOW,
      role: "agent",
      pubkey: Buffer.from(p.publicKey).toString("base64"),
    });
    expect(Buffer.from(token.split(".")[2] ?? "", "base64url")).toHaveLength(64); // ES256: raw r‖s
    expect(p.publicKey).toHaveLength(65);
    const sig = p.sign(new Uint8Array([1, 2, 3]));
    expect(verifyWithRawPublicKey(p.publicKey, new Uint8Array([1, 2, 3]), sig)).toBe(true);
  });

  it("each call mints a fresh token", () => {
    const p = provider("HS256");
    expect(p.token(at())).not.toBe(p.token(at(1)));
  });

  it("reads keys from files", () => {
    const dir = mkdtempSync(join(tmpdir(), "slim-jwt-"));
    try {
      writeFileSync(join(dir, "priv.pem"), pem(ec.privateKey, "pkcs8"));
      writeFileSync(join(dir, "pub.pem"), pem(ec.publicKey, "spki"));
      const p = new JwtProvider({ key: { algorithm: "ES256", format: "pem", key: { file: join(dir, "priv.pem") } }, subject: "s" });
      const v = new JwtVerifier({ key: { algorithm: "ES256", format: "pem", key: { file: join(dir, "pub.pem") } } });
      expect(v.verify(p.token(at()), at()).tokenId).toBe("s");
      expect(() => new JwtVerifier({ key: { algorithm: "ES256", key: { file: join(dir, "missing.pem") } } })).toThrowError(
        expect.objectContaining({ code: "CONFIG" }) as Error,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("accepts the pubkey inside custom_claims, where the official identity reader also looks", () => {
    const pk = Buffer.from(provider("HS256").publicKey).toString("base64");
    const id = verifier("HS256").verify(hs256({ sub: "x", exp: NOW + 10, custom_claims: { pubkey: pk } }), at());
    expect(Buffer.from(id.publicKey).toString("base64")).toBe(pk);
  });
});

describe("JWT rejections", () => {
  it("wrong key", () => {
    expectAuth(() => new JwtVerifier({ key: { algorithm: "HS256", key: { data: `${HS_SECRET}x` } } }).verify(provider("HS256").token(at()), at()), "bad-signature");
    expectAuth(() => new JwtVerifier({ key: { algorithm: "ES256", key: { keyObject: ecOther.publicKey } } }).verify(provider("ES256").token(at()), at()), "bad-signature");
    expectAuth(() => new JwtVerifier({ key: { algorithm: "RS256", key: { keyObject: rsaOther.publicKey } } }).verify(provider("RS256").token(at()), at()), "bad-signature");
  });

  it("wrong algorithm", () => {
    // another family
    expectAuth(() => verifier("ES256").verify(provider("HS256").token(at()), at()), "algorithm-not-allowed");
    // same family, other hash (accepted by the official verifier; refused here unless listed)
    const hs384 = new JwtProvider({ key: { algorithm: "HS384", key: { data: HS_SECRET } }, subject: "s" }).token(at());
    expectAuth(() => verifier("HS256").verify(hs384, at()), "algorithm-not-allowed");
    expect(verifier("HS256", { algorithms: ["HS256", "HS384"] }).verify(hs384, at()).tokenId).toBe("s");
    // RS256 vs PS256 on the same key
    expectAuth(() => verifier("RS256").verify(provider("PS256").token(at()), at()), "algorithm-not-allowed");
    // alg "none" and unknown algorithms
    const unsigned = `${b64({ alg: "none" })}.${b64({ sub: "s", exp: NOW + 10 })}.`;
    expectAuth(() => verifier("HS256").verify(unsigned, at()), "unsupported-algorithm");
    expectAuth(() => verifier("HS256").verify(hs256({ sub: "s", exp: NOW + 10 }, { alg: "HS257" }), at()), "unsupported-algorithm");
    // header alg swapped after signing
    const t = provider("HS256").token(at()).split(".");
    expectAuth(() => verifier("HS256", { algorithms: ["HS256", "HS512"] }).verify([b64({ typ: "JWT", alg: "HS512" }), t[1], t[2]].join("."), at()), "bad-signature");
  });

  it("expired, with the official 60 s leeway", () => {
    const token = provider("RS256", { durationSeconds: 100 }).token(at());
    expect(() => verifier("RS256").verify(token, at(160))).not.toThrow();
    expectAuth(() => verifier("RS256").verify(token, at(161)), "expired");
    expectAuth(() => verifier("RS256", { leewaySeconds: 0 }).verify(token, at(101)), "expired");
  });

  it("not yet valid (nbf), unless nbf validation is off as in the official verifier", () => {
    const token = hs256({ sub: "s", exp: NOW + 1000, nbf: NOW + 100, pubkey: "BA==" });
    expectAuth(() => verifier("HS256").verifyToken(token, at()), "not-yet-valid");
    expect(() => verifier("HS256").verifyToken(token, at(40))).not.toThrow();
    expect(() => verifier("HS256", { validateNbf: false }).verifyToken(token, at())).not.toThrow();
  });

  it("missing claims", () => {
    expectAuth(() => verifier("HS256").verify(hs256({ sub: "s" }), at()), "missing-claim");
    expect(() => verifier("HS256", { requiredClaims: [] }).verifyToken(hs256({ sub: "s" }), at())).not.toThrow();
    expectAuth(() => verifier("HS256", { requiredClaims: ["exp", "iss"] }).verify(hs256({ sub: "s", exp: NOW + 10 }), at()), "missing-claim");
    expectAuth(() => verifier("HS256", { requiredClaims: ["aud"] }).verify(hs256({ sub: "s", exp: NOW + 10 }), at()), "missing-claim");
    // identity claims
    const noPub = hs256({ sub: "s", exp: NOW + 10 });
    expect(verifier("HS256").verifyToken(noPub, at()).publicKey).toBeUndefined();
    expectAuth(() => verifier("HS256").verify(noPub, at()), "missing-pubkey");
    expectAuth(() => verifier("HS256").verify(hs256({ sub: "s", exp: NOW + 10, pubkey: "not base64!" }), at()), "bad-pubkey");
    expectAuth(() => verifier("HS256").verify(hs256({ exp: NOW + 10, pubkey: "BA==" }), at()), "missing-subject");
    expect(verifier("HS256").verify(hs256({ id: "legacy", exp: NOW + 10, pubkey: "BA==" }), at()).tokenId).toBe("legacy");
  });

  it("issuer and audience", () => {
    const token = provider("HS256", { issuer: "good", audience: ["slim"] }).token(at());
    expectAuth(() => verifier("HS256", { issuer: "other", audience: ["slim"] }).verify(token, at()), "bad-issuer");
    expect(() => verifier("HS256", { issuer: ["other", "good"], audience: ["slim"] }).verify(token, at())).not.toThrow();
    expectAuth(() => verifier("HS256", { audience: ["nope"] }).verify(token, at()), "bad-audience");
    // jsonwebtoken rule: a token with aud is refused when no audience is configured
    expectAuth(() => verifier("HS256").verify(token, at()), "bad-audience");
    // and a token without iss passes an issuer check unless iss is required
    const noIss = provider("HS256").token(at());
    expect(() => verifier("HS256", { issuer: "good" }).verify(noIss, at())).not.toThrow();
    expect(verifier("HS256", { audience: ["x"] }).verify(hs256({ sub: "s", exp: NOW + 10, aud: "x", pubkey: "BA==" }), at()).tokenId).toBe("s");
  });

  it("claims of the wrong type", () => {
    for (const claims of [{ sub: 5, exp: NOW + 10 }, { sub: "s", exp: "soon" }, { sub: "s", exp: -1 }, { sub: "s", exp: NOW + 10, aud: 3 }, { sub: "s", exp: NOW + 10, iss: {} }]) {
      expectAuth(() => verifier("HS256").verifyToken(hs256(claims), at()), "bad-claims");
    }
    expectAuth(() => verifier("HS256").verifyToken(hs256([1, 2]), at()), "bad-claims");
    // fractional NumericDate is rounded, as the official parser does
    expect(verifier("HS256").verifyToken(hs256({ sub: "s", exp: NOW + 0.6 }), at()).expiresAt).toBe(NOW + 1);
  });

  it("malformed tokens", () => {
    const good = provider("HS256").token(at());
    const [h, c, s] = good.split(".") as [string, string, string];
    for (const bad of ["", "abc", `${h}.${c}`, `${good}.x`, `${h}=.${c}.${s}`, `${h}.${c}.${s}=`, `!!.${c}.${s}`, `${b64("str")}.${c}.${s}`, `${Buffer.from("{").toString("base64url")}.${c}.${s}`]) {
      expectAuth(() => verifier("HS256").verify(bad, at()), "malformed");
    }
    expectAuth(() => verifier("HS256").verify(hs256({ sub: "s", exp: NOW + 10 }, { alg: "HS256", crit: ["b64"] }), at()), "malformed");
  });
});

describe("JWT configuration errors", () => {
  it("refuses unusable keys with SlimError CONFIG", () => {
    const weak = generateKeyPairSync("rsa", { modulusLength: 1024 });
    const cases: (() => unknown)[] = [
      () => new JwtVerifier({ key: { algorithm: "RS256", key: { keyObject: weak.publicKey } } }),
      () => new JwtVerifier({ key: { algorithm: "ES256", key: { keyObject: ec384.publicKey } } }),
      () => new JwtVerifier({ key: { algorithm: "ES256", key: { keyObject: rsa.publicKey } } }),
      () => new JwtVerifier({ key: { algorithm: "HS256", key: { data: "" } } }),
      () => new JwtVerifier({ key: { algorithm: "ES256", format: "pem", key: { data: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----" } } }),
      () => new JwtVerifier({ key: { algorithm: "ES256", format: "jwk", key: { data: "{not json" } } }),
      () => new JwtVerifier({ key: { algorithm: "HS256", key: { data: HS_SECRET } }, algorithms: ["ES256"] }),
      () => new JwtVerifier({ key: { algorithm: "XX999" as JwtAlgorithm, key: { data: HS_SECRET } } }),
      () => new JwtProvider({ key: keys.ES256.verify, subject: "s" }),
      () => new JwtProvider({ key: keys.HS256.sign, subject: "" }),
      () => new JwtProvider({ key: keys.HS256.sign, subject: "s", customClaims: { exp: 1 } }),
    ];
    for (const make of cases) expect(make).toThrowError(expect.objectContaining({ code: "CONFIG" }) as Error);
  });

  it("a verifier may be given the private key", () => {
    const v = new JwtVerifier({ key: { algorithm: "ES256", format: "pem", key: { data: pem(ec.privateKey, "pkcs8") } } });
    expect(v.verify(provider("ES256").token(at()), at()).tokenId).toBe("org/ns/alice");
  });
});


