// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// One message the datapath hands to several links in a row (fanout > 1): on every link
// only the header MAC differs, so the MAC preimage after the link id and the encoding
// are done once and each further link gets a copy with its own MAC patched in.

import { copyWithRoom } from "../wire/proto-runtime.js";
import { encodeProtoMessage, type ProtoMessage } from "../wire/gen/dataplane.js";
import { LINK_FRAMING_ROOM } from "./frame-stream.js";
import { MAC_BYTES } from "./header-mac.js";

export class SharedSend {
  /** The header's MAC preimage after the link id (read and written by HeaderMacer.sign). */
  macTail: Uint8Array | undefined;
  private signed: Uint8Array | undefined;
  /** Offset of the header MAC in `signed`; -1 when it was not found (then every link encodes). */
  private macAt = -1;
  private unsigned: Uint8Array | undefined;

  constructor(readonly msg: ProtoMessage) {}

  /** The encoded message for one link (`mac`: the MAC just set in its header, if any), with framing room. */
  encode(msg: ProtoMessage, mac: Uint8Array | undefined): Uint8Array {
    if (msg !== this.msg) return encodeProtoMessage(msg, LINK_FRAMING_ROOM);
    if (mac === undefined) {
      if (this.unsigned === undefined) return (this.unsigned = encodeProtoMessage(msg, LINK_FRAMING_ROOM));
      return copyWithRoom(this.unsigned, LINK_FRAMING_ROOM);
    }
    if (this.signed === undefined) {
      const bytes = encodeProtoMessage(msg, LINK_FRAMING_ROOM);
      this.signed = bytes;
      this.macAt = macOffset(bytes, mac);
      return bytes;
    }
    if (this.macAt < 0) return encodeProtoMessage(msg, LINK_FRAMING_ROOM);
    const bytes = copyWithRoom(this.signed, LINK_FRAMING_ROOM);
    bytes.set(mac, this.macAt);
    return bytes;
  }
}

/**
 * Where the 32-byte MAC sits in an encoded message: its first occurrence, preceded by its
 * length byte. A keyed MAC of this link cannot be planted earlier in the message by a sender.
 */
function macOffset(bytes: Uint8Array, mac: Uint8Array): number {
  const at = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).indexOf(mac);
  return at > 0 && mac.length === MAC_BYTES && bytes[at - 1] === MAC_BYTES ? at : -1;
}
