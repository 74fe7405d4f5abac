// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors
//
// GENERATED FILE - DO NOT EDIT. Produced by scripts/gen-proto.mjs from packages/core/proto/dataplane/v1/dataplane.proto
// (sha256 d047742b7a9f197ce99527f9d514c83d156f8649596b1f491af81311ac6a8bdd). Regenerate with `npm run gen:proto`.
//
// Encoding is byte-identical to prost (the official Rust encoder): ascending field numbers (a oneof at
// the position of its lowest number), implicit-presence fields left out when they hold their default,
// `optional` fields and present messages always written, map entries without an empty key or value.
// Decoding is bounded (maxBytes, default 4 MiB) and throws only SlimError (PROTOCOL, MESSAGE_TOO_LARGE);
// bytes fields of decoded messages are views into the input; encoded messages may be views into a shared
// 16 KiB slab (see proto-runtime.ts).

import { decodeWith, EMPTY_BYTES, encodeWith, type Reader, readStringMapEntry, type Writer, writeStringMapEntry } from "../proto-runtime.js";

/** One bidirectional stream per link; both directions carry Message. */
export const DataPlaneServiceDefinition = {
  typeName: "dataplane.proto.v1.DataPlaneService",
  methods: {
    openChannel: {
      name: "OpenChannel",
      path: "/dataplane.proto.v1.DataPlaneService/OpenChannel",
      clientStreaming: true,
      serverStreaming: true,
    },
  },
} as const;

/** Role of a link as advertised by the dialing node and echoed by the accepting one. */
export const LinkConnectionType = {
  REMOTE: 0,
  PEER: 1,
  EDGE: 2,
} as const;
export type LinkConnectionType = (typeof LinkConnectionType)[keyof typeof LinkConnectionType];

export const SessionType = {
  UNSPECIFIED: 0,
  POINT_TO_POINT: 1,
  /** Group session. */
  MULTICAST: 2,
} as const;
export type SessionType = (typeof SessionType)[keyof typeof SessionType];

/** Values 5 and above are control ("command") messages carrying a CommandPayload. */
export const SessionMessageType = {
  UNSPECIFIED: 0,
  MSG: 1,
  MSG_ACK: 2,
  RTX_REQUEST: 3,
  RTX_REPLY: 4,
  DISCOVERY_REQUEST: 5,
  DISCOVERY_REPLY: 6,
  JOIN_REQUEST: 7,
  JOIN_REPLY: 8,
  LEAVE_REQUEST: 9,
  LEAVE_REPLY: 10,
  GROUP_UPDATE: 11,
  GROUP_WELCOME: 12,
  GROUP_CLOSE: 13,
  GROUP_PROPOSAL: 14,
  GROUP_ACK: 15,
  GROUP_NACK: 16,
  HEARTBEAT: 17,
  UPDATE_PARTICIPANT_STATE: 18,
  REJOIN_REQUEST: 19,
  REJOIN_REPLY: 20,
} as const;
export type SessionMessageType = (typeof SessionMessageType)[keyof typeof SessionMessageType];

export const ParticipantState = {
  ONLINE: 0,
  OFFLINE: 1,
} as const;
export type ParticipantState = (typeof ParticipantState)[keyof typeof ParticipantState];

export const GroupUpdateOp = {
  ADD: 0,
  REMOVE: 1,
  REJOIN: 2,
} as const;
export type GroupUpdateOp = (typeof GroupUpdateOp)[keyof typeof GroupUpdateOp];

// ------------------------------------------------------------------------------------------------
// Message

/** The unit exchanged on a link. */
export interface ProtoMessage {
  /** What this message is. Link and SubscriptionAck stay on their link and are never routed. */
  messageType:
    | { case: "subscribe"; value: ProtoSubscribe }
    | { case: "unsubscribe"; value: ProtoUnsubscribe }
    | { case: "publish"; value: ProtoPublish }
    | { case: "link"; value: ProtoLink }
    | { case: "subscriptionAck"; value: ProtoSubscriptionAck }
    | { case: undefined; value?: undefined };
  /** Free-form key/value annotations (session flags such as PUBLISH_TO, app metadata). */
  metadata: Map<string, string>;
}

function newMessage(): ProtoMessage {
  return { messageType: { case: undefined }, metadata: new Map() };
}

/** A Message with every field at its default, then `init` applied (shallow). */
export function createProtoMessage(init?: Partial<ProtoMessage>): ProtoMessage {
  return init === undefined ? newMessage() : { ...newMessage(), ...init };
}

function writeMessage(w: Writer, m: ProtoMessage): void {
  const messageType = m.messageType;
  switch (messageType.case) {
    case "subscribe": {
      w.tag(10);
      const s = w.begin();
      writeSubscribe(w, messageType.value);
      w.end(s);
      break;
    }
    case "unsubscribe": {
      w.tag(18);
      const s = w.begin();
      writeUnsubscribe(w, messageType.value);
      w.end(s);
      break;
    }
    case "publish": {
      w.tag(26);
      const s = w.begin();
      writePublish(w, messageType.value);
      w.end(s);
      break;
    }
    case "link": {
      w.tag(42);
      const s = w.begin();
      writeLink(w, messageType.value);
      w.end(s);
      break;
    }
    case "subscriptionAck": {
      w.tag(50);
      const s = w.begin();
      writeSubscriptionAck(w, messageType.value);
      w.end(s);
      break;
    }
  }
  for (const [k, v] of m.metadata) writeStringMapEntry(w, 34, k, v);
}

function readMessage(r: Reader, m: ProtoMessage): ProtoMessage {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 10: {
        const e = r.enter();
        const cur = m.messageType;
        m.messageType = { case: "subscribe", value: readSubscribe(r, cur.case === "subscribe" ? cur.value : newSubscribe()) };
        r.end = e;
        break;
      }
      case 18: {
        const e = r.enter();
        const cur = m.messageType;
        m.messageType = { case: "unsubscribe", value: readUnsubscribe(r, cur.case === "unsubscribe" ? cur.value : newUnsubscribe()) };
        r.end = e;
        break;
      }
      case 26: {
        const e = r.enter();
        const cur = m.messageType;
        m.messageType = { case: "publish", value: readPublish(r, cur.case === "publish" ? cur.value : newPublish()) };
        r.end = e;
        break;
      }
      case 34:
        readStringMapEntry(r, m.metadata);
        break;
      case 42: {
        const e = r.enter();
        const cur = m.messageType;
        m.messageType = { case: "link", value: readLink(r, cur.case === "link" ? cur.value : newLink()) };
        r.end = e;
        break;
      }
      case 50: {
        const e = r.enter();
        const cur = m.messageType;
        m.messageType = { case: "subscriptionAck", value: readSubscriptionAck(r, cur.case === "subscriptionAck" ? cur.value : newSubscriptionAck()) };
        r.end = e;
        break;
      }
      default:
        r.unknown(t, [1, 2, 3, 4, 5, 6]);
    }
  }
  return m;
}

/** Encodes a Message exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoMessage(m: ProtoMessage, room = 0): Uint8Array {
  return encodeWith(m, writeMessage, room);
}

/** Decodes a Message; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoMessage(bytes: Uint8Array, maxBytes?: number): ProtoMessage {
  return decodeWith(bytes, maxBytes, readMessage, newMessage);
}

// ------------------------------------------------------------------------------------------------
// Subscribe

/** Ask the receiving node to route messages for header.destination towards the sender. */
export interface ProtoSubscribe {
  header?: ProtoSLIMHeader;
  /** Non-zero when the sender expects a SubscriptionAck echoing this id. */
  subscriptionId: bigint;
}

function newSubscribe(): ProtoSubscribe {
  return { subscriptionId: 0n };
}

/** A Subscribe with every field at its default, then `init` applied (shallow). */
export function createProtoSubscribe(init?: Partial<ProtoSubscribe>): ProtoSubscribe {
  return init === undefined ? newSubscribe() : { ...newSubscribe(), ...init };
}

function writeSubscribe(w: Writer, m: ProtoSubscribe): void {
  if (m.header !== undefined) {
    w.tag(10);
    const s = w.begin();
    writeSLIMHeader(w, m.header);
    w.end(s);
  }
  if (m.subscriptionId !== 0n) {
    w.tag(16);
    w.uint64(m.subscriptionId);
  }
}

function readSubscribe(r: Reader, m: ProtoSubscribe): ProtoSubscribe {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 10: {
        const e = r.enter();
        m.header = readSLIMHeader(r, m.header ?? newSLIMHeader());
        r.end = e;
        break;
      }
      case 16:
        m.subscriptionId = r.uint64();
        break;
      default:
        r.unknown(t, [1, 2]);
    }
  }
  return m;
}

/** Encodes a Subscribe exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoSubscribe(m: ProtoSubscribe, room = 0): Uint8Array {
  return encodeWith(m, writeSubscribe, room);
}

/** Decodes a Subscribe; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoSubscribe(bytes: Uint8Array, maxBytes?: number): ProtoSubscribe {
  return decodeWith(bytes, maxBytes, readSubscribe, newSubscribe);
}

// ------------------------------------------------------------------------------------------------
// Unsubscribe

/** Withdraw a subscription made earlier with the same id. */
export interface ProtoUnsubscribe {
  header?: ProtoSLIMHeader;
  subscriptionId: bigint;
}

function newUnsubscribe(): ProtoUnsubscribe {
  return { subscriptionId: 0n };
}

/** A Unsubscribe with every field at its default, then `init` applied (shallow). */
export function createProtoUnsubscribe(init?: Partial<ProtoUnsubscribe>): ProtoUnsubscribe {
  return init === undefined ? newUnsubscribe() : { ...newUnsubscribe(), ...init };
}

function writeUnsubscribe(w: Writer, m: ProtoUnsubscribe): void {
  if (m.header !== undefined) {
    w.tag(10);
    const s = w.begin();
    writeSLIMHeader(w, m.header);
    w.end(s);
  }
  if (m.subscriptionId !== 0n) {
    w.tag(16);
    w.uint64(m.subscriptionId);
  }
}

function readUnsubscribe(r: Reader, m: ProtoUnsubscribe): ProtoUnsubscribe {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 10: {
        const e = r.enter();
        m.header = readSLIMHeader(r, m.header ?? newSLIMHeader());
        r.end = e;
        break;
      }
      case 16:
        m.subscriptionId = r.uint64();
        break;
      default:
        r.unknown(t, [1, 2]);
    }
  }
  return m;
}

/** Encodes a Unsubscribe exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoUnsubscribe(m: ProtoUnsubscribe, room = 0): Uint8Array {
  return encodeWith(m, writeUnsubscribe, room);
}

/** Decodes a Unsubscribe; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoUnsubscribe(bytes: Uint8Array, maxBytes?: number): ProtoUnsubscribe {
  return decodeWith(bytes, maxBytes, readUnsubscribe, newUnsubscribe);
}

// ------------------------------------------------------------------------------------------------
// Publish

/** A routed message: SLIM header for the data plane, session header and content for the apps. */
export interface ProtoPublish {
  header?: ProtoSLIMHeader;
  session?: ProtoSessionHeader;
  msg?: ProtoContent;
}

