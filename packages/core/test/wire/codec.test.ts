// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { SlimError } from "../../src/errors.js";
import * as gen from "../../src/wire/gen/dataplane.js";
import {
  LinkConnectionType,
  SessionMessageType,
  SessionType,
  createProtoLink,
  createProtoApplicationPayload,
  createProtoContent,
  createProtoLinkNegotiationPayload,
  createProtoMessage,
  createProtoNameId,
  createProtoPublish,
  createProtoSLIMHeader,
  createProtoSessionHeader,
  decodeProtoHeaderIntegrityAad,
  decodeProtoLinkNegotiationPayload,
  decodeProtoMessage,
  decodeProtoNameId,
  decodeProtoSessionHeader,
  encodeProtoHeaderIntegrityAad,
  encodeProtoMessage,
  encodeProtoNameId,
  encodeProtoPublish,
  encodeProtoSLIMHeader,
  encodeProtoSessionHeader,
  type ProtoMessage,
} from "../../src/wire/gen/dataplane.js";

// ../shared is a sibling of the repository root (CI always has it).
const SHARED = fileURLToPath(new URL("../../../../../shared/", import.meta.url));
const SPIKES = `${SHARED}spikes/`;
const PROTO = fileURLToPath(new URL("../../proto/dataplane/v1/dataplane.proto", import.meta.url));

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "base64"));
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const EMPTY = new Uint8Array(0);

/** Runs fn; returns the SlimError it threw (anything else fails the test) or undefined. */
function slimErrorOf(fn: () => unknown): SlimError | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (!(err instanceof SlimError)) throw new Error(`expected only SlimError, got ${String(err)}`, { cause: err });
    return err;
  }
}

// ---------------------------------------------------------------------------------------------
// A second, independent reading of our .proto (regexes, not the generator), used to rebuild the
// messages the capture tools logged as protobufjs JSON (camelCase keys, enum names, base64 bytes).

interface FieldDef { type: string; ts: string; label: string; oneof: string | undefined }
const schema = { messages: new Map<string, Map<string, FieldDef>>(), enums: new Map<string, Map<string, number>>() };
{
  let msg: Map<string, FieldDef> | undefined;
  let en: Map<string, number> | undefined;
  let oneof: string | undefined;
  const camel = (s: string): string => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  for (const raw of readFileSync(PROTO, "utf8").split("\n")) {
    const line = raw.replace(/\/\/.*/, "").trim();
    let m: RegExpExecArray | null;
    if ((m = /^message (\w+) \{(\})?$/.exec(line))) schema.messages.set(m[1]!, (msg = new Map()));
    else if ((m = /^enum (\w+) \{$/.exec(line))) schema.enums.set(m[1]!, (en = new Map()));
    else if ((m = /^oneof (\w+) \{$/.exec(line))) oneof = camel(m[1]!);
    else if ((m = /^(optional |repeated )?(map<string, string>|[\w.]+) (\w+) = (\d+);$/.exec(line)) && msg) {
      // protobufjs keys: "_x" -> "X" for a lowercase letter only (str_component_0 -> strComponent_0).
      const json = m[3]!.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
      const label = m[2]!.startsWith("map<") ? "map" : (m[1] ?? "").trim();
      msg.set(json, { type: m[2]!, ts: camel(m[3]!), label, oneof });
    } else if ((m = /^([A-Z0-9_]+) = (-?\d+);$/.exec(line)) && en) en.set(m[1]!, Number(m[2]));
    else if (line === "}") oneof === undefined ? ((msg = undefined), (en = undefined)) : (oneof = undefined);
  }
}

type Create = (init?: object) => Record<string, unknown>;
function fromJson(type: string, json: Record<string, unknown>): Record<string, unknown> {
  const fields = schema.messages.get(type);
  const create = (gen as unknown as Record<string, Create>)[`createProto${type}`];
  if (!fields || !create) throw new Error(`no message ${type}`);
  const out = create();
  for (const [key, value] of Object.entries(json)) {
    const f = fields.get(key);
    if (!f) {
      // protobufjs oneof discriminators ("messageType": "link", "_recvFrom": "recvFrom").
      if (key.startsWith("_") || [...fields.values()].some((d) => d.oneof === key)) continue;
      throw new Error(`unexpected key ${type}.${key}`);
    }
    const v = f.label === "map" ? new Map(Object.entries(value as Record<string, string>))
      : f.label === "repeated" ? (value as unknown[]).map((x) => scalarFromJson(f.type, x)) : scalarFromJson(f.type, value);
    if (f.oneof) out[f.oneof] = { case: f.ts, value: v };
    else out[f.ts] = v;
  }
  return out;
}
function scalarFromJson(type: string, v: unknown): unknown {
  if (type === "uint64") return BigInt(v as string);
  if (type === "bytes") return b64(v as string);
  if (type === "uint32" || type === "bool" || type === "string") return v;
  const en = schema.enums.get(type);
  if (en) {
    if (typeof v === "number") return v;
    const hit = [...en].find(([name]) => name === v || name.endsWith(`_${String(v)}`));
    if (!hit) throw new Error(`unknown ${type} value ${String(v)}`);
    return hit[1];
  }
  return fromJson(type, v as Record<string, unknown>);
}

// ---------------------------------------------------------------------------------------------
// Captures: every frame of every spikes/*/captures/*.jsonl file.

const captureFiles = existsSync(SPIKES)
  ? readdirSync(SPIKES).flatMap((spike) => {
      const dir = `${SPIKES}${spike}/captures/`;
      return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".jsonl")).sort().map((f) => `${spike}/captures/${f}`) : [];
    }).sort()
  : [];

