// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Per-link header MAC: X25519 key agreement during link negotiation, an HKDF-SHA256
// key, and HMAC-SHA256 over a fixed canonical preimage of the SLIM header.

import { createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { SlimError } from "../errors.js";
import { HmacSha256, macEqual } from "../util/hmac-sha256.js";
import type { ProtoName, ProtoSLIMHeader } from "../wire/gen/dataplane.js";

export const HMAC_INFO = "SLIM-DP-inter-node-hmac-v1";
export const X25519_KEY_BYTES = 32;
export const MAC_BYTES = 32;
const DOMAIN = new TextEncoder().encode("SLIM-DP-HDR-v1\0");
const utf8 = new TextEncoder();

export interface LinkKeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: KeyObject;
}

export function generateLinkKeyPair(): LinkKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("x25519");
  const jwk = publicKey.export({ format: "jwk" });
  return { publicKey: new Uint8Array(Buffer.from(jwk.x!, "base64url")), privateKey };
}

/** Derive the 32-byte HMAC key of a link from our private key and the peer's raw X25519 public key. */
export function deriveLinkKey(own: KeyObject, peerPublic: Uint8Array, linkId: string): Uint8Array {
  if (peerPublic.length !== X25519_KEY_BYTES) {
    throw new SlimError("PROTOCOL", `link public key length is invalid: ${peerPublic.length} bytes`);
  }
  let peer: KeyObject;
  try {
    peer = createPublicKey({ key: { kty: "OKP", crv: "X25519", x: Buffer.from(peerPublic).toString("base64url") }, format: "jwk" });
  } catch (cause) {
    throw new SlimError("PROTOCOL", "link public key is not a valid X25519 key", { cause });
  }
  const shared = diffieHellman({ privateKey: own, publicKey: peer });
  return new Uint8Array(hkdfSync("sha256", shared, utf8.encode(linkId), utf8.encode(HMAC_INFO), 32));
}

/** Growable little-endian byte writer for the preimage; one instance is reused (all use is synchronous). */
class PreimageWriter {
  /** A Buffer so that strings are written at an offset without a view per string (`buf.write`). */
  buf = Buffer.alloc(1024);
  view = new DataView(this.buf.buffer);
  len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.len, v >>> 0, true);
    this.len += 4;
  }
  u64(v: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.len, v, true); // taken modulo 2^64 by the DataView itself
    this.len += 8;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  /** u32 length + UTF-8, encoded in place (short ASCII strings, the usual name component, without a native call). */
  str(s: string): void {
    this.ensure(4 + 3 * s.length);
    const buf = this.buf;
    const at = this.len + 4;
    let n = s.length;
    if (n <= 64) {
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[at + i] = c;
      }
      if (i < n) n = buf.write(s, at);
    } else n = buf.write(s, at);
    this.view.setUint32(this.len, n, true);
    this.len = at + n;
  }
  optU64(v: bigint | undefined): void {
    if (v === undefined) this.byte(0);
    else {
      this.byte(1);
      this.u64(v);
    }
  }
  name(n: ProtoName | undefined): void {
    if (n === undefined) return this.byte(0);
    this.byte(1);
    const e = n.name;
    if (e === undefined) this.byte(0);
    else {
      this.byte(1);
      this.u64(e.component0);
      this.u64(e.component1);
      this.u64(e.component2);
      if (e.nameId === undefined) this.byte(0);
      else {
        this.byte(1);
        this.u64(e.nameId.id0);
        this.u64(e.nameId.id1);
      }
    }
    const sn = n.strName;
    if (sn === undefined) this.byte(0);
    else {
      this.byte(1);
      this.str(sn.strComponent0);
      this.str(sn.strComponent1);
      this.str(sn.strComponent2);
    }
  }
}

const writer = new PreimageWriter();

/** The preimage starts at this offset in the writer's buffer: the bytes before are the HMAC's scratch block. */
const AT = 64;

function writePreimage(h: ProtoSLIMHeader, linkId: string): PreimageWriter {
  const w = writePreimageHead(linkId);
  writePreimageTail(w, h);
  return w;
}

/** The part of the preimage that depends on the link. */
function writePreimageHead(linkId: string): PreimageWriter {
  const w = writer;
  w.len = AT;
  w.bytes(DOMAIN);
  w.str(linkId);
  return w;
}

/** The part that depends on the header only: the same on every link a message goes out on. */
function writePreimageTail(w: PreimageWriter, h: ProtoSLIMHeader): void {
  w.name(h.source);
  w.name(h.destination);
  w.str(h.identity);
  w.u32(h.fanout);
  w.optU64(h.recvFrom);
  w.optU64(h.forwardTo);
  if (h.error === undefined) w.byte(0);
  else {
    w.byte(1);
    w.byte(h.error ? 1 : 0);
  }
  w.u32(h.ttl);
}

/** The exact bytes the official implementation MACs for a header on a given link (a copy). */
export function headerMacPreimage(h: ProtoSLIMHeader, linkId: string): Uint8Array {
  const w = writePreimage(h, linkId);
  return w.buf.slice(AT, w.len);
}

/** Signs and verifies header MACs for one link. */
export class HeaderMacer {
  private readonly hmac: HmacSha256;

  constructor(
    key: Uint8Array,
    readonly linkId: string,
  ) {
    this.hmac = new HmacSha256(key);
  }

  /** `share`: the same header is being signed for several links; the link-independent preimage is kept there. */
  sign(h: ProtoSLIMHeader, share?: { macTail: Uint8Array | undefined }): Uint8Array {
    let w: PreimageWriter;
    if (share === undefined) w = writePreimage(h, this.linkId);
    else {
      w = writePreimageHead(this.linkId);
      if (share.macTail !== undefined) w.bytes(share.macTail);
      else {
        const from = w.len;
        writePreimageTail(w, h);
        share.macTail = w.buf.slice(from, w.len);
      }
    }
    const out = new Uint8Array(MAC_BYTES);
    this.hmac.macAfterBlock(w.buf, w.len - AT, out);
    return out;
  }

  verify(h: ProtoSLIMHeader): boolean {
    const mac = h.headerMac;
    if (mac === undefined || mac.length !== MAC_BYTES) return false;
    const w = writePreimage(h, this.linkId);
    this.hmac.macAfterBlock(w.buf, w.len - AT, expected);
    return macEqual(expected, mac);
  }
}

const expected = new Uint8Array(MAC_BYTES);

export function computeHeaderMac(key: Uint8Array, h: ProtoSLIMHeader, linkId: string): Uint8Array {
  return new HeaderMacer(key, linkId).sign(h);
}

export function verifyHeaderMac(key: Uint8Array, h: ProtoSLIMHeader, linkId: string): boolean {
  return new HeaderMacer(key, linkId).verify(h);
}
