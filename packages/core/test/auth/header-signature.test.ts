// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { generateKeyPairSync, sign as cryptoSign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isSlimAuthError, type AuthFailureReason } from "../../src/auth/errors.js";
import {
  applyHeaderSignature,
  buildHeaderAad,
  encodeHeaderAad,
  isCommandMessageType,
  signHeader,
  verifyHeaderSignature,
  verifyPublishIdentity,
} from "../../src/auth/header-signature.js";
import { SharedSecretProvider, SharedSecretVerifier } from "../../src/auth/shared-secret.js";
import { componentHash } from "../../src/names/name.js";
import { decodeProtoHeaderIntegrityAad, decodeProtoMessage, encodeProtoHeaderIntegrityAad, type ProtoName, type ProtoPublish, SessionMessageType, SessionType } from "../../src/wire/gen/dataplane.js";
import { hex, sharedFile, toHex } from "../helpers/vectors.js";
import { artifactFiles, DEMO_SECRET, jsonCapturedPublishes, tokenTs } from "./captures.js";

const vectors = sharedFile("protocol/vectors/security-vectors.txt");
const line = (prefix: string): string => {
  const l = vectors.split("\n").find((x) => x.startsWith(prefix));
  if (l === undefined) throw new Error(`no ${prefix} line`);
  return l.slice(prefix.length).trim();
};
const VECTOR_AAD = hex(line("AAD(399B):"));
const VECTOR_SIG = hex(line("sig:").split(" ")[0] ?? "");
const VECTOR_TOKEN = line("TOKEN:");

const publishOf = (bytes: Uint8Array): ProtoPublish | undefined => {
  const m = decodeProtoMessage(bytes);
  return m.messageType.case === "publish" ? m.messageType.value : undefined;
};

/** MLS PrivateMessage (RFC 9420) -> authenticated_data, enough to compare with our AAD. */
function mlsAuthenticatedData(mls: Uint8Array): Uint8Array {
  let pos = 0;
  const u16 = () => ((mls[pos++] ?? 0) << 8) | (mls[pos++] ?? 0);
  const varint = () => {
    const first = mls[pos] ?? 0;
    const len = 1 << (first >> 6);
    let v = first & 0x3f;
    for (let i = 1; i < len; i++) v = v * 256 + (mls[pos + i] ?? 0);
    pos += len;
    return v;
  };
  expect(u16()).toBe(1); // mls10
  expect(u16()).toBe(2); // private_message
  const groupIdLen = varint();
  pos += groupIdLen; // group_id
  pos += 8; // epoch
  pos += 1; // content_type
  const n = varint();
  return mls.subarray(pos, pos + n);
}

function expectAuth(fn: () => unknown, reason: AuthFailureReason): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(isSlimAuthError(thrown) ? thrown.reason : String(thrown)).toBe(reason);
}

describe("HeaderIntegrityAad vector (official DiscoveryReply, captured)", () => {
  const [msg] = artifactFiles("p2p").filter((f) => f.file === "p2p/msg_14.pb");
  const publish = publishOf(msg?.bytes ?? new Uint8Array());

  it("our AAD from the captured publish is byte-identical to the vector", () => {
    expect(publish).toBeDefined();
    if (publish === undefined) return;
    expect(publish.header?.identity).toBe(VECTOR_TOKEN);
    expect(toHex(encodeHeaderAad(publish))).toBe(toHex(VECTOR_AAD));
    expect(toHex(publish.header?.e2eHeaderSig ?? new Uint8Array())).toBe(toHex(VECTOR_SIG));
  });

  it("the official signature verifies against the pubkey in the token", () => {
    if (publish === undefined) throw new Error("no publish");
    const id = new SharedSecretVerifier(DEMO_SECRET).verify(VECTOR_TOKEN, { nowMs: tokenTs(VECTOR_TOKEN) * 1000 });
    expect(verifyHeaderSignature(id.publicKey, publish, VECTOR_SIG)).toBe(true);
    const wrong = VECTOR_SIG.slice();
    wrong[10] = (wrong[10] ?? 0) ^ 1;
    expect(verifyHeaderSignature(id.publicKey, publish, wrong)).toBe(false);
  });

  it("builds the same AAD from loose fields (command message: payload type left out)", () => {
    if (publish?.header?.source === undefined || publish.header.destination === undefined || publish.session === undefined) throw new Error("no publish");
    const aad = buildHeaderAad({
      source: publish.header.source,
      destination: publish.header.destination,
      identity: publish.header.identity,
      sessionType: publish.session.sessionType,
      sessionMessageType: publish.session.sessionMessageType,
      sessionId: publish.session.sessionId,
      messageId: publish.session.messageId,
    });
    expect(aad.version).toBe(1);
    expect(aad.payloadType).toBe("");
    expect(toHex(encodeProtoHeaderIntegrityAad(aad))).toBe(toHex(VECTOR_AAD));
  });
});