type Line = Record<string, unknown>;
const readLines = (rel: string): Line[] =>
  readFileSync(`${SPIKES}${rel}`, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as Line);
/** Raw frames (p3-security style): base64 protobuf in `raw`, direction in `ev`, connection in `cid`. */
const rawFrames = (rel: string): Line[] => readLines(rel).filter((o) => typeof o.raw === "string");

const totals = { files: 0, raw: 0, identical: 0, canonicalised: 0, json: 0 };
afterAll(() => {
  if (totals.files === 0) return;
  console.log(
    `codec: ${totals.raw + totals.json} captured frames from ${totals.files} files: ${totals.raw} raw frames decoded and ` +
      `re-encoded (${totals.identical} byte-identical, ${totals.canonicalised} from a non-prost sender re-encoded canonically), ` +
      `${totals.json} JSON-logged frames rebuilt and re-encoded to their captured length`,
  );
});

describe("captured frames", () => {
  it("finds ../shared next to the repository", () => {
    expect(existsSync(SPIKES), `missing ${SPIKES}: clone the shared/ directory next to the repository root`).toBe(true);
    expect(captureFiles.length).toBeGreaterThan(0);
  });

  for (const rel of captureFiles) {
    const empty = statSync(`${SPIKES}${rel}`).size === 0;
    it.skipIf(empty)(`${rel}${empty ? " (empty capture file)" : ""} round-trips`, () => {
      const userAgent = new Map<unknown, string>();
      let frames = 0;
      for (const o of readLines(rel)) {
        if (o.ev === "open") userAgent.set(o.cid, String((o.metadata as Record<string, unknown> | undefined)?.["user-agent"]));
        if (typeof o.raw === "string") {
          const bytes = b64(o.raw);
          expect(bytes.length).toBe(o.len);
          const msg = decodeProtoMessage(bytes);
          const again = encodeProtoMessage(msg);
          // What the capture tool decoded (protobufjs) must be what we decoded.
          expect(msg).toEqual(fromJson("Message", o.msg as Record<string, unknown>));
          const prostSender = o.ev === "s2c" || (userAgent.get(o.cid) ?? "").startsWith("tonic/");
          if (prostSender || hex(again) === hex(bytes)) {
            expect(hex(again)).toBe(hex(bytes));
            totals.identical++;
          } else {
            // A protobufjs sender (the spike's grpc-node-js client) also wrote explicit proto3 defaults:
            // same message, our (prost) encoding is shorter and stable.
            expect(decodeProtoMessage(again)).toEqual(msg);
            expect(again.length).toBeLessThan(bytes.length);
            expect(hex(encodeProtoMessage(decodeProtoMessage(again)))).toBe(hex(again));
            totals.canonicalised++;
          }
          totals.raw++;
          frames++;
        } else if (typeof o.full === "object" && typeof o.bytes === "number") {
          // JSON-only frames (p2-session style): rebuild, encode, compare with the captured length.
          const msg = fromJson("Message", o.full as Record<string, unknown>) as unknown as ProtoMessage;
          const bytes = encodeProtoMessage(msg);
          expect(bytes.length).toBe(o.bytes);
          expect(decodeProtoMessage(bytes)).toEqual(msg);
          totals.json++;
          frames++;
        }
      }
      expect(frames, `${rel} has no frames`).toBeGreaterThan(0);
      totals.files++;
    });
  }
});