function newPublish(): ProtoPublish {
  return {};
}

/** A Publish with every field at its default, then `init` applied (shallow). */
export function createProtoPublish(init?: Partial<ProtoPublish>): ProtoPublish {
  return init === undefined ? newPublish() : { ...newPublish(), ...init };
}

function writePublish(w: Writer, m: ProtoPublish): void {
  if (m.header !== undefined) {
    w.tag(10);
    const s = w.begin();
    writeSLIMHeader(w, m.header);
    w.end(s);
  }
  if (m.session !== undefined) {
    w.tag(18);
    const s = w.begin();
    writeSessionHeader(w, m.session);
    w.end(s);
  }
  if (m.msg !== undefined) {
    w.tag(26);
    const s = w.begin();
    writeContent(w, m.msg);
    w.end(s);
  }
}

function readPublish(r: Reader, m: ProtoPublish): ProtoPublish {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 10: {
        const e = r.enter();
        m.header = readSLIMHeader(r, m.header ?? newSLIMHeader());
        r.end = e;
        break;
      }
      case 18: {
        const e = r.enter();
        m.session = readSessionHeader(r, m.session ?? newSessionHeader());
        r.end = e;
        break;
      }
      case 26: {
        const e = r.enter();
        m.msg = readContent(r, m.msg ?? newContent());
        r.end = e;
        break;
      }
      default:
        r.unknown(t, [1, 2, 3]);
    }
  }
  return m;
}

/** Encodes a Publish exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoPublish(m: ProtoPublish, room = 0): Uint8Array {
  return encodeWith(m, writePublish, room);
}

/** Decodes a Publish; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoPublish(bytes: Uint8Array, maxBytes?: number): ProtoPublish {
  return decodeWith(bytes, maxBytes, readPublish, newPublish);
}

// ------------------------------------------------------------------------------------------------
// SubscriptionAck

/** Answer to a Subscribe/Unsubscribe that carried a non-zero subscription id. */
export interface ProtoSubscriptionAck {
  subscriptionId: bigint;
  success: boolean;
  /** Reason, when success is false. */
  error: string;
}

function newSubscriptionAck(): ProtoSubscriptionAck {
  return { subscriptionId: 0n, success: false, error: "" };
}

/** A SubscriptionAck with every field at its default, then `init` applied (shallow). */
export function createProtoSubscriptionAck(init?: Partial<ProtoSubscriptionAck>): ProtoSubscriptionAck {
  return init === undefined ? newSubscriptionAck() : { ...newSubscriptionAck(), ...init };
}

function writeSubscriptionAck(w: Writer, m: ProtoSubscriptionAck): void {
  if (m.subscriptionId !== 0n) {
    w.tag(8);
    w.uint64(m.subscriptionId);
  }
  if (m.success) {
    w.tag(16);
    w.bool(m.success);
  }
  if (m.error !== "") {
    w.tag(26);
    w.string(m.error);
  }
}

function readSubscriptionAck(r: Reader, m: ProtoSubscriptionAck): ProtoSubscriptionAck {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 8:
        m.subscriptionId = r.uint64();
        break;
      case 16:
        m.success = r.bool();
        break;
      case 26:
        m.error = r.string();
        break;
      default:
        r.unknown(t, [1, 2, 3]);
    }
  }
  return m;
}

/** Encodes a SubscriptionAck exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoSubscriptionAck(m: ProtoSubscriptionAck, room = 0): Uint8Array {
  return encodeWith(m, writeSubscriptionAck, room);
}

/** Decodes a SubscriptionAck; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoSubscriptionAck(bytes: Uint8Array, maxBytes?: number): ProtoSubscriptionAck {
  return decodeWith(bytes, maxBytes, readSubscriptionAck, newSubscriptionAck);
}

// ------------------------------------------------------------------------------------------------
// Link

export interface ProtoLink {
  linkType:
    | { case: "linkNegotiation"; value: ProtoLinkNegotiationPayload }
    | { case: undefined; value?: undefined };
}

function newLink(): ProtoLink {
  return { linkType: { case: undefined } };
}

/** A Link with every field at its default, then `init` applied (shallow). */
export function createProtoLink(init?: Partial<ProtoLink>): ProtoLink {
  return init === undefined ? newLink() : { ...newLink(), ...init };
}

function writeLink(w: Writer, m: ProtoLink): void {
  const linkType = m.linkType;
  switch (linkType.case) {
    case "linkNegotiation": {
      w.tag(10);
      const s = w.begin();
      writeLinkNegotiationPayload(w, linkType.value);
      w.end(s);
      break;
    }
  }
}

function readLink(r: Reader, m: ProtoLink): ProtoLink {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 10: {
        const e = r.enter();
        const cur = m.linkType;
        m.linkType = { case: "linkNegotiation", value: readLinkNegotiationPayload(r, cur.case === "linkNegotiation" ? cur.value : newLinkNegotiationPayload()) };
        r.end = e;
        break;
      }
      default:
        r.unknown(t, [1]);
    }
  }
  return m;
}

/** Encodes a Link exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoLink(m: ProtoLink, room = 0): Uint8Array {
  return encodeWith(m, writeLink, room);
}

/** Decodes a Link; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoLink(bytes: Uint8Array, maxBytes?: number): ProtoLink {
  return decodeWith(bytes, maxBytes, readLink, newLink);
}

// ------------------------------------------------------------------------------------------------
// LinkNegotiationPayload

export interface ProtoLinkNegotiationPayload {
  /** Chosen by the dialer (a UUID), echoed in the reply; never empty. */
  linkId: string;
  /** Sender's SLIM version; must parse as semver. */
  slimVersion: string;
  /** false on the dialer's request, true on the acceptor's reply. */
  isReply: boolean;
  /** Raw 32-byte X25519 public key for the per-link header MAC; empty when not offered. */
  linkEcdhPublicKey: Uint8Array;
  connectionType: LinkConnectionType;
  /** Identifier of the sending node. */
  nodeId: string;
  /** Peer-group name, only meaningful on PEER links. */
  deploymentName: string;
  /** ML-KEM-768 material for the hybrid key: encapsulation key (request) or ciphertext (reply). */
  linkKemPayload?: Uint8Array;
}

function newLinkNegotiationPayload(): ProtoLinkNegotiationPayload {
  return { linkId: "", slimVersion: "", isReply: false, linkEcdhPublicKey: EMPTY_BYTES, connectionType: 0, nodeId: "", deploymentName: "" };
}

/** A LinkNegotiationPayload with every field at its default, then `init` applied (shallow). */
export function createProtoLinkNegotiationPayload(init?: Partial<ProtoLinkNegotiationPayload>): ProtoLinkNegotiationPayload {
  return init === undefined ? newLinkNegotiationPayload() : { ...newLinkNegotiationPayload(), ...init };
}

function writeLinkNegotiationPayload(w: Writer, m: ProtoLinkNegotiationPayload): void {
  if (m.linkId !== "") {
    w.tag(10);
    w.string(m.linkId);
  }
  if (m.slimVersion !== "") {
    w.tag(18);
    w.string(m.slimVersion);
  }
  if (m.isReply) {
    w.tag(24);
    w.bool(m.isReply);
  }
  if (m.linkEcdhPublicKey.length !== 0) {
    w.tag(34);
    w.bytes(m.linkEcdhPublicKey);
  }
  if (m.connectionType !== 0) {
    w.tag(40);
    w.int32(m.connectionType);
  }
  if (m.nodeId !== "") {
    w.tag(50);
    w.string(m.nodeId);
  }
  if (m.deploymentName !== "") {
    w.tag(58);
    w.string(m.deploymentName);
  }
  if (m.linkKemPayload !== undefined) {
    w.tag(66);
    w.bytes(m.linkKemPayload);
  }
}

function readLinkNegotiationPayload(r: Reader, m: ProtoLinkNegotiationPayload): ProtoLinkNegotiationPayload {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 10:
        m.linkId = r.string();
        break;
      case 18:
        m.slimVersion = r.string();
        break;
      case 24:
        m.isReply = r.bool();
        break;
      case 34:
        m.linkEcdhPublicKey = r.bytes();
        break;
      case 40:
        m.connectionType = r.int32() as LinkConnectionType;
        break;
      case 50:
        m.nodeId = r.string();
        break;
      case 58:
        m.deploymentName = r.string();
        break;
      case 66:
        m.linkKemPayload = r.bytes();
        break;
      default:
        r.unknown(t, [1, 2, 3, 4, 5, 6, 7, 8]);
    }
  }
  return m;
}

/** Encodes a LinkNegotiationPayload exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoLinkNegotiationPayload(m: ProtoLinkNegotiationPayload, room = 0): Uint8Array {
  return encodeWith(m, writeLinkNegotiationPayload, room);
}

/** Decodes a LinkNegotiationPayload; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoLinkNegotiationPayload(bytes: Uint8Array, maxBytes?: number): ProtoLinkNegotiationPayload {
  return decodeWith(bytes, maxBytes, readLinkNegotiationPayload, newLinkNegotiationPayload);
}

// ------------------------------------------------------------------------------------------------
// SLIMHeader

/** Routing header carried by Subscribe, Unsubscribe and Publish. */
export interface ProtoSLIMHeader {
  source?: ProtoName;
  destination?: ProtoName;
  /** Identity token of the sending application. */
  identity: string;
  /** 1 selects one matching connection; any other value selects all of them. */
  fanout: number;
  version: string;
  /** Remaining hops. */
  ttl: number;
  /** Subscribe/Unsubscribe: bind the route to this local connection index instead of the incoming one. */
  recvFrom?: bigint;
  /** Send on this local connection index, bypassing the routing table. */
  forwardTo?: bigint;
  /** Set by each receiving node to the index of the connection the message arrived on. */
  incomingConn?: bigint;
  /** Marks an error notification. */
  error?: boolean;
  /** Per-link HMAC-SHA256 over the canonical header preimage (32 bytes). */
  headerMac?: Uint8Array;
  /** End-to-end signature of the sending application over the header (DER). */
  e2eHeaderSig?: Uint8Array;
}

function newSLIMHeader(): ProtoSLIMHeader {
  return { identity: "", fanout: 0, version: "", ttl: 0 };
}

/** A SLIMHeader with every field at its default, then `init` applied (shallow). */
export function createProtoSLIMHeader(init?: Partial<ProtoSLIMHeader>): ProtoSLIMHeader {
  return init === undefined ? newSLIMHeader() : { ...newSLIMHeader(), ...init };
}

