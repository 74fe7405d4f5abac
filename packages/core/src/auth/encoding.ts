// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * Strict base64 decoding as the official implementation applies it (Rust `base64` crate engines):
 * URL_SAFE_NO_PAD rejects padding and non-zero trailing bits; STANDARD requires canonical padding.
 * Buffer's decoders are lenient, so a decode is accepted only if re-encoding gives the input back.
 */
export function decodeBase64UrlNoPad(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64url");
  return bytes.toString("base64url") === text ? new Uint8Array(bytes) : undefined;
}

export function decodeBase64Standard(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64") === text ? new Uint8Array(bytes) : undefined;
}

export const encodeBase64UrlNoPad = (bytes: Uint8Array | string): string =>
  (typeof bytes === "string" ? Buffer.from(bytes, "utf8") : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString("base64url");

export const encodeBase64Standard = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The seconds clock the official code uses (`as_secs()` truncates). */
export function nowSeconds(nowMs: number | undefined): number {
  return Math.floor((nowMs ?? Date.now()) / 1000);
}