// ---------------------------------------------------------------------------------------------

describe("spot checks", () => {
  const bob = { org: 9745323415579563579n, ns: 17219925055306830033n, bob: 5309210987355009988n };

  it("the first Link of a capture", () => {
    const [request, reply] = rawFrames("p3-security/captures/capture_group.jsonl").map((o) => decodeProtoMessage(b64(String(o.raw))));
    expect(request?.messageType.case).toBe("link");
    const link = request?.messageType.case === "link" ? request.messageType.value.linkType : undefined;
    expect(link?.case).toBe("linkNegotiation");
    const p = link?.value;
    expect(p?.linkId).toBe("58e791e4-bf43-496a-a830-61885417e95e");
    expect(p?.connectionType).toBe(LinkConnectionType.EDGE);
    expect(p?.isReply).toBe(false);
    expect(p?.slimVersion).toBe("2.0.0-alpha.8");
    expect(p?.nodeId).toBe("node-af0d6487-5051-4cd5-a7ea-ced0f1ba7824");
    expect(p?.linkEcdhPublicKey.length).toBe(32);
    expect(p?.linkKemPayload).toBeUndefined();
    const r = reply?.messageType.case === "link" ? reply.messageType.value.linkType.value : undefined;
    expect([r?.isReply, r?.linkId, r?.connectionType]).toEqual([true, p?.linkId, LinkConnectionType.EDGE]);
  });

  it("a ~500-byte Publish", () => {
    const o = rawFrames("p3-security/captures/capture_nomls_.jsonl").find((f) => f.seq === 24);
    const bytes = b64(String(o?.raw));
    expect(bytes.length).toBe(498);
    const m = decodeProtoMessage(bytes);
    const p = m.messageType.case === "publish" ? m.messageType.value : undefined;
    expect(p?.session?.sessionMessageType).toBe(SessionMessageType.MSG);
    expect(p?.session?.sessionType).toBe(SessionType.POINT_TO_POINT);
    expect([p?.session?.sessionId, p?.session?.messageId]).toEqual([2478306888, 1]);
    const h = p?.header;
    expect([h?.fanout, h?.ttl, h?.version, h?.incomingConn, h?.headerMac?.length]).toEqual([1, 8, "2.0.0-alpha.8", 0n, 32]);
    expect(h?.e2eHeaderSig).toBeUndefined();
    expect(h?.destination?.name).toMatchObject({ component0: bob.org, component1: bob.ns, component2: bob.bob });
    expect(h?.destination?.strName).toEqual({ strComponent0: "org", strComponent1: "ns", strComponent2: "bob" });
    const app = p?.msg?.contentType.case === "appPayload" ? p.msg.contentType.value : undefined;
    expect(app?.payloadType).toBe("text/plain");
    expect(new TextDecoder().decode(app?.blob)).toBe("hello bob, secret text");
    expect(m.metadata.size).toBe(0);
  });

  it("metadata map: captured entry, prost rules for empty key/value, hostile keys", () => {
    const o = readLines("p2-session/captures/p2p-loss.jsonl").find((l) => (l.metadata as Record<string, string> | undefined)?.["x-demo"]);
    const bytes = encodeProtoMessage(fromJson("Message", o?.full as Record<string, unknown>) as unknown as ProtoMessage);
    expect(bytes.length).toBe(o?.bytes);
    expect(hex(bytes).endsWith(`220d0a06${hex(utf8("x-demo"))}1203${hex(utf8("p2p"))}`)).toBe(true);
    expect([...decodeProtoMessage(bytes).metadata]).toEqual([["x-demo", "p2p"]]);

    const empties = createProtoMessage({ metadata: new Map([["", "v"], ["k", ""]]) });
    expect(hex(encodeProtoMessage(empties))).toBe("2203120176" + "22030a016b");
    expect(hex(encodeProtoMessage(createProtoMessage({ metadata: new Map([["", ""]]) })))).toBe("2200");
    expect([...decodeProtoMessage(unhex("2200")).metadata]).toEqual([["", ""]]);
    const hostile = new Map([["__proto__", "x"], ["constructor", "y"], ["toString", ""]]);
    const back = decodeProtoMessage(encodeProtoMessage(createProtoMessage({ metadata: hostile })));
    expect([...back.metadata]).toEqual([...hostile]);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it("HeaderIntegrityAad: the official 399-byte AAD re-encodes identically", () => {
    const vectors = readFileSync(`${SHARED}protocol/vectors/security-vectors.txt`, "utf8");
    const aad = unhex(/^AAD\(399B\): ([0-9a-f]+)$/m.exec(vectors)?.[1] ?? "");
    expect(aad.length).toBe(399);
    const m = decodeProtoHeaderIntegrityAad(aad);
    expect([m.version, m.payloadType, m.destination?.strName?.strComponent2]).toEqual([1, "", "alice"]);
    expect(hex(encodeProtoHeaderIntegrityAad(m))).toBe(hex(aad));
  });
});

describe("prost-exact encoding", () => {
  it("writes a oneof at the position of its lowest field number", () => {
    const m = createProtoMessage({
      messageType: { case: "link", value: createProtoLink({ linkType: { case: "linkNegotiation", value: createProtoLinkNegotiationPayload() } }) },
      metadata: new Map([["a", "b"]]),
    });
    expect(hex(encodeProtoMessage(m))).toBe("2a020a00" + "22060a0161120162");
  });

  it("skips implicit defaults, always writes optional fields and present messages", () => {
    expect(hex(encodeProtoSLIMHeader(createProtoSLIMHeader()))).toBe("");
    expect(hex(encodeProtoSLIMHeader(createProtoSLIMHeader({ incomingConn: 0n, error: false, headerMac: new Uint8Array(0) })))).toBe("480050005a00");
    expect(hex(encodeProtoPublish(createProtoPublish({ session: createProtoSessionHeader() })))).toBe("1200");
    expect(hex(encodeProtoNameId(createProtoNameId({ id0: 2n ** 64n - 1n, id1: 300n })))).toBe("08ffffffffffffffffff0110ac02");
    expect(decodeProtoNameId(unhex("08ffffffffffffffffff0110ac02"))).toEqual({ id0: 2n ** 64n - 1n, id1: 300n });
  });

  it("keeps unknown enum values, sign-extends negative ones", () => {
    const h = createProtoSessionHeader({ sessionType: -1 as number as SessionType, sessionMessageType: 99 as number as SessionMessageType });
    const bytes = encodeProtoSessionHeader(h);
    expect(hex(bytes)).toBe("08ffffffffffffffffff011063");
    expect(decodeProtoSessionHeader(bytes)).toEqual(h);
  });

  it("strings: non-ASCII, BOM kept, lone surrogate as U+FFFD", () => {
    for (const s of ["é", "日本語のリンク", "😀 emoji", "\uFEFFbom", "x".repeat(300) + "é", "é".repeat(100)]) {
      const bytes = encodeProtoMessage(createProtoMessage({ metadata: new Map([[s, s]]) }));
      expect([...decodeProtoMessage(bytes).metadata]).toEqual([[s, s]]);
    }
    const lone = encodeProtoMessage(createProtoMessage({ metadata: new Map([["\uD800", "a\uDC00b"]]) }));
    expect(hex(lone)).toBe("220c0a03efbfbd1205" + "61efbfbd62");
  });

  it("large and consecutive messages keep their bytes", () => {
    const publish = (blob: Uint8Array): ProtoMessage =>
      createProtoMessage({
        messageType: { case: "publish", value: createProtoPublish({
          msg: createProtoContent({ contentType: { case: "appPayload", value: createProtoApplicationPayload({ payloadType: "t", blob }) } }),
        }) },
      });
    const blob = new Uint8Array(3_000_000);
    for (let i = 0; i < blob.length; i++) blob[i] = i % 251;
    const big = encodeProtoMessage(publish(blob));
    // Message.publish, Publish.msg, Content.app_payload, ApplicationPayload{payload_type "t", blob}.
    expect(hex(big.subarray(0, 23))).toBe("1ad28db701" + "1acd8db701" + "0ac88db701" + "0a0174" + "12c08db701");
    expect(big.length).toBe(3_000_023);
    const blobOf = (m: ProtoMessage): Uint8Array | undefined =>
      m.messageType.case === "publish" && m.messageType.value.msg?.contentType.case === "appPayload"
        ? m.messageType.value.msg.contentType.value.blob
        : undefined;
    expect(Buffer.compare(blobOf(decodeProtoMessage(big)) ?? EMPTY, blob)).toBe(0);
    // Many small messages share the encoder's slab: none may overwrite another.
    const encoded = Array.from({ length: 3000 }, (_, i) => encodeProtoMessage(publish(utf8(`message ${i}`))));
    const texts = encoded.map((bytes) => new TextDecoder().decode(blobOf(decodeProtoMessage(bytes))));
    expect(texts).toEqual(Array.from({ length: 3000 }, (_, i) => `message ${i}`));
  });

  it("keeps `room` free bytes before a message (small, on a fresh slab, grown past the slab) and the same bytes", () => {
    const publish = (blob: Uint8Array): ProtoMessage =>
      createProtoMessage({
        messageType: { case: "publish", value: createProtoPublish({
          msg: createProtoContent({ contentType: { case: "appPayload", value: createProtoApplicationPayload({ payloadType: "t", blob }) } }),
        }) },
      });
    for (const n of [5, 900, 15_000, 40_000, 5, 5]) {
      const m = publish(new Uint8Array(n).fill(n & 0xff));
      const plain = Buffer.from(encodeProtoMessage(m));
      const roomy = encodeProtoMessage(m, 14);
      expect(Buffer.from(roomy).equals(plain), `${n} B`).toBe(true);
      expect(roomy.byteOffset, `${n} B`).toBeGreaterThanOrEqual(14);
      // the room is ours: writing it leaves this message and the next one intact
      new Uint8Array(roomy.buffer, roomy.byteOffset - 14, 14).fill(0xee);
      const next = encodeProtoMessage(m, 14);
      expect(Buffer.from(roomy).equals(plain) && Buffer.from(next).equals(plain), `${n} B`).toBe(true);
    }
  });

  it("reads a Buffer into plain Uint8Array fields, and merges a repeated message field", () => {
    const link = rawFrames("p3-security/captures/capture_group.jsonl")[0];
    const m = decodeProtoMessage(Buffer.from(String(link?.raw), "base64"));
    const key = m.messageType.case === "link" ? m.messageType.value.linkType.value?.linkEcdhPublicKey : undefined;
    expect(key?.constructor).toBe(Uint8Array);
    // header.fanout then header.ttl in two separate occurrences of field 1 of a Subscribe: merged.
    const merged = decodeProtoMessage(unhex("0a08" + "0a02" + "2001" + "0a02" + "3008"));
    expect(merged.messageType.case === "subscribe" && merged.messageType.value.header).toMatchObject({ fanout: 1, ttl: 8 });
  });
});

// ---------------------------------------------------------------------------------------------

describe("hostile input", () => {
  const code = (bytes: Uint8Array, maxBytes?: number) => slimErrorOf(() => decodeProtoMessage(bytes, maxBytes))?.code;

  it("rejects input above maxBytes before parsing", () => {
    expect(code(new Uint8Array(5 * 1024 * 1024))).toBe("MESSAGE_TOO_LARGE");
    expect(code(new Uint8Array(4 * 1024 * 1024 + 1))).toBe("MESSAGE_TOO_LARGE");
    expect(code(new Uint8Array(4 * 1024 * 1024))).toBe("PROTOCOL"); // parsed: field number 0
    const link = b64(String(rawFrames("p3-security/captures/capture_group.jsonl")[0]?.raw));
    expect(code(link, link.length)).toBeUndefined();
    expect(code(link, link.length - 1)).toBe("MESSAGE_TOO_LARGE");
  });

  it("rejects bad lengths, varints, wire types, field numbers and UTF-8", () => {
    const cases: [string, string][] = [
      ["0a8080808008", "length prefix runs past"], // 2^31
      ["0a8580808010", "length prefix too large"], // 2^32 + 5
      ["0affffffffffffffffff01", "length prefix too large"], // 2^64 - 1
      ["0a05", "length prefix runs past"],
      ["38ff", "truncated varint"], // unknown field 7
      ["38ffffffffffffffffffff01", "varint longer than 64 bits"], // 11 bytes
      ["38ffffffffffffffffff02", "varint longer than 64 bits"], // 10th byte above 1
      ["0801", "wire type 0 not valid for field 1"],
      ["0000", "field number 0"],
      ["3b0000", "group"],
      ["3c", "group"],
      ["3e", "invalid wire type 6"],
      ["39000000", "runs past the end"],
      ["3d00", "runs past the end"],
      ["22040a02c328", "invalid UTF-8"], // in a map key
      ["808080808010", "field key does not fit 32 bits"],
    ];
    for (const [bytes, what] of cases) {
      const err = slimErrorOf(() => decodeProtoMessage(unhex(bytes)));
      expect([bytes, err?.code, err?.message.includes(what)]).toEqual([bytes, "PROTOCOL", true]);
    }
    expect(slimErrorOf(() => decodeProtoLinkNegotiationPayload(unhex("0a02c328")))?.code).toBe("PROTOCOL");
    for (const bad of ["1880", "18ffffffffffffffffff02", "18ffffffffffffffffffff01"]) {
      expect(slimErrorOf(() => decodeProtoSessionHeader(unhex(bad)))?.code, bad).toBe("PROTOCOL");
    }
    expect(decodeProtoSessionHeader(unhex("18ffffffffffffffffff01")).sessionId).toBe(0xffffffff); // truncated like prost
    expect(slimErrorOf(() => decodeProtoMessage("0a00" as unknown as Uint8Array))?.code).toBe("PROTOCOL");
  });

  it("skips unknown fields of every wire type", () => {
    const base = b64(String(rawFrames("p3-security/captures/capture_group.jsonl")[0]?.raw));
    const unknown = unhex("3801" + "41" + "0102030405060708" + "4a03616263" + "4d01020304" + "f8ffffff0f00");
    const withUnknown = new Uint8Array([...base, ...unknown]);
    expect(decodeProtoMessage(withUnknown)).toEqual(decodeProtoMessage(base));
  });

  it("survives every truncation of captured frames", () => {
    const frames = rawFrames("p3-security/captures/capture_privcommit.jsonl").slice(0, 40).map((o) => b64(String(o.raw)));
    let cases = 0;
    for (const f of frames) {
      for (let n = 0; n < f.length; n++) {
        const c = code(f.subarray(0, n));
        expect(c === undefined || c === "PROTOCOL").toBe(true);
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(5000);
  });

  it("survives 2000 random inputs and 2000 mutated frames (seeded)", () => {
    let seed = 0x5eed1234;
    const rand = (): number => {
      // mulberry32
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const frames = rawFrames("p3-security/captures/capture_group.jsonl").map((o) => b64(String(o.raw)));
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const random = Uint8Array.from({ length: Math.floor(rand() * 600) }, () => Math.floor(rand() * 256));
      const mutated = Uint8Array.from(frames[Math.floor(rand() * frames.length)] ?? []);
      for (let k = 1 + Math.floor(rand() * 4); k > 0; k--) mutated[Math.floor(rand() * mutated.length)] = Math.floor(rand() * 256);
      for (const input of [random, mutated]) seen.add(code(input) ?? "ok");
    }
    expect([...seen].every((c) => c === "ok" || c === "PROTOCOL")).toBe(true);
    expect(seen.has("PROTOCOL")).toBe(true);
  });
});