describe("captured official traffic", () => {
  const verifier = new SharedSecretVerifier(DEMO_SECRET);

  it("every e2e_header_sig in the raw captures verifies; MLS authenticated_data equals our AAD", () => {
    let sigs = 0;
    let aads = 0;
    for (const dir of ["p2p", "group"] as const) {
      const files = artifactFiles(dir);
      for (const { file, bytes } of files.filter((f) => f.file.endsWith(".pb"))) {
        const p = publishOf(bytes);
        if (p?.header === undefined || p.session === undefined) continue;
        const sig = p.header.e2eHeaderSig;
        if (sig !== undefined) {
          expect(isCommandMessageType(p.session.sessionMessageType), file).toBe(true);
          const id = verifier.verify(p.header.identity, { nowMs: tokenTs(p.header.identity) * 1000 });
          expect(verifyHeaderSignature(id.publicKey, p, sig), file).toBe(true);
          sigs++;
        }
        const content = p.msg?.contentType;
        if (p.session.sessionMessageType === SessionMessageType.MSG && content?.case === "appPayload" && content.value.blob.length > 0) {
          expect(toHex(mlsAuthenticatedData(content.value.blob)), file).toBe(toHex(encodeHeaderAad(p)));
          aads++;
        }
      }
    }
    expect(sigs).toBeGreaterThanOrEqual(20);
    expect(aads).toBeGreaterThanOrEqual(4);
  });

  it("every signed command message of the JSON captures passes the official receive check", () => {
    const signed = jsonCapturedPublishes().filter((p) => p.publish.header?.e2eHeaderSig !== undefined);
    expect(signed.length).toBeGreaterThan(300);
    for (const { file, publish } of signed) {
      const nowMs = tokenTs(publish.header?.identity ?? "") * 1000;
      expect(() => verifyPublishIdentity(publish, verifier, { nowMs, requireHeaderSignature: true }), file).not.toThrow();
    }
  });
});

const name = (a: string, b: string, c: string, id?: [bigint, bigint]): ProtoName => ({
  name: { component0: componentHash(a), component1: componentHash(b), component2: componentHash(c), ...(id ? { nameId: { id0: id[0], id1: id[1] } } : {}) },
  strName: { strComponent0: a, strComponent1: b, strComponent2: c },
});

