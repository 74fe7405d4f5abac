// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isSlimError } from "../../src/errors.js";
import { isSlimAuthError, type AuthFailureReason } from "../../src/auth/errors.js";
import { P256SigningKey, verifyWithRawPublicKey } from "../../src/auth/p256.js";
import { SharedSecretProvider, SharedSecretVerifier, sharedSecretClaimsField } from "../../src/auth/shared-secret.js";
import { appIdFromTokenId } from "../../src/names/app-id.js";
import { Name } from "../../src/names/name.js";
import { sharedFile } from "../helpers/vectors.js";
import { DEMO_SECRET, jsonCapturedPublishes, tokenTs } from "./captures.js";

const vectors = sharedFile("protocol/vectors/security-vectors.txt");
const vectorLine = (prefix: string): string => {
  const line = vectors.split("\n").find((l) => l.startsWith(prefix));
  if (line === undefined) throw new Error(`no ${prefix} line in security-vectors.txt`);
  return line.slice(prefix.length).trim();
};
const VECTOR_TOKEN = vectorLine("TOKEN:");
const VECTOR_CLAIMS_JSON = vectorLine("claims json:");
const VECTOR_TS = 1795313192;
const atTs = (ts: number, deltaS = 0) => ({ nowMs: (ts + deltaS) * 1000 });

const SECRET = "0123456789abcdef0123456789abcdef-test";

function expectAuth(fn: () => unknown, reason: AuthFailureReason): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(isSlimError(thrown, "AUTH"), `expected SlimError AUTH, got ${String(thrown)}`).toBe(true);
  expect(isSlimAuthError(thrown) ? thrown.reason : undefined).toBe(reason);
  const msg = (thrown as Error).message;
  expect(msg).not.toContain(SECRET);
  expect(msg).not.toContain(DEMO_SECRET);
}

/** Mint a token by hand (for malformed / edge cases the provider never produces). */
function mint(secret: string, id: string, ts: string, nonce: string, claims: string): string {
  const msg = `${id}:${ts}:${nonce}:${claims}`;
  return `${msg}:${createHmac("sha256", secret).update(msg).digest("base64url")}`;
}
const NONCE = randomBytes(12).toString("base64url");

describe("shared-secret token vector from the official implementation", () => {
  const verifier = new SharedSecretVerifier(DEMO_SECRET);

  it("verifies with its secret and exposes the official claims", () => {
    const id = verifier.verify(VECTOR_TOKEN, atTs(VECTOR_TS));
    expect(id.kind).toBe("shared-secret");
    expect(id.tokenId).toBe("org/ns/bob_2smQacAr");
    expect(id.subject).toBe("org/ns/bob");
    expect(id.issuedAt).toBe(VECTOR_TS);
    expect(id.expiresAt).toBe(VECTOR_TS + 3600);
    const pubkey = (JSON.parse(VECTOR_CLAIMS_JSON) as { pubkey: string }).pubkey;
    expect(Buffer.from(id.publicKey).toString("base64")).toBe(pubkey);
    expect(id.publicKey.length).toBe(65);
    expect(id.publicKey[0]).toBe(0x04);
    expect(id.claims).toEqual({ sub: "org/ns/bob_2smQacAr", iat: VECTOR_TS, exp: VECTOR_TS + 3600, custom_claims: { pubkey } });
  });

  it("our claims field encodes the vector's pubkey byte-identically", () => {
    const id = verifier.verify(VECTOR_TOKEN, atTs(VECTOR_TS));
    expect(sharedSecretClaimsField(id.publicKey)).toBe(VECTOR_TOKEN.split(":")[3]);
    expect(Buffer.from(VECTOR_TOKEN.split(":")[3] ?? "", "base64url").toString()).toBe(VECTOR_CLAIMS_JSON);
  });

  it("applies the official window: 3600 s validity, 5 s forward skew, inclusive bounds", () => {
    expect(() => verifier.verify(VECTOR_TOKEN, atTs(VECTOR_TS, 3600))).not.toThrow();
    expectAuth(() => verifier.verify(VECTOR_TOKEN, atTs(VECTOR_TS, 3601)), "expired");
    expect(() => verifier.verify(VECTOR_TOKEN, atTs(VECTOR_TS, -5))).not.toThrow();
    expectAuth(() => verifier.verify(VECTOR_TOKEN, atTs(VECTOR_TS, -6)), "not-yet-valid");
    // sub-second parts of the clock are truncated
    expect(() => verifier.verify(VECTOR_TOKEN, { nowMs: (VECTOR_TS + 3600) * 1000 + 999 })).not.toThrow();
  });

  it("fails with another secret", () => {
    expectAuth(() => new SharedSecretVerifier(SECRET).verify(VECTOR_TOKEN, atTs(VECTOR_TS)), "bad-mac");
  });

  it("checks time before the MAC, as the official verifier does", () => {
    expectAuth(() => new SharedSecretVerifier(SECRET).verify(VECTOR_TOKEN, atTs(VECTOR_TS, 4000)), "expired");
  });
});

