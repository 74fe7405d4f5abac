// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * Link-level authentication: the `authorization` request header of the gRPC stream, independent of the
 * identity token inside messages.
 *
 * Official client: Basic sends `authorization: Basic <standard base64 of "user:password">` (empty user
 * or password is a config error); JWT / static JWT send `authorization: Bearer <token>` (a fresh token
 * per request for a signing provider).
 * Official server: Basic accepts only the byte-exact expected value (scheme case-sensitive) and answers
 * HTTP 401 with `www-authenticate: Basic` otherwise (gRPC clients see UNAUTHENTICATED); JWT takes the
 * first `authorization` value, scheme `Bearer` case-insensitively followed by a space, verifies the
 * token (no `pubkey` needed) and answers 401 otherwise.
 */

import { createHash, timingSafeEqual } from "node:crypto";
import { SlimError } from "../errors.js";
import { SlimAuthError } from "./errors.js";
import type { VerifiedToken, VerifyOptions } from "./types.js";

export const AUTHORIZATION_HEADER = "authorization";

function checkUserPass(username: string, password: string): void {
  if (typeof username !== "string" || username.length === 0) throw new SlimError("CONFIG", "basic auth username is empty");
  if (typeof password !== "string" || password.length === 0) throw new SlimError("CONFIG", "basic auth password is empty");
}

/** `Basic <base64(user:password)>`; throws SlimError("CONFIG") for an empty username or password. */
export function basicAuthorization(username: string, password: string): string {
  checkUserPass(username, password);
  return `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
}

/** `Bearer <token>`; throws SlimError("INVALID_ARGUMENT") if the token cannot be a header value. */
export function bearerAuthorization(token: string): string {
  if (typeof token !== "string" || token.length === 0 || !/^[\x21-\x7e]+$/.test(token)) {
    throw new SlimError("INVALID_ARGUMENT", "bearer token must be non-empty visible ASCII");
  }
  return `Bearer ${token}`;
}

/** Anything that mints bearer tokens (JwtProvider) or a fixed token string (static JWT). */
export type BearerTokenSource = string | { token(): string } | (() => string);

export type ClientConnectionAuth = { kind: "none" } | { kind: "basic"; username: string; password: string } | { kind: "bearer"; token: BearerTokenSource };

/**
 * The request headers a client adds when opening a link. Call it for every new stream: bearer
 * sources that mint tokens give a fresh one each time.
 */
export function clientAuthHeaders(auth: ClientConnectionAuth): Record<string, string> {
  switch (auth.kind) {
    case "none":
      return {};
    case "basic":
      return { [AUTHORIZATION_HEADER]: basicAuthorization(auth.username, auth.password) };
    case "bearer": {
      const src = auth.token;
      const token = typeof src === "string" ? src : typeof src === "function" ? src() : src.token();
      return { [AUTHORIZATION_HEADER]: bearerAuthorization(token) };
    }
  }
}

/** Verifies a bearer token (JwtVerifier, SharedSecretVerifier, or a custom check). */
export interface BearerTokenVerifier {
  verifyToken(token: string, options?: VerifyOptions): VerifiedToken;
}

export type ServerConnectionAuth = { kind: "none" } | { kind: "basic"; username: string; password: string } | { kind: "bearer"; verifier: BearerTokenVerifier };

/**
 * Request metadata as the transport exposes it: a grpc-js `Metadata` (anything with `get(key)`
 * returning an array), an HTTP/2 header object, or a plain record.
 */
export type AuthMetadata =
  | { get(key: string): ReadonlyArray<string | Uint8Array> | string | undefined }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

export type ConnectionAuthResult =
  | { ok: true; kind: "none" }
  | { ok: true; kind: "basic"; username: string }
  | { ok: true; kind: "bearer"; token: VerifiedToken }
  | {
      ok: false;
      error: SlimAuthError;
      /** HTTP status the official server answers with. */
      httpStatus: 401;
      /** `www-authenticate` header value the official server sends, if any. */
      wwwAuthenticate?: string;
    };

/** First `authorization` value of the request, as the official server reads it. */
export function authorizationFromMetadata(metadata: AuthMetadata): string | undefined {
  let value: unknown;
  if (typeof (metadata as { get?: unknown }).get === "function") {
    value = (metadata as { get(key: string): unknown }).get(AUTHORIZATION_HEADER);
  } else {
    const record = metadata as Readonly<Record<string, unknown>>;
    value = record[AUTHORIZATION_HEADER];
    if (value === undefined) {
      const key = Object.keys(record).find((k) => k.toLowerCase() === AUTHORIZATION_HEADER);
      if (key !== undefined) value = record[key];
    }
  }
  const first: unknown = Array.isArray(value) ? value[0] : value;
  if (typeof first === "string") return first;
  if (first instanceof Uint8Array) return Buffer.from(first).toString("latin1");
  return undefined;
}

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

function fail(reason: "missing-credentials" | "bad-credentials", message: string, wwwAuthenticate?: string, cause?: unknown): ConnectionAuthResult {
  const error = new SlimAuthError(reason, message, cause === undefined ? undefined : { cause });
  return wwwAuthenticate === undefined ? { ok: false, error, httpStatus: 401 } : { ok: false, error, httpStatus: 401, wwwAuthenticate };
}

/**
 * Build the server-side check for new links. The returned function never throws: it reports
 * success or a SlimAuthError (code "AUTH") plus the HTTP answer the official server would give.
 */
export function createConnectionAuthChecker(config: ServerConnectionAuth): (metadata: AuthMetadata, options?: VerifyOptions) => ConnectionAuthResult {
  switch (config.kind) {
    case "none":
      return () => ({ ok: true, kind: "none" });
    case "basic": {
      // The official server does not validate its own config; an empty username or password simply
      // makes the expected header "Basic base64(user:)" etc.
      const expected = digest(`Basic ${Buffer.from(`${config.username}:${config.password}`, "utf8").toString("base64")}`);
      const username = config.username;
      return (metadata) => {
        const actual = authorizationFromMetadata(metadata);
        if (actual === undefined) return fail("missing-credentials", "no authorization header", "Basic");
        // Hash both sides so the comparison is constant-time whatever the lengths.
        if (!timingSafeEqual(digest(actual), expected)) return fail("bad-credentials", "basic credentials do not match", "Basic");
        return { ok: true, kind: "basic", username };
      };
    }
    case "bearer": {
      const verifier = config.verifier;
      return (metadata, options = {}) => {
        const actual = authorizationFromMetadata(metadata);
        if (actual === undefined) return fail("missing-credentials", "no authorization header");
        if (actual.length <= 6 || actual[6] !== " " || actual.slice(0, 6).toLowerCase() !== "bearer") {
          return fail("missing-credentials", "authorization header is not a Bearer credential");
        }
        const token = actual.slice(7).trimStart();
        try {
          return { ok: true, kind: "bearer", token: verifier.verifyToken(token, options) };
        } catch (err) {
          return fail("bad-credentials", `bearer token refused (${err instanceof SlimAuthError ? err.reason : "error"})`, undefined, err);
        }
      };
    }
  }
}