describe("our header signatures", () => {
  const provider = new SharedSecretProvider("org/ns/alice", DEMO_SECRET);
  const verifier = new SharedSecretVerifier(DEMO_SECRET);

  const make = (smt: SessionMessageType = SessionMessageType.JOIN_REQUEST, payloadType?: string): ProtoPublish => ({
    header: {
      source: name("org", "ns", "alice", [1n, 2n]),
      destination: name("org", "ns", "bob", [0xffffffffffffffffn, 0xffffffffffffffffn]),
      identity: provider.token(),
      fanout: 1,
      version: "2.0.0-alpha.8",
      ttl: 8,
      incomingConn: 3n,
    },
    session: { sessionType: SessionType.MULTICAST, sessionMessageType: smt, sessionId: 0xdeadbeef, messageId: 7 },
    msg:
      payloadType === undefined
        ? { contentType: { case: "commandPayload", value: { commandPayloadType: { case: "discoveryRequest", value: {} } } } }
        : { contentType: { case: "appPayload", value: { payloadType, blob: new Uint8Array([1, 2, 3]) } } },
  });

  it("sign / verify round trip, DER encoded", () => {
    const p = make();
    const sig = signHeader(provider, p);
    expect(sig[0]).toBe(0x30);
    expect(verifyHeaderSignature(provider.publicKey, p, sig)).toBe(true);
    expect(verifyHeaderSignature(new SharedSecretProvider("org/ns/eve", DEMO_SECRET).publicKey, p, sig)).toBe(false);
  });

  it("any change to a covered field breaks the signature", () => {
    const base = make(SessionMessageType.MSG, "text/plain");
    const sig = signHeader(provider, base);
    const mutations: [string, (p: ProtoPublish) => void][] = [
      ["source component", (p) => void (p.header!.source!.name!.component2 ^= 1n)],
      ["source string", (p) => void (p.header!.source!.strName!.strComponent2 = "mallory")],
      ["source id", (p) => void (p.header!.source!.name!.nameId = { id0: 1n, id1: 3n })],
      ["source id removed", (p) => void delete p.header!.source!.name!.nameId],
      ["source strings removed", (p) => void delete p.header!.source!.strName],
      ["destination component", (p) => void (p.header!.destination!.name!.component0 ^= 1n)],
      ["destination string", (p) => void (p.header!.destination!.strName!.strComponent1 = "nx")],
      ["destination id", (p) => void (p.header!.destination!.name!.nameId = { id0: 5n, id1: 5n })],
      ["identity", (p) => void (p.header!.identity = provider.token({ nowMs: 1_000_000_000_000 }))],
      ["session type", (p) => void (p.session!.sessionType = SessionType.POINT_TO_POINT)],
      ["message type", (p) => void (p.session!.sessionMessageType = SessionMessageType.RTX_REPLY)],
      ["session id", (p) => void (p.session!.sessionId = 0xdeadbeee)],
      ["message id", (p) => void (p.session!.messageId = 8)],
      ["message id zero", (p) => void (p.session!.messageId = 0)],
      ["payload type", (p) => void (p.msg = { contentType: { case: "appPayload", value: { payloadType: "text/html", blob: new Uint8Array([1, 2, 3]) } } })],
      ["payload type dropped (command payload)", (p) => void (p.msg = { contentType: { case: "commandPayload", value: { commandPayloadType: { case: undefined } } } })],
    ];
    for (const [what, mutate] of mutations) {
      const p = make(SessionMessageType.MSG, "text/plain");
      p.header!.identity = base.header!.identity;
      mutate(p);
      expect(verifyHeaderSignature(provider.publicKey, p, sig), what).toBe(false);
    }
  });

  it("changes to uncovered fields are ignored", () => {
    const base = make(SessionMessageType.MSG, "text/plain");
    const sig = signHeader(provider, base);
    const mutations: [string, (p: ProtoPublish) => void][] = [
      ["ttl", (p) => void (p.header!.ttl = 3)],
      ["fanout", (p) => void (p.header!.fanout = 2)],
      ["version", (p) => void (p.header!.version = "9.9.9")],
      ["incoming_conn", (p) => void (p.header!.incomingConn = 99n)],
      ["recv_from", (p) => void (p.header!.recvFrom = 4n)],
      ["forward_to", (p) => void (p.header!.forwardTo = 5n)],
      ["error flag", (p) => void (p.header!.error = true)],
      ["header_mac", (p) => void (p.header!.headerMac = new Uint8Array(32).fill(7))],
      ["e2e_header_sig", (p) => void (p.header!.e2eHeaderSig = new Uint8Array([1]))],
      ["payload bytes", (p) => void (p.msg = { contentType: { case: "appPayload", value: { payloadType: "text/plain", blob: new Uint8Array([9]) } } })],
    ];
    for (const [what, mutate] of mutations) {
      const p = make(SessionMessageType.MSG, "text/plain");
      p.header!.identity = base.header!.identity;
      mutate(p);
      expect(verifyHeaderSignature(provider.publicKey, p, sig), what).toBe(true);
    }
  });

  it("leaves default values out of the encoding, like prost", () => {
    const p = make(SessionMessageType.DISCOVERY_REQUEST);
    p.session!.sessionId = 0;
    p.session!.messageId = 0;
    p.header!.identity = "";
    p.header!.source = {};
    const bytes = encodeHeaderAad(p);
    // version=1, empty source (present, zero length), destination, nothing for identity/ids/payload type
    expect(toHex(bytes.subarray(0, 4))).toBe("08011200");
    expect(toHex(bytes.subarray(-4))).toBe("28023005"); // session_type 2, session_message_type 5, then nothing
    const back = decodeProtoHeaderIntegrityAad(bytes);
    expect(back.source).toEqual({});
    expect([back.identity, back.sessionId, back.messageId, back.payloadType]).toEqual(["", 0, 0, ""]);
  });

  it("maps session enum values the official decoder does not know to 0", () => {
    const a = make();
    const b = make();
    b.header!.identity = a.header!.identity;
    a.session!.sessionType = 99 as SessionType;
    b.session!.sessionType = SessionType.UNSPECIFIED;
    expect(toHex(encodeHeaderAad(a))).toBe(toHex(encodeHeaderAad(b)));
    a.session!.sessionMessageType = 250 as SessionMessageType;
    b.session!.sessionMessageType = SessionMessageType.UNSPECIFIED;
    expect(toHex(encodeHeaderAad(a))).toBe(toHex(encodeHeaderAad(b)));
  });

  it("needs source and destination", () => {
    const p = make();
    delete p.header!.destination;
    expect(() => encodeHeaderAad(p)).toThrowError(expect.objectContaining({ code: "INVALID_ARGUMENT" }) as Error);
    expect(verifyHeaderSignature(provider.publicKey, p, new Uint8Array(70))).toBe(false);
  });

  it("applyHeaderSignature signs command messages only", () => {
    const cmd = make(SessionMessageType.GROUP_WELCOME);
    expect(applyHeaderSignature(cmd, provider)).toBe(true);
    expect(verifyHeaderSignature(provider.publicKey, cmd, cmd.header!.e2eHeaderSig!)).toBe(true);
    const data = make(SessionMessageType.MSG, "x");
    expect(applyHeaderSignature(data, provider)).toBe(false);
    expect(data.header!.e2eHeaderSig).toBeUndefined();
    expect([...Array(21).keys()].filter(isCommandMessageType)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
  });

  it("verifyPublishIdentity follows the official receive check", () => {
    const signed = make(SessionMessageType.DISCOVERY_REQUEST);
    applyHeaderSignature(signed, provider);
    const id = verifyPublishIdentity(signed, verifier, { requireHeaderSignature: true });
    expect(id.tokenId).toBe(provider.tokenId);
    expect(id.publicKey).toEqual(provider.publicKey);

    const unsigned = make(SessionMessageType.DISCOVERY_REQUEST);
    expectAuth(() => verifyPublishIdentity(unsigned, verifier, { requireHeaderSignature: true }), "missing-signature");
    expect(() => verifyPublishIdentity(unsigned, verifier, { requireHeaderSignature: false })).not.toThrow();
    // data messages carry no signature and are not checked for one
    expect(() => verifyPublishIdentity(make(SessionMessageType.MSG, "x"), verifier, { requireHeaderSignature: true })).not.toThrow();

    const tampered = make(SessionMessageType.DISCOVERY_REQUEST);
    applyHeaderSignature(tampered, provider);
    tampered.session!.messageId++;
    expectAuth(() => verifyPublishIdentity(tampered, verifier, { requireHeaderSignature: true }), "bad-signature");

    // a valid signature by another key than the token's pubkey
    const stolen = make(SessionMessageType.DISCOVERY_REQUEST);
    applyHeaderSignature(stolen, new SharedSecretProvider("org/ns/eve", DEMO_SECRET));
    expectAuth(() => verifyPublishIdentity(stolen, verifier, { requireHeaderSignature: true }), "bad-signature");

    // token checks come first
    expectAuth(() => verifyPublishIdentity(signed, new SharedSecretVerifier(`${DEMO_SECRET}!`), { requireHeaderSignature: true }), "bad-mac");
    expectAuth(() => verifyPublishIdentity(signed, verifier, { requireHeaderSignature: true, nowMs: Date.now() + 7200_000 }), "expired");
  });

  it("verifies compressed P-256 and Ed25519 keys, rejects garbage", () => {
    const p = make();
    const aad = encodeHeaderAad(p);
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = ec.publicKey.export({ format: "jwk" });
    const uncompressed = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x ?? "", "base64url"), Buffer.from(jwk.y ?? "", "base64url")]);
    const comp = compress(uncompressed);
    const sig = cryptoSign("sha256", aad, { key: ec.privateKey, dsaEncoding: "der" });
    expect(verifyHeaderSignature(uncompressed, p, sig)).toBe(true);
    expect(verifyHeaderSignature(comp, p, sig)).toBe(true);
    const ed = generateKeyPairSync("ed25519");
    const edRaw = Buffer.from(ed.publicKey.export({ format: "jwk" }).x ?? "", "base64url");
    expect(verifyHeaderSignature(edRaw, p, cryptoSign(null, aad, ed.privateKey))).toBe(true);
    expect(verifyHeaderSignature(new Uint8Array(65), p, sig)).toBe(false);
    expect(verifyHeaderSignature(new Uint8Array(10), p, sig)).toBe(false);
    expect(verifyHeaderSignature(uncompressed, p, cryptoSign("sha256", aad, { key: ec.privateKey, dsaEncoding: "ieee-p1363" }))).toBe(false);
    expect(verifyHeaderSignature(uncompressed, p, new Uint8Array(0))).toBe(false);
  });
});

/** SEC1 compressed form of an uncompressed P-256 point. */
function compress(uncompressed: Buffer): Buffer {
  const x = uncompressed.subarray(1, 33);
  const yOdd = ((uncompressed[64] ?? 0) & 1) === 1;
  return Buffer.concat([Buffer.from([yOdd ? 3 : 2]), x]);
}