function writeSLIMHeader(w: Writer, m: ProtoSLIMHeader): void {
  if (m.source !== undefined) {
    w.tag(10);
    const s = w.begin();
    writeName(w, m.source);
    w.end(s);
  }
  if (m.destination !== undefined) {
    w.tag(18);
    const s = w.begin();
    writeName(w, m.destination);
    w.end(s);
  }
  if (m.identity !== "") {
    w.tag(26);
    w.string(m.identity);
  }
  if (m.fanout !== 0) {
    w.tag(32);
    w.uint32(m.fanout);
  }
  if (m.version !== "") {
    w.tag(42);
    w.string(m.version);
  }
  if (m.ttl !== 0) {
    w.tag(48);
    w.uint32(m.ttl);
  }
  if (m.recvFrom !== undefined) {
    w.tag(56);
    w.uint64(m.recvFrom);
  }
  if (m.forwardTo !== undefined) {
    w.tag(64);
    w.uint64(m.forwardTo);
  }
  if (m.incomingConn !== undefined) {
    w.tag(72);
    w.uint64(m.incomingConn);
  }
  if (m.error !== undefined) {
    w.tag(80);
    w.bool(m.error);
  }
  if (m.headerMac !== undefined) {
    w.tag(90);
    w.bytes(m.headerMac);
  }
  if (m.e2eHeaderSig !== undefined) {
    w.tag(98);
    w.bytes(m.e2eHeaderSig);
  }
}

function readSLIMHeader(r: Reader, m: ProtoSLIMHeader): ProtoSLIMHeader {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 10: {
        const e = r.enter();
        m.source = readName(r, m.source ?? newName());
        r.end = e;
        break;
      }
      case 18: {
        const e = r.enter();
        m.destination = readName(r, m.destination ?? newName());
        r.end = e;
        break;
      }
      case 26:
        m.identity = r.string();
        break;
      case 32:
        m.fanout = r.uint32();
        break;
      case 42:
        m.version = r.string();
        break;
      case 48:
        m.ttl = r.uint32();
        break;
      case 56:
        m.recvFrom = r.uint64();
        break;
      case 64:
        m.forwardTo = r.uint64();
        break;
      case 72:
        m.incomingConn = r.uint64();
        break;
      case 80:
        m.error = r.bool();
        break;
      case 90:
        m.headerMac = r.bytes();
        break;
      case 98:
        m.e2eHeaderSig = r.bytes();
        break;
      default:
        r.unknown(t, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    }
  }
  return m;
}

/** Encodes a SLIMHeader exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoSLIMHeader(m: ProtoSLIMHeader, room = 0): Uint8Array {
  return encodeWith(m, writeSLIMHeader, room);
}

/** Decodes a SLIMHeader; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoSLIMHeader(bytes: Uint8Array, maxBytes?: number): ProtoSLIMHeader {
  return decodeWith(bytes, maxBytes, readSLIMHeader, newSLIMHeader);
}

// ------------------------------------------------------------------------------------------------
// SessionHeader

/** Session-layer header of a Publish. */
export interface ProtoSessionHeader {
  sessionType: SessionType;
  sessionMessageType: SessionMessageType;
  sessionId: number;
  messageId: number;
}

function newSessionHeader(): ProtoSessionHeader {
  return { sessionType: 0, sessionMessageType: 0, sessionId: 0, messageId: 0 };
}

/** A SessionHeader with every field at its default, then `init` applied (shallow). */
export function createProtoSessionHeader(init?: Partial<ProtoSessionHeader>): ProtoSessionHeader {
  return init === undefined ? newSessionHeader() : { ...newSessionHeader(), ...init };
}

function writeSessionHeader(w: Writer, m: ProtoSessionHeader): void {
  if (m.sessionType !== 0) {
    w.tag(8);
    w.int32(m.sessionType);
  }
  if (m.sessionMessageType !== 0) {
    w.tag(16);
    w.int32(m.sessionMessageType);
  }
  if (m.sessionId !== 0) {
    w.tag(24);
    w.uint32(m.sessionId);
  }
  if (m.messageId !== 0) {
    w.tag(32);
    w.uint32(m.messageId);
  }
}

function readSessionHeader(r: Reader, m: ProtoSessionHeader): ProtoSessionHeader {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 8:
        m.sessionType = r.int32() as SessionType;
        break;
      case 16:
        m.sessionMessageType = r.int32() as SessionMessageType;
        break;
      case 24:
        m.sessionId = r.uint32();
        break;
      case 32:
        m.messageId = r.uint32();
        break;
      default:
        r.unknown(t, [1, 2, 3, 4]);
    }
  }
  return m;
}

/** Encodes a SessionHeader exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoSessionHeader(m: ProtoSessionHeader, room = 0): Uint8Array {
  return encodeWith(m, writeSessionHeader, room);
}

/** Decodes a SessionHeader; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoSessionHeader(bytes: Uint8Array, maxBytes?: number): ProtoSessionHeader {
  return decodeWith(bytes, maxBytes, readSessionHeader, newSessionHeader);
}

// ------------------------------------------------------------------------------------------------
// Name

/** A SLIM name: hashed components for routing plus the readable strings they came from. */
export interface ProtoName {
  name?: ProtoEncodedName;
  strName?: ProtoStringName;
}

function newName(): ProtoName {
  return {};
}

/** A Name with every field at its default, then `init` applied (shallow). */
export function createProtoName(init?: Partial<ProtoName>): ProtoName {
  return init === undefined ? newName() : { ...newName(), ...init };
}

function writeName(w: Writer, m: ProtoName): void {
  if (m.name !== undefined) {
    w.tag(10);
    const s = w.begin();
    writeEncodedName(w, m.name);
    w.end(s);
  }
  if (m.strName !== undefined) {
    w.tag(18);
    const s = w.begin();
    writeStringName(w, m.strName);
    w.end(s);
  }
}

function readName(r: Reader, m: ProtoName): ProtoName {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 10: {
        const e = r.enter();
        m.name = readEncodedName(r, m.name ?? newEncodedName());
        r.end = e;
        break;
      }
      case 18: {
        const e = r.enter();
        m.strName = readStringName(r, m.strName ?? newStringName());
        r.end = e;
        break;
      }
      default:
        r.unknown(t, [1, 2]);
    }
  }
  return m;
}

/** Encodes a Name exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoName(m: ProtoName, room = 0): Uint8Array {
  return encodeWith(m, writeName, room);
}

/** Decodes a Name; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoName(bytes: Uint8Array, maxBytes?: number): ProtoName {
  return decodeWith(bytes, maxBytes, readName, newName);
}

// ------------------------------------------------------------------------------------------------
// EncodedName

/** Three 64-bit component hashes and the 128-bit instance id. */
export interface ProtoEncodedName {
  component0: bigint;
  component1: bigint;
  component2: bigint;
  nameId?: ProtoNameId;
}

function newEncodedName(): ProtoEncodedName {
  return { component0: 0n, component1: 0n, component2: 0n };
}

/** A EncodedName with every field at its default, then `init` applied (shallow). */
export function createProtoEncodedName(init?: Partial<ProtoEncodedName>): ProtoEncodedName {
  return init === undefined ? newEncodedName() : { ...newEncodedName(), ...init };
}

function writeEncodedName(w: Writer, m: ProtoEncodedName): void {
  if (m.component0 !== 0n) {
    w.tag(8);
    w.uint64(m.component0);
  }
  if (m.component1 !== 0n) {
    w.tag(16);
    w.uint64(m.component1);
  }
  if (m.component2 !== 0n) {
    w.tag(24);
    w.uint64(m.component2);
  }
  if (m.nameId !== undefined) {
    w.tag(34);
    const s = w.begin();
    writeNameId(w, m.nameId);
    w.end(s);
  }
}

function readEncodedName(r: Reader, m: ProtoEncodedName): ProtoEncodedName {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 8:
        m.component0 = r.uint64();
        break;
      case 16:
        m.component1 = r.uint64();
        break;
      case 24:
        m.component2 = r.uint64();
        break;
      case 34: {
        const e = r.enter();
        m.nameId = readNameId(r, m.nameId ?? newNameId());
        r.end = e;
        break;
      }
      default:
        r.unknown(t, [1, 2, 3, 4]);
    }
  }
  return m;
}

/** Encodes a EncodedName exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoEncodedName(m: ProtoEncodedName, room = 0): Uint8Array {
  return encodeWith(m, writeEncodedName, room);
}

/** Decodes a EncodedName; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoEncodedName(bytes: Uint8Array, maxBytes?: number): ProtoEncodedName {
  return decodeWith(bytes, maxBytes, readEncodedName, newEncodedName);
}

// ------------------------------------------------------------------------------------------------
// NameId

/** 128-bit instance id split in two halves; all ones in both means "any instance". */
export interface ProtoNameId {
  /** Most significant 64 bits. */
  id0: bigint;
  /** Least significant 64 bits. */
  id1: bigint;
}

function newNameId(): ProtoNameId {
  return { id0: 0n, id1: 0n };
}

/** A NameId with every field at its default, then `init` applied (shallow). */
export function createProtoNameId(init?: Partial<ProtoNameId>): ProtoNameId {
  return init === undefined ? newNameId() : { ...newNameId(), ...init };
}

function writeNameId(w: Writer, m: ProtoNameId): void {
  if (m.id0 !== 0n) {
    w.tag(8);
    w.uint64(m.id0);
  }
  if (m.id1 !== 0n) {
    w.tag(16);
    w.uint64(m.id1);
  }
}

function readNameId(r: Reader, m: ProtoNameId): ProtoNameId {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 8:
        m.id0 = r.uint64();
        break;
      case 16:
        m.id1 = r.uint64();
        break;
      default:
        r.unknown(t, [1, 2]);
    }
  }
  return m;
}

/** Encodes a NameId exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoNameId(m: ProtoNameId, room = 0): Uint8Array {
  return encodeWith(m, writeNameId, room);
}

/** Decodes a NameId; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoNameId(bytes: Uint8Array, maxBytes?: number): ProtoNameId {
  return decodeWith(bytes, maxBytes, readNameId, newNameId);
}

// ------------------------------------------------------------------------------------------------
// StringName

/** The readable form of the three name components. */
export interface ProtoStringName {
  strComponent0: string;
  strComponent1: string;
  strComponent2: string;
}

function newStringName(): ProtoStringName {
  return { strComponent0: "", strComponent1: "", strComponent2: "" };
}

/** A StringName with every field at its default, then `init` applied (shallow). */
export function createProtoStringName(init?: Partial<ProtoStringName>): ProtoStringName {
  return init === undefined ? newStringName() : { ...newStringName(), ...init };
}

function writeStringName(w: Writer, m: ProtoStringName): void {
  if (m.strComponent0 !== "") {
    w.tag(10);
    w.string(m.strComponent0);
  }
  if (m.strComponent1 !== "") {
    w.tag(18);
    w.string(m.strComponent1);
  }
  if (m.strComponent2 !== "") {
    w.tag(26);
    w.string(m.strComponent2);
  }
}

function readStringName(r: Reader, m: ProtoStringName): ProtoStringName {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 10:
        m.strComponent0 = r.string();
        break;
      case 18:
        m.strComponent1 = r.string();
        break;
      case 26:
        m.strComponent2 = r.string();
        break;
      default:
        r.unknown(t, [1, 2, 3]);
    }
  }
  return m;
}

