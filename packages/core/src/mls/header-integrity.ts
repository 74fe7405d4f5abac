// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * Header integrity of encrypted application messages, as the official session layer checks it: the
 * sender encrypts with the prost-encoded `HeaderIntegrityAad` of the outgoing message as MLS
 * authenticated data; after decrypting, the receiver rebuilds the AAD from the received headers and
 * compares the bytes. `MlsSettings.header_integrity_validation_percent` (JoinRequest; bindings default
 * 100) decides how often: 0 never, 100 or more always, otherwise for a random share of the messages.
 * A mismatch drops the message.
 */

import { randomInt } from "node:crypto";
import { SlimError } from "../errors.js";
import { bytesEqual } from "./tree.js";

/** Whether this message's AAD should be compared, for a validation percentage. */
export function shouldCheckHeaderIntegrity(percent: number, draw: () => number = () => randomInt(100)): boolean {
  if (!(percent > 0)) return false;
  if (percent >= 100) return true;
  return draw() < percent;
}

/** Throw SlimError("MLS") unless the decrypted AAD equals the one rebuilt from the headers. */
export function checkHeaderIntegrity(expected: Uint8Array, received: Uint8Array): void {
  if (!bytesEqual(expected, received)) throw new SlimError("MLS", "header integrity mismatch: the headers differ from what the sender authenticated");
}