describe("tokens minted by official apps (captured SLIM header identities)", () => {
  const tokens = [...new Set(jsonCapturedPublishes().map((p) => p.publish.header?.identity ?? "").filter((t) => t !== ""))];

  it("all verify with the spike secret and none with another", () => {
    expect(tokens.length).toBeGreaterThan(100);
    const ok = new SharedSecretVerifier(DEMO_SECRET);
    const other = new SharedSecretVerifier(SECRET);
    for (const t of tokens) {
      const id = ok.verify(t, atTs(tokenTs(t)));
      expect(id.tokenId).toMatch(/^org\/ns\/[a-z0-9]+_[A-Za-z0-9]{8}$/);
      expect(id.publicKey.length).toBe(65);
      expectAuth(() => other.verify(t, atTs(tokenTs(t))), "bad-mac");
    }
  });
});

describe("SharedSecretProvider", () => {
  it("builds the token id as <org>/<ns>/<svc>_<8 alphanumerics>, ignoring the name's instance id", () => {
    const p = new SharedSecretProvider(new Name("org", "ns", "svc", 42n), SECRET);
    expect(p.tokenId).toMatch(/^org\/ns\/svc_[A-Za-z0-9]{8}$/);
    expect(p.baseId).toBe("org/ns/svc");
    expect(new SharedSecretProvider("org/ns/svc", SECRET).tokenId).not.toBe(p.tokenId);
  });

  it("mints the official layout with a fresh nonce and the current time on every call", () => {
    const p = new SharedSecretProvider("org/ns/svc", SECRET);
    const t1 = p.token();
    const t2 = p.token();
    expect(t1).not.toBe(t2);
    const [id, ts, nonce, claims, mac] = t1.split(":") as [string, string, string, string, string];
    expect(t1.split(":")).toHaveLength(5);
    expect(id).toBe(p.tokenId);
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(5);
    expect(Buffer.from(nonce, "base64url")).toHaveLength(12);
    expect(nonce).toHaveLength(16);
    expect(t2.split(":")[2]).not.toBe(nonce);
    expect(JSON.parse(Buffer.from(claims, "base64url").toString())).toEqual({ pubkey: Buffer.from(p.publicKey).toString("base64") });
    expect(Buffer.from(claims, "base64url").toString()).toBe(`{"pubkey":"${Buffer.from(p.publicKey).toString("base64")}"}`);
    expect(mac).toHaveLength(43);
    expect(p.token({ nowMs: 1_700_000_000_999 }).split(":")[1]).toBe("1700000000");
  });

  it("never repeats a nonce across pool refills (1 200 tokens), each 16 base64url characters of 12 bytes, each verifying", () => {
    const p = new SharedSecretProvider("org/ns/svc", SECRET);
    const v = new SharedSecretVerifier(SECRET);
    const nonces = new Set<string>();
    for (let i = 0; i < 1_200; i++) {
      const t = p.token();
      const nonce = t.split(":")[2]!;
      expect(nonce).toMatch(/^[A-Za-z0-9_-]{16}$/);
      expect(Buffer.from(nonce, "base64url")).toHaveLength(12);
      nonces.add(nonce);
      if (i % 100 === 0) expect(v.verify(t).tokenId).toBe(p.tokenId);
    }
    expect(nonces.size).toBe(1_200);
  });

  it("holds a P-256 key: uncompressed 65-byte public key, DER signatures", () => {
    const p = new SharedSecretProvider("org/ns/svc", SECRET);
    expect(p.publicKey).toHaveLength(65);
    expect(p.publicKey[0]).toBe(0x04);
    const data = new TextEncoder().encode("hello");
    const sig = p.sign(data);
    expect(sig[0]).toBe(0x30);
    expect(sig.length).toBeGreaterThanOrEqual(8);
    expect(sig.length).toBeLessThanOrEqual(72);
    expect(verifyWithRawPublicKey(p.publicKey, data, sig)).toBe(true);
    expect(verifyWithRawPublicKey(new SharedSecretProvider("org/ns/svc", SECRET).publicKey, data, sig)).toBe(false);
  });

  it("appId is XXH3-128 of the token id", async () => {
    const p = new SharedSecretProvider("org/ns/svc", SECRET);
    expect(await p.appId()).toBe(await appIdFromTokenId(p.tokenId));
  });

  it("can keep an identity across restarts (token id + signing key)", () => {
    const p = new SharedSecretProvider("org/ns/svc", SECRET);
    const restored = new SharedSecretProvider("org/ns/svc", SECRET, {
      tokenId: p.tokenId,
      signingKey: P256SigningKey.fromPrivateScalar(p.signingKey.exportPrivateScalar()),
    });
    expect(restored.tokenId).toBe(p.tokenId);
    expect(restored.publicKey).toEqual(p.publicKey);
    expect(restored.token().split(":")[3]).toBe(p.token().split(":")[3]);
  });

  it("refuses secrets shorter than 32 UTF-8 bytes and bad ids with SlimError CONFIG", () => {
    for (const make of [(s: string) => new SharedSecretProvider("org/ns/svc", s), (s: string) => new SharedSecretVerifier(s)]) {
      expect(() => make("x".repeat(31))).toThrowError(expect.objectContaining({ code: "CONFIG" }) as Error);
      expect(() => make("x".repeat(32))).not.toThrow();
      expect(() => make("é".repeat(16))).not.toThrow(); // 32 bytes, 16 characters
      expect(() => make("é".repeat(15))).toThrowError(expect.objectContaining({ code: "CONFIG" }) as Error);
    }
    try {
      new SharedSecretProvider("org/ns/svc", "short-secret-value");
    } catch (err) {
      expect((err as Error).message).not.toContain("short-secret-value");
    }
    for (const bad of ["", "a:b", "org/ns/s vc", "org/ns/svc\t", "org/ns/\u00a0svc"]) {
      expect(() => new SharedSecretProvider(bad, SECRET)).toThrowError(expect.objectContaining({ code: "CONFIG" }) as Error);
    }
  });
});