/** Encodes a StringName exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoStringName(m: ProtoStringName, room = 0): Uint8Array {
  return encodeWith(m, writeStringName, room);
}

/** Decodes a StringName; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoStringName(bytes: Uint8Array, maxBytes?: number): ProtoStringName {
  return decodeWith(bytes, maxBytes, readStringName, newStringName);
}

// ------------------------------------------------------------------------------------------------
// Content

export interface ProtoContent {
  contentType:
    | { case: "appPayload"; value: ProtoApplicationPayload }
    | { case: "commandPayload"; value: ProtoCommandPayload }
    | { case: undefined; value?: undefined };
}

function newContent(): ProtoContent {
  return { contentType: { case: undefined } };
}

/** A Content with every field at its default, then `init` applied (shallow). */
export function createProtoContent(init?: Partial<ProtoContent>): ProtoContent {
  return init === undefined ? newContent() : { ...newContent(), ...init };
}

function writeContent(w: Writer, m: ProtoContent): void {
  const contentType = m.contentType;
  switch (contentType.case) {
    case "appPayload": {
      w.tag(10);
      const s = w.begin();
      writeApplicationPayload(w, contentType.value);
      w.end(s);
      break;
    }
    case "commandPayload": {
      w.tag(18);
      const s = w.begin();
      writeCommandPayload(w, contentType.value);
      w.end(s);
      break;
    }
  }
}

function readContent(r: Reader, m: ProtoContent): ProtoContent {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 10: {
        const e = r.enter();
        const cur = m.contentType;
        m.contentType = { case: "appPayload", value: readApplicationPayload(r, cur.case === "appPayload" ? cur.value : newApplicationPayload()) };
        r.end = e;
        break;
      }
      case 18: {
        const e = r.enter();
        const cur = m.contentType;
        m.contentType = { case: "commandPayload", value: readCommandPayload(r, cur.case === "commandPayload" ? cur.value : newCommandPayload()) };
        r.end = e;
        break;
      }
      default:
        r.unknown(t, [1, 2]);
    }
  }
  return m;
}

/** Encodes a Content exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoContent(m: ProtoContent, room = 0): Uint8Array {
  return encodeWith(m, writeContent, room);
}

/** Decodes a Content; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoContent(bytes: Uint8Array, maxBytes?: number): ProtoContent {
  return decodeWith(bytes, maxBytes, readContent, newContent);
}

// ------------------------------------------------------------------------------------------------
// ApplicationPayload

/** Application data. */
export interface ProtoApplicationPayload {
  /** Content type label chosen by the sender. */
  payloadType: string;
  blob: Uint8Array;
}

function newApplicationPayload(): ProtoApplicationPayload {
  return { payloadType: "", blob: EMPTY_BYTES };
}

/** A ApplicationPayload with every field at its default, then `init` applied (shallow). */
export function createProtoApplicationPayload(init?: Partial<ProtoApplicationPayload>): ProtoApplicationPayload {
  return init === undefined ? newApplicationPayload() : { ...newApplicationPayload(), ...init };
}

function writeApplicationPayload(w: Writer, m: ProtoApplicationPayload): void {
  if (m.payloadType !== "") {
    w.tag(10);
    w.string(m.payloadType);
  }
  if (m.blob.length !== 0) {
    w.tag(18);
    w.bytes(m.blob);
  }
}

function readApplicationPayload(r: Reader, m: ProtoApplicationPayload): ProtoApplicationPayload {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 10:
        m.payloadType = r.string();
        break;
      case 18:
        m.blob = r.bytes();
        break;
      default:
        r.unknown(t, [1, 2]);
    }
  }
  return m;
}

/** Encodes a ApplicationPayload exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoApplicationPayload(m: ProtoApplicationPayload, room = 0): Uint8Array {
  return encodeWith(m, writeApplicationPayload, room);
}

/** Decodes a ApplicationPayload; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoApplicationPayload(bytes: Uint8Array, maxBytes?: number): ProtoApplicationPayload {
  return decodeWith(bytes, maxBytes, readApplicationPayload, newApplicationPayload);
}

// ------------------------------------------------------------------------------------------------
// CommandPayload

/** Body of a session control message; the case matches the session message type. */
export interface ProtoCommandPayload {
  commandPayloadType:
    | { case: "discoveryRequest"; value: ProtoDiscoveryRequestPayload }
    | { case: "discoveryReply"; value: ProtoDiscoveryReplyPayload }
    | { case: "joinRequest"; value: ProtoJoinRequestPayload }
    | { case: "joinReply"; value: ProtoJoinReplyPayload }
    | { case: "leaveRequest"; value: ProtoLeaveRequestPayload }
    | { case: "leaveReply"; value: ProtoLeaveReplyPayload }
    | { case: "groupUpdate"; value: ProtoGroupUpdatePayload }
    | { case: "groupWelcome"; value: ProtoGroupWelcomePayload }
    | { case: "groupClose"; value: ProtoGroupClosePayload }
    | { case: "groupProposal"; value: ProtoGroupProposalPayload }
    | { case: "groupAck"; value: ProtoGroupAckPayload }
    | { case: "groupNack"; value: ProtoGroupNackPayload }
    | { case: "heartbeat"; value: ProtoHeartbeatPayload }
    | { case: "updateParticipantState"; value: ProtoUpdateParticipantStatePayload }
    | { case: "rejoinRequest"; value: ProtoRejoinRequestPayload }
    | { case: "rejoinReply"; value: ProtoRejoinReplyPayload }
    | { case: undefined; value?: undefined };
}

function newCommandPayload(): ProtoCommandPayload {
  return { commandPayloadType: { case: undefined } };
}

/** A CommandPayload with every field at its default, then `init` applied (shallow). */
export function createProtoCommandPayload(init?: Partial<ProtoCommandPayload>): ProtoCommandPayload {
  return init === undefined ? newCommandPayload() : { ...newCommandPayload(), ...init };
}

function writeCommandPayload(w: Writer, m: ProtoCommandPayload): void {
  const commandPayloadType = m.commandPayloadType;
  switch (commandPayloadType.case) {
    case "discoveryRequest": {
      w.tag(10);
      const s = w.begin();
      writeDiscoveryRequestPayload(w, commandPayloadType.value);
      w.end(s);
      break;
    }
    case "discoveryReply": {
      w.tag(18);
      const s = w.begin();
      writeDiscoveryReplyPayload(w, commandPayloadType.value);
      w.end(s);
      break;
    }
    case "joinRequest": {
      w.tag(26);
      const s = w.begin();
      writeJoinRequestPayload(w, commandPayloadType.value);
      w.end(s);
      break;
    }
    case "joinReply": {
      w.tag(34);
      const s = w.begin();
      writeJoinReplyPayload(w, commandPayloadType.value);
      w.end(s);
      break;
    }
    case "leaveRequest": {
      w.tag(42);
      const s = w.begin();
      writeLeaveRequestPayload(w, commandPayloadType.value);
      w.end(s);
      break;
    }
    case "leaveReply": {
      w.tag(50);
      const s = w.begin();
      writeLeaveReplyPayload(w, commandPayloadType.value);
      w.end(s);
      break;
    }
    case "groupUpdate": {
      w.tag(58);
      const s = w.begin();
      writeGroupUpdatePayload(w, commandPayloadType.value);
      w.end(s);
      break;
    }
    case "groupWelcome": {
      w.tag(66);
      const s = w.begin();
      writeGroupWelcomePayload(w, commandPayloadType.value);
      w.end(s);
      break;
    }
    case "groupClose": {
      w.tag(74);
      const s = w.begin();
      writeGroupClosePayload(w, commandPayloadType.value);
      w.end(s);
      break;
    }
    case "groupProposal": {
      w.tag(82);
      const s = w.begin();
      writeGroupProposalPayload(w, commandPayloadType.value);
      w.end(s);
      break;
    }
    case "groupAck": {
      w.tag(90);
      const s = w.begin();
      writeGroupAckPayload(w, commandPayloadType.value);
      w.end(s);
      break;
    }
    case "groupNack": {
      w.tag(98);
      const s = w.begin();
      writeGroupNackPayload(w, commandPayloadType.value);
      w.end(s);
      break;
    }
    case "heartbeat": {
      w.tag(106);
      const s = w.begin();
      writeHeartbeatPayload(w, commandPayloadType.value);
      w.end(s);
      break;
    }
    case "updateParticipantState": {
      w.tag(114);
      const s = w.begin();
      writeUpdateParticipantStatePayload(w, commandPayloadType.value);
      w.end(s);
      break;
    }
    case "rejoinRequest": {
      w.tag(122);
      const s = w.begin();
      writeRejoinRequestPayload(w, commandPayloadType.value);
      w.end(s);
      break;
    }
    case "rejoinReply": {
      w.tag(130);
      const s = w.begin();
      writeRejoinReplyPayload(w, commandPayloadType.value);
      w.end(s);
      break;
    }
  }
}

