// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * MLS objects on the wire (TLS-serialised `MLSMessage`, as `MlsPayload.mls_content`, `JoinReply.key_package`
 * and `ApplicationPayload.blob` carry them) and the one place where ts-mls failures become SlimErrors.
 */

import { decodeMlsMessage, encodeMlsMessage, type MLSMessage } from "ts-mls";
import { SlimError } from "../errors.js";

type WireFormat = MLSMessage["wireformat"];
export type MlsMessageOf<W extends WireFormat> = MLSMessage & { wireformat: W };

const WIRE_NAMES: Record<WireFormat, string> = {
  mls_public_message: "PublicMessage",
  mls_private_message: "PrivateMessage",
  mls_welcome: "Welcome",
  mls_group_info: "GroupInfo",
  mls_key_package: "KeyPackage",
};

/**
 * Decode exactly one MLSMessage of the expected wire format filling all of `bytes`, at most
 * `maxBytes` long. Anything else is SlimError("MLS"); never throws anything but SlimError.
 */
export function decodeMls<W extends WireFormat>(bytes: Uint8Array, wireformat: W | readonly W[], maxBytes: number): MlsMessageOf<W> {
  const wanted: readonly W[] = typeof wireformat === "string" ? [wireformat] : wireformat;
  const what = wanted.map((w) => WIRE_NAMES[w]).join(" or ");
  if (!(bytes instanceof Uint8Array)) throw new SlimError("MLS", `${what}: expected bytes`);
  if (bytes.length > maxBytes) throw new SlimError("MLS", `${what} of ${bytes.length} bytes exceeds the ${maxBytes}-byte limit`);
  let decoded: [MLSMessage, number] | undefined;
  try {
    decoded = decodeMlsMessage(bytes, 0);
  } catch (err) {
    throw new SlimError("MLS", `malformed ${what}`, { cause: err });
  }
  if (decoded === undefined) throw new SlimError("MLS", `malformed ${what}`);
  const [message, consumed] = decoded;
  if (consumed !== bytes.length) throw new SlimError("MLS", `malformed ${what}: ${bytes.length - consumed} trailing bytes`);
  if (message.version !== "mls10") throw new SlimError("MLS", `${what}: unsupported protocol version ${String(message.version)}`);
  if (!(wanted as readonly WireFormat[]).includes(message.wireformat)) throw new SlimError("MLS", `expected a ${what}, got a ${WIRE_NAMES[message.wireformat] ?? "message of unknown type"}`);
  return message as MlsMessageOf<W>;
}

export function encodeMls(message: MLSMessage): Uint8Array {
  return encodeMlsMessage(message);
}

/** Map anything thrown by ts-mls (or by us) into SlimError("MLS"), keeping SlimErrors as they are. */
export function mlsFailure(err: unknown, context: string): SlimError {
  if (err instanceof SlimError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new SlimError("MLS", `${context}: ${reason}`, { cause: err });
}

export async function guarded<T>(context: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw mlsFailure(err, context);
  }
}