describe("SharedSecretVerifier accept/reject rules", () => {
  const provider = new SharedSecretProvider("org/ns/alice", SECRET);
  const verifier = new SharedSecretVerifier(SECRET);
  const now = 1_800_000_000;
  const claims = sharedSecretClaimsField(provider.publicKey);

  it("accepts our own tokens", () => {
    const id = verifier.verify(provider.token());
    expect(id.tokenId).toBe(provider.tokenId);
    expect(id.subject).toBe("org/ns/alice");
    expect(id.publicKey).toEqual(provider.publicKey);
  });

  it("rejects a token made with another secret", () => {
    expectAuth(() => new SharedSecretVerifier(`${SECRET}-other`).verify(provider.token()), "bad-mac");
  });

  it("rejects any tampering with id, timestamp, nonce or claims", () => {
    const t = provider.token({ nowMs: now * 1000 });
    const [id, ts, nonce, cl, mac] = t.split(":") as [string, string, string, string, string];
    const other = sharedSecretClaimsField(new SharedSecretProvider("org/ns/mallory", SECRET).publicKey);
    const tampered = [
      [`${id}x`, ts, nonce, cl, mac],
      [id, String(Number(ts) - 1), nonce, cl, mac],
      [id, ts, NONCE, cl, mac],
      [id, ts, nonce, other, mac],
      [id, ts, nonce, "", mac],
    ];
    for (const parts of tampered) expectAuth(() => verifier.verify(parts.join(":"), atTs(now)), "bad-mac");
    const flipped = (mac[0] === "A" ? "B" : "A") + mac.slice(1);
    expectAuth(() => verifier.verify([id, ts, nonce, cl, flipped].join(":"), atTs(now)), "bad-mac");
  });

  it("rejects expired tokens and tokens from the future beyond the skew", () => {
    const t = provider.token({ nowMs: now * 1000 });
    expect(() => verifier.verify(t, atTs(now, 3600))).not.toThrow();
    expectAuth(() => verifier.verify(t, atTs(now, 3601)), "expired");
    expect(() => verifier.verify(t, atTs(now, -5))).not.toThrow();
    expectAuth(() => verifier.verify(t, atTs(now, -6)), "not-yet-valid");
  });

  it("honours configured validity and skew", () => {
    const v = new SharedSecretVerifier(SECRET, { validitySeconds: 10, clockSkewSeconds: 0 });
    const t = provider.token({ nowMs: now * 1000 });
    expect(() => v.verify(t, atTs(now, 10))).not.toThrow();
    expectAuth(() => v.verify(t, atTs(now, 11)), "expired");
    expectAuth(() => v.verify(t, atTs(now, -1)), "not-yet-valid");
  });

  it("rejects malformed tokens", () => {
    const good = mint(SECRET, "org/ns/a_12345678", String(now), NONCE, claims);
    const mac = good.split(":")[4] ?? "";
    const cases: [string, string][] = [
      ["empty", ""],
      ["no separator", "abc"],
      ["four fields", `org/ns/a_1:${now}:${NONCE}:${mac}`],
      ["six fields", `org/ns/a_1:${now}:${NONCE}:${claims}:x:${mac}`],
      ["timestamp not a number", mint(SECRET, "id", "12a", NONCE, claims)],
      ["empty timestamp", mint(SECRET, "id", "", NONCE, claims)],
      ["negative timestamp", mint(SECRET, "id", "-1", NONCE, claims)],
      ["timestamp with spaces", mint(SECRET, "id", ` ${now}`, NONCE, claims)],
      ["u64 overflow", mint(SECRET, "id", "18446744073709551616", NONCE, claims)],
      ["short MAC", good.slice(0, -1)],
      ["long MAC", `${good}A`],
      ["MAC with invalid character", `${good.slice(0, -1)}!`],
      ["MAC padded", `${good.slice(0, -1)}=`],
      ["MAC in standard base64", good.slice(0, -43) + Buffer.from(mac, "base64url").toString("base64").slice(0, 43)],
    ];
    for (const [what, token] of cases) {
      if (what === "MAC in standard base64" && !/[+/]/.test(token.slice(-43))) continue;
      expect(() => verifier.verifyToken(token, atTs(now)), what).toThrowError(expect.objectContaining({ code: "AUTH", reason: "malformed" }) as Error);
    }
    // 43 characters whose last one carries non-zero trailing bits: not canonical, refused before the MAC check
    const lastBits = mac.slice(0, 42) + (mac[42] === "B" ? "C" : "B");
    expectAuth(() => verifier.verify([...good.split(":").slice(0, 4), lastBits].join(":"), atTs(now)), "malformed");
    expectAuth(() => verifier.verify(123 as unknown as string), "malformed");
  });

  it("accepts a '+'-prefixed timestamp as the official u64 parser does", () => {
    expect(verifier.verify(mint(SECRET, "org/ns/a_1", `+${now}`, NONCE, claims), atTs(now)).issuedAt).toBe(now);
  });

  it("does not constrain the id, nonce or claims shape beyond the MAC", () => {
    expect(verifier.verifyToken(mint(SECRET, "", String(now), "", ""), atTs(now)).tokenId).toBe("");
    expect(verifier.verifyToken(mint(SECRET, "svc", String(now), "n", claims), atTs(now)).subject).toBe("svc");
  });

  it("needs the pubkey claim for an identity", () => {
    const noClaims = mint(SECRET, "org/ns/a_1", String(now), NONCE, "");
    expect(verifier.verifyToken(noClaims, atTs(now)).publicKey).toBeUndefined();
    expectAuth(() => verifier.verify(noClaims, atTs(now)), "missing-pubkey");
    const otherClaim = mint(SECRET, "org/ns/a_1", String(now), NONCE, Buffer.from('{"foo":"bar"}').toString("base64url"));
    expectAuth(() => verifier.verify(otherClaim, atTs(now)), "missing-pubkey");
    const numeric = mint(SECRET, "org/ns/a_1", String(now), NONCE, Buffer.from('{"pubkey":5}').toString("base64url"));
    expectAuth(() => verifier.verify(numeric, atTs(now)), "missing-pubkey");
    const badB64 = mint(SECRET, "org/ns/a_1", String(now), NONCE, Buffer.from('{"pubkey":"BA_-"}').toString("base64url"));
    expectAuth(() => verifier.verify(badB64, atTs(now)), "bad-pubkey");
    const unpadded = Buffer.from(provider.publicKey).toString("base64").replace(/=+$/, "");
    const noPad = mint(SECRET, "org/ns/a_1", String(now), NONCE, Buffer.from(JSON.stringify({ pubkey: unpadded })).toString("base64url"));
    expectAuth(() => verifier.verify(noPad, atTs(now)), "bad-pubkey");
  });

  it("rejects undecodable claims after the MAC check", () => {
    expectAuth(() => verifier.verify(mint(SECRET, "a", String(now), NONCE, "!!"), atTs(now)), "bad-claims");
    expectAuth(() => verifier.verify(mint(SECRET, "a", String(now), NONCE, Buffer.from("{not json").toString("base64url")), atTs(now)), "bad-claims");
    expectAuth(() => new SharedSecretVerifier(`${SECRET}-x`).verify(mint(SECRET, "a", String(now), NONCE, "!!"), atTs(now)), "bad-mac");
  });

  it("has no replay protection by default, like the official verifier", () => {
    const t = provider.token();
    verifier.verify(t);
    expect(() => verifier.verify(t)).not.toThrow();
  });

  it("optional replay cache refuses a second use of (nonce, ts) and forgets expired entries", () => {
    const v = new SharedSecretVerifier(SECRET, { replayCacheSize: 2 });
    const t1 = provider.token({ nowMs: now * 1000 });
    v.verify(t1, atTs(now));
    expectAuth(() => v.verify(t1, atTs(now)), "replay");
    const t2 = provider.token({ nowMs: now * 1000 });
    const t3 = provider.token({ nowMs: now * 1000 });
    v.verify(t2, atTs(now));
    v.verify(t3, atTs(now)); // evicts t1 (capacity 2)
    expect(() => v.verify(t1, atTs(now))).not.toThrow();
    // a bad MAC never enters the cache
    const v2 = new SharedSecretVerifier(SECRET, { replayCacheSize: 10 });
    const forged = `${t1.slice(0, -1)}${t1.endsWith("A") ? "B" : "A"}`;
    expect(() => v2.verify(forged, atTs(now))).toThrow();
    expect(() => v2.verify(t1, atTs(now))).not.toThrow();
  });
});