function readCommandPayload(r: Reader, m: ProtoCommandPayload): ProtoCommandPayload {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 10: {
        const e = r.enter();
        const cur = m.commandPayloadType;
        m.commandPayloadType = { case: "discoveryRequest", value: readDiscoveryRequestPayload(r, cur.case === "discoveryRequest" ? cur.value : newDiscoveryRequestPayload()) };
        r.end = e;
        break;
      }
      case 18: {
        const e = r.enter();
        const cur = m.commandPayloadType;
        m.commandPayloadType = { case: "discoveryReply", value: readDiscoveryReplyPayload(r, cur.case === "discoveryReply" ? cur.value : newDiscoveryReplyPayload()) };
        r.end = e;
        break;
      }
      case 26: {
        const e = r.enter();
        const cur = m.commandPayloadType;
        m.commandPayloadType = { case: "joinRequest", value: readJoinRequestPayload(r, cur.case === "joinRequest" ? cur.value : newJoinRequestPayload()) };
        r.end = e;
        break;
      }
      case 34: {
        const e = r.enter();
        const cur = m.commandPayloadType;
        m.commandPayloadType = { case: "joinReply", value: readJoinReplyPayload(r, cur.case === "joinReply" ? cur.value : newJoinReplyPayload()) };
        r.end = e;
        break;
      }
      case 42: {
        const e = r.enter();
        const cur = m.commandPayloadType;
        m.commandPayloadType = { case: "leaveRequest", value: readLeaveRequestPayload(r, cur.case === "leaveRequest" ? cur.value : newLeaveRequestPayload()) };
        r.end = e;
        break;
      }
      case 50: {
        const e = r.enter();
        const cur = m.commandPayloadType;
        m.commandPayloadType = { case: "leaveReply", value: readLeaveReplyPayload(r, cur.case === "leaveReply" ? cur.value : newLeaveReplyPayload()) };
        r.end = e;
        break;
      }
      case 58: {
        const e = r.enter();
        const cur = m.commandPayloadType;
        m.commandPayloadType = { case: "groupUpdate", value: readGroupUpdatePayload(r, cur.case === "groupUpdate" ? cur.value : newGroupUpdatePayload()) };
        r.end = e;
        break;
      }
      case 66: {
        const e = r.enter();
        const cur = m.commandPayloadType;
        m.commandPayloadType = { case: "groupWelcome", value: readGroupWelcomePayload(r, cur.case === "groupWelcome" ? cur.value : newGroupWelcomePayload()) };
        r.end = e;
        break;
      }
      case 74: {
        const e = r.enter();
        const cur = m.commandPayloadType;
        m.commandPayloadType = { case: "groupClose", value: readGroupClosePayload(r, cur.case === "groupClose" ? cur.value : newGroupClosePayload()) };
        r.end = e;
        break;
      }
      case 82: {
        const e = r.enter();
        const cur = m.commandPayloadType;
        m.commandPayloadType = { case: "groupProposal", value: readGroupProposalPayload(r, cur.case === "groupProposal" ? cur.value : newGroupProposalPayload()) };
        r.end = e;
        break;
      }
      case 90: {
        const e = r.enter();
        const cur = m.commandPayloadType;
        m.commandPayloadType = { case: "groupAck", value: readGroupAckPayload(r, cur.case === "groupAck" ? cur.value : newGroupAckPayload()) };
        r.end = e;
        break;
      }
      case 98: {
        const e = r.enter();
        const cur = m.commandPayloadType;
        m.commandPayloadType = { case: "groupNack", value: readGroupNackPayload(r, cur.case === "groupNack" ? cur.value : newGroupNackPayload()) };
        r.end = e;
        break;
      }
      case 106: {
        const e = r.enter();
        const cur = m.commandPayloadType;
        m.commandPayloadType = { case: "heartbeat", value: readHeartbeatPayload(r, cur.case === "heartbeat" ? cur.value : newHeartbeatPayload()) };
        r.end = e;
        break;
      }
      case 114: {
        const e = r.enter();
        const cur = m.commandPayloadType;
        m.commandPayloadType = { case: "updateParticipantState", value: readUpdateParticipantStatePayload(r, cur.case === "updateParticipantState" ? cur.value : newUpdateParticipantStatePayload()) };
        r.end = e;
        break;
      }
      case 122: {
        const e = r.enter();
        const cur = m.commandPayloadType;
        m.commandPayloadType = { case: "rejoinRequest", value: readRejoinRequestPayload(r, cur.case === "rejoinRequest" ? cur.value : newRejoinRequestPayload()) };
        r.end = e;
        break;
      }
      case 130: {
        const e = r.enter();
        const cur = m.commandPayloadType;
        m.commandPayloadType = { case: "rejoinReply", value: readRejoinReplyPayload(r, cur.case === "rejoinReply" ? cur.value : newRejoinReplyPayload()) };
        r.end = e;
        break;
      }
      default:
        r.unknown(t, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    }
  }
  return m;
}

/** Encodes a CommandPayload exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoCommandPayload(m: ProtoCommandPayload, room = 0): Uint8Array {
  return encodeWith(m, writeCommandPayload, room);
}

/** Decodes a CommandPayload; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoCommandPayload(bytes: Uint8Array, maxBytes?: number): ProtoCommandPayload {
  return decodeWith(bytes, maxBytes, readCommandPayload, newCommandPayload);
}

// ------------------------------------------------------------------------------------------------
// DiscoveryRequestPayload

export interface ProtoDiscoveryRequestPayload {}

function newDiscoveryRequestPayload(): ProtoDiscoveryRequestPayload {
  return {};
}

/** A DiscoveryRequestPayload with every field at its default, then `init` applied (shallow). */
export function createProtoDiscoveryRequestPayload(init?: Partial<ProtoDiscoveryRequestPayload>): ProtoDiscoveryRequestPayload {
  return init === undefined ? newDiscoveryRequestPayload() : { ...newDiscoveryRequestPayload(), ...init };
}

function writeDiscoveryRequestPayload(_w: Writer, _m: ProtoDiscoveryRequestPayload): void {}

function readDiscoveryRequestPayload(r: Reader, m: ProtoDiscoveryRequestPayload): ProtoDiscoveryRequestPayload {
  while (r.pos < r.end) r.unknown(r.tag(), []);
  return m;
}

/** Encodes a DiscoveryRequestPayload exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoDiscoveryRequestPayload(m: ProtoDiscoveryRequestPayload, room = 0): Uint8Array {
  return encodeWith(m, writeDiscoveryRequestPayload, room);
}

/** Decodes a DiscoveryRequestPayload; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoDiscoveryRequestPayload(bytes: Uint8Array, maxBytes?: number): ProtoDiscoveryRequestPayload {
  return decodeWith(bytes, maxBytes, readDiscoveryRequestPayload, newDiscoveryRequestPayload);
}

// ------------------------------------------------------------------------------------------------
// DiscoveryReplyPayload

export interface ProtoDiscoveryReplyPayload {}

function newDiscoveryReplyPayload(): ProtoDiscoveryReplyPayload {
  return {};
}

/** A DiscoveryReplyPayload with every field at its default, then `init` applied (shallow). */
export function createProtoDiscoveryReplyPayload(init?: Partial<ProtoDiscoveryReplyPayload>): ProtoDiscoveryReplyPayload {
  return init === undefined ? newDiscoveryReplyPayload() : { ...newDiscoveryReplyPayload(), ...init };
}

function writeDiscoveryReplyPayload(_w: Writer, _m: ProtoDiscoveryReplyPayload): void {}

function readDiscoveryReplyPayload(r: Reader, m: ProtoDiscoveryReplyPayload): ProtoDiscoveryReplyPayload {
  while (r.pos < r.end) r.unknown(r.tag(), []);
  return m;
}

/** Encodes a DiscoveryReplyPayload exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoDiscoveryReplyPayload(m: ProtoDiscoveryReplyPayload, room = 0): Uint8Array {
  return encodeWith(m, writeDiscoveryReplyPayload, room);
}

/** Decodes a DiscoveryReplyPayload; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoDiscoveryReplyPayload(bytes: Uint8Array, maxBytes?: number): ProtoDiscoveryReplyPayload {
  return decodeWith(bytes, maxBytes, readDiscoveryReplyPayload, newDiscoveryReplyPayload);
}

// ------------------------------------------------------------------------------------------------
// JoinRequestPayload

export interface ProtoJoinRequestPayload {
  timerSettings?: ProtoTimerSettings;
  channel?: ProtoName;
  control?: ProtoName;
  /** Present when the session uses MLS. */
  mlsSettings?: ProtoMlsSettings;
}

function newJoinRequestPayload(): ProtoJoinRequestPayload {
  return {};
}

/** A JoinRequestPayload with every field at its default, then `init` applied (shallow). */
export function createProtoJoinRequestPayload(init?: Partial<ProtoJoinRequestPayload>): ProtoJoinRequestPayload {
  return init === undefined ? newJoinRequestPayload() : { ...newJoinRequestPayload(), ...init };
}

function writeJoinRequestPayload(w: Writer, m: ProtoJoinRequestPayload): void {
  if (m.timerSettings !== undefined) {
    w.tag(10);
    const s = w.begin();
    writeTimerSettings(w, m.timerSettings);
    w.end(s);
  }
  if (m.channel !== undefined) {
    w.tag(18);
    const s = w.begin();
    writeName(w, m.channel);
    w.end(s);
  }
  if (m.control !== undefined) {
    w.tag(26);
    const s = w.begin();
    writeName(w, m.control);
    w.end(s);
  }
  if (m.mlsSettings !== undefined) {
    w.tag(34);
    const s = w.begin();
    writeMlsSettings(w, m.mlsSettings);
    w.end(s);
  }
}

function readJoinRequestPayload(r: Reader, m: ProtoJoinRequestPayload): ProtoJoinRequestPayload {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 10: {
        const e = r.enter();
        m.timerSettings = readTimerSettings(r, m.timerSettings ?? newTimerSettings());
        r.end = e;
        break;
      }
      case 18: {
        const e = r.enter();
        m.channel = readName(r, m.channel ?? newName());
        r.end = e;
        break;
      }
      case 26: {
        const e = r.enter();
        m.control = readName(r, m.control ?? newName());
        r.end = e;
        break;
      }
      case 34: {
        const e = r.enter();
        m.mlsSettings = readMlsSettings(r, m.mlsSettings ?? newMlsSettings());
        r.end = e;
        break;
      }
      default:
        r.unknown(t, [1, 2, 3, 4]);
    }
  }
  return m;
}

/** Encodes a JoinRequestPayload exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoJoinRequestPayload(m: ProtoJoinRequestPayload, room = 0): Uint8Array {
  return encodeWith(m, writeJoinRequestPayload, room);
}

/** Decodes a JoinRequestPayload; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoJoinRequestPayload(bytes: Uint8Array, maxBytes?: number): ProtoJoinRequestPayload {
  return decodeWith(bytes, maxBytes, readJoinRequestPayload, newJoinRequestPayload);
}

// ------------------------------------------------------------------------------------------------
// TimerSettings

/** Retransmission timer of a session. */
export interface ProtoTimerSettings {
  /** Milliseconds. */
  timeout: number;
  maxRetries: number;
}

function newTimerSettings(): ProtoTimerSettings {
  return { timeout: 0, maxRetries: 0 };
}

/** A TimerSettings with every field at its default, then `init` applied (shallow). */
export function createProtoTimerSettings(init?: Partial<ProtoTimerSettings>): ProtoTimerSettings {
  return init === undefined ? newTimerSettings() : { ...newTimerSettings(), ...init };
}

function writeTimerSettings(w: Writer, m: ProtoTimerSettings): void {
  if (m.timeout !== 0) {
    w.tag(8);
    w.uint32(m.timeout);
  }
  if (m.maxRetries !== 0) {
    w.tag(16);
    w.uint32(m.maxRetries);
  }
}

function readTimerSettings(r: Reader, m: ProtoTimerSettings): ProtoTimerSettings {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 8:
        m.timeout = r.uint32();
        break;
      case 16:
        m.maxRetries = r.uint32();
        break;
      default:
        r.unknown(t, [1, 2]);
    }
  }
  return m;
}

/** Encodes a TimerSettings exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoTimerSettings(m: ProtoTimerSettings, room = 0): Uint8Array {
  return encodeWith(m, writeTimerSettings, room);
}

/** Decodes a TimerSettings; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoTimerSettings(bytes: Uint8Array, maxBytes?: number): ProtoTimerSettings {
  return decodeWith(bytes, maxBytes, readTimerSettings, newTimerSettings);
}

// ------------------------------------------------------------------------------------------------
// JoinReplyPayload

export interface ProtoJoinReplyPayload {
  /** MLS key package of the joining participant (MLS sessions only). */
  keyPackage?: Uint8Array;
  participant?: ProtoParticipant;
}

function newJoinReplyPayload(): ProtoJoinReplyPayload {
  return {};
}

/** A JoinReplyPayload with every field at its default, then `init` applied (shallow). */
export function createProtoJoinReplyPayload(init?: Partial<ProtoJoinReplyPayload>): ProtoJoinReplyPayload {
  return init === undefined ? newJoinReplyPayload() : { ...newJoinReplyPayload(), ...init };
}

function writeJoinReplyPayload(w: Writer, m: ProtoJoinReplyPayload): void {
  if (m.keyPackage !== undefined) {
    w.tag(10);
    w.bytes(m.keyPackage);
  }
  if (m.participant !== undefined) {
    w.tag(18);
    const s = w.begin();
    writeParticipant(w, m.participant);
    w.end(s);
  }
}

function readJoinReplyPayload(r: Reader, m: ProtoJoinReplyPayload): ProtoJoinReplyPayload {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 10:
        m.keyPackage = r.bytes();
        break;
      case 18: {
        const e = r.enter();
        m.participant = readParticipant(r, m.participant ?? newParticipant());
        r.end = e;
        break;
      }
      default:
        r.unknown(t, [1, 2]);
    }
  }
  return m;
}

/** Encodes a JoinReplyPayload exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoJoinReplyPayload(m: ProtoJoinReplyPayload, room = 0): Uint8Array {
  return encodeWith(m, writeJoinReplyPayload, room);
}

/** Decodes a JoinReplyPayload; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoJoinReplyPayload(bytes: Uint8Array, maxBytes?: number): ProtoJoinReplyPayload {
  return decodeWith(bytes, maxBytes, readJoinReplyPayload, newJoinReplyPayload);
}

// ------------------------------------------------------------------------------------------------
// LeaveRequestPayload

export interface ProtoLeaveRequestPayload {}

function newLeaveRequestPayload(): ProtoLeaveRequestPayload {
  return {};
}

/** A LeaveRequestPayload with every field at its default, then `init` applied (shallow). */
export function createProtoLeaveRequestPayload(init?: Partial<ProtoLeaveRequestPayload>): ProtoLeaveRequestPayload {
  return init === undefined ? newLeaveRequestPayload() : { ...newLeaveRequestPayload(), ...init };
}

function writeLeaveRequestPayload(_w: Writer, _m: ProtoLeaveRequestPayload): void {}

function readLeaveRequestPayload(r: Reader, m: ProtoLeaveRequestPayload): ProtoLeaveRequestPayload {
  while (r.pos < r.end) r.unknown(r.tag(), []);
  return m;
}

/** Encodes a LeaveRequestPayload exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoLeaveRequestPayload(m: ProtoLeaveRequestPayload, room = 0): Uint8Array {
  return encodeWith(m, writeLeaveRequestPayload, room);
}

/** Decodes a LeaveRequestPayload; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoLeaveRequestPayload(bytes: Uint8Array, maxBytes?: number): ProtoLeaveRequestPayload {
  return decodeWith(bytes, maxBytes, readLeaveRequestPayload, newLeaveRequestPayload);
}

// ------------------------------------------------------------------------------------------------
// LeaveReplyPayload

export interface ProtoLeaveReplyPayload {}

function newLeaveReplyPayload(): ProtoLeaveReplyPayload {
  return {};
}

/** A LeaveReplyPayload with every field at its default, then `init` applied (shallow). */
export function createProtoLeaveReplyPayload(init?: Partial<ProtoLeaveReplyPayload>): ProtoLeaveReplyPayload {
  return init === undefined ? newLeaveReplyPayload() : { ...newLeaveReplyPayload(), ...init };
}

function writeLeaveReplyPayload(_w: Writer, _m: ProtoLeaveReplyPayload): void {}

function readLeaveReplyPayload(r: Reader, m: ProtoLeaveReplyPayload): ProtoLeaveReplyPayload {
  while (r.pos < r.end) r.unknown(r.tag(), []);
  return m;
}

/** Encodes a LeaveReplyPayload exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoLeaveReplyPayload(m: ProtoLeaveReplyPayload, room = 0): Uint8Array {
  return encodeWith(m, writeLeaveReplyPayload, room);
}

/** Decodes a LeaveReplyPayload; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoLeaveReplyPayload(bytes: Uint8Array, maxBytes?: number): ProtoLeaveReplyPayload {
  return decodeWith(bytes, maxBytes, readLeaveReplyPayload, newLeaveReplyPayload);
}

// ------------------------------------------------------------------------------------------------
// Participant

/** A group member as seen by the moderator. */
export interface ProtoParticipant {
  name?: ProtoName;
  settings?: ProtoParticipantSettings;
  status: ParticipantState;
}

function newParticipant(): ProtoParticipant {
  return { status: 0 };
}

/** A Participant with every field at its default, then `init` applied (shallow). */
export function createProtoParticipant(init?: Partial<ProtoParticipant>): ProtoParticipant {
  return init === undefined ? newParticipant() : { ...newParticipant(), ...init };
}

function writeParticipant(w: Writer, m: ProtoParticipant): void {
  if (m.name !== undefined) {
    w.tag(10);
    const s = w.begin();
    writeName(w, m.name);
    w.end(s);
  }
  if (m.settings !== undefined) {
    w.tag(18);
    const s = w.begin();
    writeParticipantSettings(w, m.settings);
    w.end(s);
  }
  if (m.status !== 0) {
    w.tag(24);
    w.int32(m.status);
  }
}

function readParticipant(r: Reader, m: ProtoParticipant): ProtoParticipant {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 10: {
        const e = r.enter();
        m.name = readName(r, m.name ?? newName());
        r.end = e;
        break;
      }
      case 18: {
        const e = r.enter();
        m.settings = readParticipantSettings(r, m.settings ?? newParticipantSettings());
        r.end = e;
        break;
      }
      case 24:
        m.status = r.int32() as ParticipantState;
        break;
      default:
        r.unknown(t, [1, 2, 3]);
    }
  }
  return m;
}

/** Encodes a Participant exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoParticipant(m: ProtoParticipant, room = 0): Uint8Array {
  return encodeWith(m, writeParticipant, room);
}

/** Decodes a Participant; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoParticipant(bytes: Uint8Array, maxBytes?: number): ProtoParticipant {
  return decodeWith(bytes, maxBytes, readParticipant, newParticipant);
}

// ------------------------------------------------------------------------------------------------
// ParticipantSettings

export interface ProtoParticipantSettings {
  sendsData: boolean;
  receivesData: boolean;
}

function newParticipantSettings(): ProtoParticipantSettings {
  return { sendsData: false, receivesData: false };
}

/** A ParticipantSettings with every field at its default, then `init` applied (shallow). */
export function createProtoParticipantSettings(init?: Partial<ProtoParticipantSettings>): ProtoParticipantSettings {
  return init === undefined ? newParticipantSettings() : { ...newParticipantSettings(), ...init };
}

function writeParticipantSettings(w: Writer, m: ProtoParticipantSettings): void {
  if (m.sendsData) {
    w.tag(8);
    w.bool(m.sendsData);
  }
  if (m.receivesData) {
    w.tag(16);
    w.bool(m.receivesData);
  }
}

function readParticipantSettings(r: Reader, m: ProtoParticipantSettings): ProtoParticipantSettings {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 8:
        m.sendsData = r.bool();
        break;
      case 16:
        m.receivesData = r.bool();
        break;
      default:
        r.unknown(t, [1, 2]);
    }
  }
  return m;
}

/** Encodes a ParticipantSettings exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoParticipantSettings(m: ProtoParticipantSettings, room = 0): Uint8Array {
  return encodeWith(m, writeParticipantSettings, room);
}

/** Decodes a ParticipantSettings; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoParticipantSettings(bytes: Uint8Array, maxBytes?: number): ProtoParticipantSettings {
  return decodeWith(bytes, maxBytes, readParticipantSettings, newParticipantSettings);
}

// ------------------------------------------------------------------------------------------------
// MlsPayload

/** An MLS handshake object (commit or welcome) and the commit it belongs to. */
export interface ProtoMlsPayload {
  commitId: number;
  mlsContent: Uint8Array;
}

function newMlsPayload(): ProtoMlsPayload {
  return { commitId: 0, mlsContent: EMPTY_BYTES };
}

/** A MlsPayload with every field at its default, then `init` applied (shallow). */
export function createProtoMlsPayload(init?: Partial<ProtoMlsPayload>): ProtoMlsPayload {
  return init === undefined ? newMlsPayload() : { ...newMlsPayload(), ...init };
}

function writeMlsPayload(w: Writer, m: ProtoMlsPayload): void {
  if (m.commitId !== 0) {
    w.tag(8);
    w.uint32(m.commitId);
  }
  if (m.mlsContent.length !== 0) {
    w.tag(18);
    w.bytes(m.mlsContent);
  }
}

function readMlsPayload(r: Reader, m: ProtoMlsPayload): ProtoMlsPayload {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 8:
        m.commitId = r.uint32();
        break;
      case 18:
        m.mlsContent = r.bytes();
        break;
      default:
        r.unknown(t, [1, 2]);
    }
  }
  return m;
}

/** Encodes a MlsPayload exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoMlsPayload(m: ProtoMlsPayload, room = 0): Uint8Array {
  return encodeWith(m, writeMlsPayload, room);
}

/** Decodes a MlsPayload; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoMlsPayload(bytes: Uint8Array, maxBytes?: number): ProtoMlsPayload {
  return decodeWith(bytes, maxBytes, readMlsPayload, newMlsPayload);
}

// ------------------------------------------------------------------------------------------------
// MlsSettings

export interface ProtoMlsSettings {
  /** Share of messages (0..100) whose header integrity is checked. */
  headerIntegrityValidationPercent: number;
}

function newMlsSettings(): ProtoMlsSettings {
  return { headerIntegrityValidationPercent: 0 };
}

/** A MlsSettings with every field at its default, then `init` applied (shallow). */
export function createProtoMlsSettings(init?: Partial<ProtoMlsSettings>): ProtoMlsSettings {
  return init === undefined ? newMlsSettings() : { ...newMlsSettings(), ...init };
}

function writeMlsSettings(w: Writer, m: ProtoMlsSettings): void {
  if (m.headerIntegrityValidationPercent !== 0) {
    w.tag(8);
    w.uint32(m.headerIntegrityValidationPercent);
  }
}

function readMlsSettings(r: Reader, m: ProtoMlsSettings): ProtoMlsSettings {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 8:
        m.headerIntegrityValidationPercent = r.uint32();
        break;
      default:
        r.unknown(t, [1]);
    }
  }
  return m;
}

/** Encodes a MlsSettings exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoMlsSettings(m: ProtoMlsSettings, room = 0): Uint8Array {
  return encodeWith(m, writeMlsSettings, room);
}

/** Decodes a MlsSettings; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoMlsSettings(bytes: Uint8Array, maxBytes?: number): ProtoMlsSettings {
  return decodeWith(bytes, maxBytes, readMlsSettings, newMlsSettings);
}

// ------------------------------------------------------------------------------------------------
// HeaderIntegrityAad

/**
 * Additional authenticated data bound by end-to-end signatures. Never sent as a message:
 * it is encoded locally and must match the official encoding byte for byte.
 */