describe("SharedSecretProvider.restoredAs (app persistence)", () => {
  const secret = "a-shared-secret-of-at-least-32-bytes!!";
  it("takes a saved token id and signing key back, minting tokens the same secret verifies", async () => {
    const before = new SharedSecretProvider("org/ns/app", secret);
    const after = new SharedSecretProvider("org/ns/app", secret).restoredAs({ tokenId: before.tokenId, signingKey: before.signingKey });
    expect(after.tokenId).toBe(before.tokenId);
    expect(after.publicKey).toEqual(before.publicKey);
    expect(await after.appId()).toBe(await before.appId());
    const v = new SharedSecretVerifier(secret).verify(after.token());
    expect(v.tokenId).toBe(before.tokenId);
    expect(v.publicKey).toEqual(before.publicKey);
  });

  it("refuses an identity of another base id", () => {
    const other = new SharedSecretProvider("org/ns/other", secret);
    expect(() => new SharedSecretProvider("org/ns/app", secret).restoredAs({ tokenId: other.tokenId, signingKey: other.signingKey })).toThrow(/is not one of "org\/ns\/app"/);
  });
});

describe("SharedSecretVerifier: decoded claims are kept per sender", () => {
  const secret = "s".repeat(40);
  it("every token of a sender gives the same claims and key; results do not share anything mutable", () => {
    const v = new SharedSecretVerifier(secret);
    const alice = new SharedSecretProvider("org/ns/alice", secret);
    const bob = new SharedSecretProvider("org/ns/bob", secret);
    const a1 = v.verify(alice.token());
    const a2 = v.verify(alice.token());
    const b1 = v.verify(bob.token());
    expect(Buffer.from(a1.publicKey).equals(Buffer.from(alice.publicKey))).toBe(true);
    expect(Buffer.from(b1.publicKey).equals(Buffer.from(bob.publicKey))).toBe(true);
    expect(a2.claims).toEqual(a1.claims);
    // a caller that scribbles on one result's key does not change the next result
    a1.publicKey.fill(0);
    expect(Buffer.from(v.verify(alice.token()).publicKey).equals(Buffer.from(alice.publicKey))).toBe(true);
    // the shared claims JSON is frozen
    const custom = a2.claims.custom_claims as Record<string, unknown>;
    expect(Object.isFrozen(custom)).toBe(true);
    expect(() => {
      custom.pubkey = "x";
    }).toThrow(TypeError);
  });

  it("still refuses a bad claims field for a sender it has seen before (the MAC is checked first)", () => {
    const v = new SharedSecretVerifier(secret);
    const alice = new SharedSecretProvider("org/ns/alice", secret);
    v.verify(alice.token());
    const parts = alice.token().split(":");
    parts[3] = `${parts[3]!.slice(0, -2)}AA`;
    expect(() => v.verify(parts.join(":"))).toThrow(/MAC|claims/);
  });
});