export interface ProtoHeaderIntegrityAad {
  version: number;
  source?: ProtoName;
  destination?: ProtoName;
  identity: string;
  sessionType: SessionType;
  sessionMessageType: SessionMessageType;
  sessionId: number;
  messageId: number;
  payloadType: string;
}

function newHeaderIntegrityAad(): ProtoHeaderIntegrityAad {
  return { version: 0, identity: "", sessionType: 0, sessionMessageType: 0, sessionId: 0, messageId: 0, payloadType: "" };
}

/** A HeaderIntegrityAad with every field at its default, then `init` applied (shallow). */
export function createProtoHeaderIntegrityAad(init?: Partial<ProtoHeaderIntegrityAad>): ProtoHeaderIntegrityAad {
  return init === undefined ? newHeaderIntegrityAad() : { ...newHeaderIntegrityAad(), ...init };
}

function writeHeaderIntegrityAad(w: Writer, m: ProtoHeaderIntegrityAad): void {
  if (m.version !== 0) {
    w.tag(8);
    w.uint32(m.version);
  }
  if (m.source !== undefined) {
    w.tag(18);
    const s = w.begin();
    writeName(w, m.source);
    w.end(s);
  }
  if (m.destination !== undefined) {
    w.tag(26);
    const s = w.begin();
    writeName(w, m.destination);
    w.end(s);
  }
  if (m.identity !== "") {
    w.tag(34);
    w.string(m.identity);
  }
  if (m.sessionType !== 0) {
    w.tag(40);
    w.int32(m.sessionType);
  }
  if (m.sessionMessageType !== 0) {
    w.tag(48);
    w.int32(m.sessionMessageType);
  }
  if (m.sessionId !== 0) {
    w.tag(56);
    w.uint32(m.sessionId);
  }
  if (m.messageId !== 0) {
    w.tag(64);
    w.uint32(m.messageId);
  }
  if (m.payloadType !== "") {
    w.tag(74);
    w.string(m.payloadType);
  }
}

function readHeaderIntegrityAad(r: Reader, m: ProtoHeaderIntegrityAad): ProtoHeaderIntegrityAad {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 8:
        m.version = r.uint32();
        break;
      case 18: {
        const e = r.enter();
        m.source = readName(r, m.source ?? newName());
        r.end = e;
        break;
      }
      case 26: {
        const e = r.enter();
        m.destination = readName(r, m.destination ?? newName());
        r.end = e;
        break;
      }
      case 34:
        m.identity = r.string();
        break;
      case 40:
        m.sessionType = r.int32() as SessionType;
        break;
      case 48:
        m.sessionMessageType = r.int32() as SessionMessageType;
        break;
      case 56:
        m.sessionId = r.uint32();
        break;
      case 64:
        m.messageId = r.uint32();
        break;
      case 74:
        m.payloadType = r.string();
        break;
      default:
        r.unknown(t, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
  }
  return m;
}

/** Encodes a HeaderIntegrityAad exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoHeaderIntegrityAad(m: ProtoHeaderIntegrityAad, room = 0): Uint8Array {
  return encodeWith(m, writeHeaderIntegrityAad, room);
}

/** Decodes a HeaderIntegrityAad; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoHeaderIntegrityAad(bytes: Uint8Array, maxBytes?: number): ProtoHeaderIntegrityAad {
  return decodeWith(bytes, maxBytes, readHeaderIntegrityAad, newHeaderIntegrityAad);
}

// ------------------------------------------------------------------------------------------------
// GroupUpdatePayload

export interface ProtoGroupUpdatePayload {
  op: GroupUpdateOp;
  /** The member being added, removed or rejoining. */
  participant?: ProtoParticipant;
  /** The full member list after the change. */
  participants: ProtoParticipant[];
  mls?: ProtoMlsPayload;
}

function newGroupUpdatePayload(): ProtoGroupUpdatePayload {
  return { op: 0, participants: [] };
}

/** A GroupUpdatePayload with every field at its default, then `init` applied (shallow). */
export function createProtoGroupUpdatePayload(init?: Partial<ProtoGroupUpdatePayload>): ProtoGroupUpdatePayload {
  return init === undefined ? newGroupUpdatePayload() : { ...newGroupUpdatePayload(), ...init };
}

function writeGroupUpdatePayload(w: Writer, m: ProtoGroupUpdatePayload): void {
  if (m.op !== 0) {
    w.tag(8);
    w.int32(m.op);
  }
  if (m.participant !== undefined) {
    w.tag(18);
    const s = w.begin();
    writeParticipant(w, m.participant);
    w.end(s);
  }
  for (const v of m.participants) {
    w.tag(26);
    const s = w.begin();
    writeParticipant(w, v);
    w.end(s);
  }
  if (m.mls !== undefined) {
    w.tag(34);
    const s = w.begin();
    writeMlsPayload(w, m.mls);
    w.end(s);
  }
}

function readGroupUpdatePayload(r: Reader, m: ProtoGroupUpdatePayload): ProtoGroupUpdatePayload {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 8:
        m.op = r.int32() as GroupUpdateOp;
        break;
      case 18: {
        const e = r.enter();
        m.participant = readParticipant(r, m.participant ?? newParticipant());
        r.end = e;
        break;
      }
      case 26: {
        const e = r.enter();
        m.participants.push(readParticipant(r, newParticipant()));
        r.end = e;
        break;
      }
      case 34: {
        const e = r.enter();
        m.mls = readMlsPayload(r, m.mls ?? newMlsPayload());
        r.end = e;
        break;
      }
      default:
        r.unknown(t, [1, 2, 3, 4]);
    }
  }
  return m;
}

/** Encodes a GroupUpdatePayload exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoGroupUpdatePayload(m: ProtoGroupUpdatePayload, room = 0): Uint8Array {
  return encodeWith(m, writeGroupUpdatePayload, room);
}

/** Decodes a GroupUpdatePayload; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoGroupUpdatePayload(bytes: Uint8Array, maxBytes?: number): ProtoGroupUpdatePayload {
  return decodeWith(bytes, maxBytes, readGroupUpdatePayload, newGroupUpdatePayload);
}

// ------------------------------------------------------------------------------------------------
// GroupWelcomePayload

export interface ProtoGroupWelcomePayload {
  participants: ProtoParticipant[];
  mls?: ProtoMlsPayload;
}

function newGroupWelcomePayload(): ProtoGroupWelcomePayload {
  return { participants: [] };
}

/** A GroupWelcomePayload with every field at its default, then `init` applied (shallow). */
export function createProtoGroupWelcomePayload(init?: Partial<ProtoGroupWelcomePayload>): ProtoGroupWelcomePayload {
  return init === undefined ? newGroupWelcomePayload() : { ...newGroupWelcomePayload(), ...init };
}

function writeGroupWelcomePayload(w: Writer, m: ProtoGroupWelcomePayload): void {
  for (const v of m.participants) {
    w.tag(10);
    const s = w.begin();
    writeParticipant(w, v);
    w.end(s);
  }
  if (m.mls !== undefined) {
    w.tag(18);
    const s = w.begin();
    writeMlsPayload(w, m.mls);
    w.end(s);
  }
}

function readGroupWelcomePayload(r: Reader, m: ProtoGroupWelcomePayload): ProtoGroupWelcomePayload {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 10: {
        const e = r.enter();
        m.participants.push(readParticipant(r, newParticipant()));
        r.end = e;
        break;
      }
      case 18: {
        const e = r.enter();
        m.mls = readMlsPayload(r, m.mls ?? newMlsPayload());
        r.end = e;
        break;
      }
      default:
        r.unknown(t, [1, 2]);
    }
  }
  return m;
}

/** Encodes a GroupWelcomePayload exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoGroupWelcomePayload(m: ProtoGroupWelcomePayload, room = 0): Uint8Array {
  return encodeWith(m, writeGroupWelcomePayload, room);
}

/** Decodes a GroupWelcomePayload; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoGroupWelcomePayload(bytes: Uint8Array, maxBytes?: number): ProtoGroupWelcomePayload {
  return decodeWith(bytes, maxBytes, readGroupWelcomePayload, newGroupWelcomePayload);
}

// ------------------------------------------------------------------------------------------------
// GroupClosePayload

export interface ProtoGroupClosePayload {
  participants: ProtoName[];
}

function newGroupClosePayload(): ProtoGroupClosePayload {
  return { participants: [] };
}

/** A GroupClosePayload with every field at its default, then `init` applied (shallow). */
export function createProtoGroupClosePayload(init?: Partial<ProtoGroupClosePayload>): ProtoGroupClosePayload {
  return init === undefined ? newGroupClosePayload() : { ...newGroupClosePayload(), ...init };
}

function writeGroupClosePayload(w: Writer, m: ProtoGroupClosePayload): void {
  for (const v of m.participants) {
    w.tag(10);
    const s = w.begin();
    writeName(w, v);
    w.end(s);
  }
}

function readGroupClosePayload(r: Reader, m: ProtoGroupClosePayload): ProtoGroupClosePayload {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 10: {
        const e = r.enter();
        m.participants.push(readName(r, newName()));
        r.end = e;
        break;
      }
      default:
        r.unknown(t, [1]);
    }
  }
  return m;
}

/** Encodes a GroupClosePayload exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoGroupClosePayload(m: ProtoGroupClosePayload, room = 0): Uint8Array {
  return encodeWith(m, writeGroupClosePayload, room);
}

/** Decodes a GroupClosePayload; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoGroupClosePayload(bytes: Uint8Array, maxBytes?: number): ProtoGroupClosePayload {
  return decodeWith(bytes, maxBytes, readGroupClosePayload, newGroupClosePayload);
}

// ------------------------------------------------------------------------------------------------
// GroupProposalPayload

export interface ProtoGroupProposalPayload {
  source?: ProtoName;
  mlsProposal: Uint8Array;
}

function newGroupProposalPayload(): ProtoGroupProposalPayload {
  return { mlsProposal: EMPTY_BYTES };
}

/** A GroupProposalPayload with every field at its default, then `init` applied (shallow). */
export function createProtoGroupProposalPayload(init?: Partial<ProtoGroupProposalPayload>): ProtoGroupProposalPayload {
  return init === undefined ? newGroupProposalPayload() : { ...newGroupProposalPayload(), ...init };
}

function writeGroupProposalPayload(w: Writer, m: ProtoGroupProposalPayload): void {
  if (m.source !== undefined) {
    w.tag(10);
    const s = w.begin();
    writeName(w, m.source);
    w.end(s);
  }
  if (m.mlsProposal.length !== 0) {
    w.tag(18);
    w.bytes(m.mlsProposal);
  }
}

function readGroupProposalPayload(r: Reader, m: ProtoGroupProposalPayload): ProtoGroupProposalPayload {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 10: {
        const e = r.enter();
        m.source = readName(r, m.source ?? newName());
        r.end = e;
        break;
      }
      case 18:
        m.mlsProposal = r.bytes();
        break;
      default:
        r.unknown(t, [1, 2]);
    }
  }
  return m;
}

/** Encodes a GroupProposalPayload exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoGroupProposalPayload(m: ProtoGroupProposalPayload, room = 0): Uint8Array {
  return encodeWith(m, writeGroupProposalPayload, room);
}

/** Decodes a GroupProposalPayload; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoGroupProposalPayload(bytes: Uint8Array, maxBytes?: number): ProtoGroupProposalPayload {
  return decodeWith(bytes, maxBytes, readGroupProposalPayload, newGroupProposalPayload);
}

// ------------------------------------------------------------------------------------------------
// GroupAckPayload

export interface ProtoGroupAckPayload {}

function newGroupAckPayload(): ProtoGroupAckPayload {
  return {};
}

/** A GroupAckPayload with every field at its default, then `init` applied (shallow). */
export function createProtoGroupAckPayload(init?: Partial<ProtoGroupAckPayload>): ProtoGroupAckPayload {
  return init === undefined ? newGroupAckPayload() : { ...newGroupAckPayload(), ...init };
}

function writeGroupAckPayload(_w: Writer, _m: ProtoGroupAckPayload): void {}

function readGroupAckPayload(r: Reader, m: ProtoGroupAckPayload): ProtoGroupAckPayload {
  while (r.pos < r.end) r.unknown(r.tag(), []);
  return m;
}

/** Encodes a GroupAckPayload exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoGroupAckPayload(m: ProtoGroupAckPayload, room = 0): Uint8Array {
  return encodeWith(m, writeGroupAckPayload, room);
}

/** Decodes a GroupAckPayload; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoGroupAckPayload(bytes: Uint8Array, maxBytes?: number): ProtoGroupAckPayload {
  return decodeWith(bytes, maxBytes, readGroupAckPayload, newGroupAckPayload);
}

// ------------------------------------------------------------------------------------------------
// GroupNackPayload

export interface ProtoGroupNackPayload {}

function newGroupNackPayload(): ProtoGroupNackPayload {
  return {};
}

/** A GroupNackPayload with every field at its default, then `init` applied (shallow). */
export function createProtoGroupNackPayload(init?: Partial<ProtoGroupNackPayload>): ProtoGroupNackPayload {
  return init === undefined ? newGroupNackPayload() : { ...newGroupNackPayload(), ...init };
}

function writeGroupNackPayload(_w: Writer, _m: ProtoGroupNackPayload): void {}

function readGroupNackPayload(r: Reader, m: ProtoGroupNackPayload): ProtoGroupNackPayload {
  while (r.pos < r.end) r.unknown(r.tag(), []);
  return m;
}

/** Encodes a GroupNackPayload exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoGroupNackPayload(m: ProtoGroupNackPayload, room = 0): Uint8Array {
  return encodeWith(m, writeGroupNackPayload, room);
}

/** Decodes a GroupNackPayload; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoGroupNackPayload(bytes: Uint8Array, maxBytes?: number): ProtoGroupNackPayload {
  return decodeWith(bytes, maxBytes, readGroupNackPayload, newGroupNackPayload);
}

// ------------------------------------------------------------------------------------------------
// HeartbeatPayload

export interface ProtoHeartbeatPayload {
  epoch: bigint;
}

function newHeartbeatPayload(): ProtoHeartbeatPayload {
  return { epoch: 0n };
}

/** A HeartbeatPayload with every field at its default, then `init` applied (shallow). */
export function createProtoHeartbeatPayload(init?: Partial<ProtoHeartbeatPayload>): ProtoHeartbeatPayload {
  return init === undefined ? newHeartbeatPayload() : { ...newHeartbeatPayload(), ...init };
}

function writeHeartbeatPayload(w: Writer, m: ProtoHeartbeatPayload): void {
  if (m.epoch !== 0n) {
    w.tag(8);
    w.uint64(m.epoch);
  }
}

function readHeartbeatPayload(r: Reader, m: ProtoHeartbeatPayload): ProtoHeartbeatPayload {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 8:
        m.epoch = r.uint64();
        break;
      default:
        r.unknown(t, [1]);
    }
  }
  return m;
}

/** Encodes a HeartbeatPayload exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoHeartbeatPayload(m: ProtoHeartbeatPayload, room = 0): Uint8Array {
  return encodeWith(m, writeHeartbeatPayload, room);
}

/** Decodes a HeartbeatPayload; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoHeartbeatPayload(bytes: Uint8Array, maxBytes?: number): ProtoHeartbeatPayload {
  return decodeWith(bytes, maxBytes, readHeartbeatPayload, newHeartbeatPayload);
}

// ------------------------------------------------------------------------------------------------
// UpdateParticipantStatePayload

export interface ProtoUpdateParticipantStatePayload {
  participant?: ProtoName;
  newState: ParticipantState;
  epoch: bigint;
}

function newUpdateParticipantStatePayload(): ProtoUpdateParticipantStatePayload {
  return { newState: 0, epoch: 0n };
}

/** A UpdateParticipantStatePayload with every field at its default, then `init` applied (shallow). */
export function createProtoUpdateParticipantStatePayload(init?: Partial<ProtoUpdateParticipantStatePayload>): ProtoUpdateParticipantStatePayload {
  return init === undefined ? newUpdateParticipantStatePayload() : { ...newUpdateParticipantStatePayload(), ...init };
}

function writeUpdateParticipantStatePayload(w: Writer, m: ProtoUpdateParticipantStatePayload): void {
  if (m.participant !== undefined) {
    w.tag(10);
    const s = w.begin();
    writeName(w, m.participant);
    w.end(s);
  }
  if (m.newState !== 0) {
    w.tag(16);
    w.int32(m.newState);
  }
  if (m.epoch !== 0n) {
    w.tag(24);
    w.uint64(m.epoch);
  }
}

function readUpdateParticipantStatePayload(r: Reader, m: ProtoUpdateParticipantStatePayload): ProtoUpdateParticipantStatePayload {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 10: {
        const e = r.enter();
        m.participant = readName(r, m.participant ?? newName());
        r.end = e;
        break;
      }
      case 16:
        m.newState = r.int32() as ParticipantState;
        break;
      case 24:
        m.epoch = r.uint64();
        break;
      default:
        r.unknown(t, [1, 2, 3]);
    }
  }
  return m;
}

/** Encodes a UpdateParticipantStatePayload exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoUpdateParticipantStatePayload(m: ProtoUpdateParticipantStatePayload, room = 0): Uint8Array {
  return encodeWith(m, writeUpdateParticipantStatePayload, room);
}

/** Decodes a UpdateParticipantStatePayload; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoUpdateParticipantStatePayload(bytes: Uint8Array, maxBytes?: number): ProtoUpdateParticipantStatePayload {
  return decodeWith(bytes, maxBytes, readUpdateParticipantStatePayload, newUpdateParticipantStatePayload);
}

// ------------------------------------------------------------------------------------------------
// RejoinRequestPayload

export interface ProtoRejoinRequestPayload {
  participant?: ProtoName;
  keyPackage: Uint8Array;
}

function newRejoinRequestPayload(): ProtoRejoinRequestPayload {
  return { keyPackage: EMPTY_BYTES };
}

/** A RejoinRequestPayload with every field at its default, then `init` applied (shallow). */
export function createProtoRejoinRequestPayload(init?: Partial<ProtoRejoinRequestPayload>): ProtoRejoinRequestPayload {
  return init === undefined ? newRejoinRequestPayload() : { ...newRejoinRequestPayload(), ...init };
}

function writeRejoinRequestPayload(w: Writer, m: ProtoRejoinRequestPayload): void {
  if (m.participant !== undefined) {
    w.tag(10);
    const s = w.begin();
    writeName(w, m.participant);
    w.end(s);
  }
  if (m.keyPackage.length !== 0) {
    w.tag(18);
    w.bytes(m.keyPackage);
  }
}

function readRejoinRequestPayload(r: Reader, m: ProtoRejoinRequestPayload): ProtoRejoinRequestPayload {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 10: {
        const e = r.enter();
        m.participant = readName(r, m.participant ?? newName());
        r.end = e;
        break;
      }
      case 18:
        m.keyPackage = r.bytes();
        break;
      default:
        r.unknown(t, [1, 2]);
    }
  }
  return m;
}

/** Encodes a RejoinRequestPayload exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoRejoinRequestPayload(m: ProtoRejoinRequestPayload, room = 0): Uint8Array {
  return encodeWith(m, writeRejoinRequestPayload, room);
}

/** Decodes a RejoinRequestPayload; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoRejoinRequestPayload(bytes: Uint8Array, maxBytes?: number): ProtoRejoinRequestPayload {
  return decodeWith(bytes, maxBytes, readRejoinRequestPayload, newRejoinRequestPayload);
}

// ------------------------------------------------------------------------------------------------
// RejoinReplyPayload

export interface ProtoRejoinReplyPayload {
  commitId: number;
  mlsContent: Uint8Array;
}

function newRejoinReplyPayload(): ProtoRejoinReplyPayload {
  return { commitId: 0, mlsContent: EMPTY_BYTES };
}

/** A RejoinReplyPayload with every field at its default, then `init` applied (shallow). */
export function createProtoRejoinReplyPayload(init?: Partial<ProtoRejoinReplyPayload>): ProtoRejoinReplyPayload {
  return init === undefined ? newRejoinReplyPayload() : { ...newRejoinReplyPayload(), ...init };
}

function writeRejoinReplyPayload(w: Writer, m: ProtoRejoinReplyPayload): void {
  if (m.commitId !== 0) {
    w.tag(8);
    w.uint32(m.commitId);
  }
  if (m.mlsContent.length !== 0) {
    w.tag(18);
    w.bytes(m.mlsContent);
  }
}

function readRejoinReplyPayload(r: Reader, m: ProtoRejoinReplyPayload): ProtoRejoinReplyPayload {
  while (r.pos < r.end) {
    const t = r.tag();
    switch (t) {
      case 8:
        m.commitId = r.uint32();
        break;
      case 18:
        m.mlsContent = r.bytes();
        break;
      default:
        r.unknown(t, [1, 2]);
    }
  }
  return m;
}

/** Encodes a RejoinReplyPayload exactly as prost does; `room` free bytes are kept before it (see encodeWith). */
export function encodeProtoRejoinReplyPayload(m: ProtoRejoinReplyPayload, room = 0): Uint8Array {
  return encodeWith(m, writeRejoinReplyPayload, room);
}

/** Decodes a RejoinReplyPayload; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */
export function decodeProtoRejoinReplyPayload(bytes: Uint8Array, maxBytes?: number): ProtoRejoinReplyPayload {
  return decodeWith(bytes, maxBytes, readRejoinReplyPayload, newRejoinReplyPayload);
}
