// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * Every failure in slim-ts surfaces as a {@link SlimError} with a string code.
 *
 * Mapping to the official bindings' error tags (`SlimError_Tags` in @agntcy/slim-bindings):
 * PROTOCOL, CONNECTION -> ServiceError; SESSION, SESSION_NOT_FOUND -> SessionError;
 * RECEIVE -> ReceiveError; SEND -> SendError; AUTH -> AuthError; CONFIG, INVALID_ARGUMENT -> ConfigError;
 * TIMEOUT -> Timeout; MLS -> MlsError; the rest -> InternalError.
 */
export type SlimErrorCode =
  | "INVALID_ARGUMENT"
  | "CONFIG"
  | "TIMEOUT"
  | "ABORTED"
  | "CLOSED"
  | "CONNECTION"
  | "PROTOCOL"
  | "MESSAGE_TOO_LARGE"
  | "INTEGRITY"
  | "SESSION"
  | "SESSION_NOT_FOUND"
  | "SEND"
  | "RECEIVE"
  | "AUTH"
  | "MLS"
  | "SLOW_CONSUMER"
  /** The app's encrypted store: wrong passphrase, a damaged record, a store in use, a failed write. */
  | "STORAGE"
  | "INTERNAL";

const BRAND = Symbol.for("slim-ts.error");

export interface SlimErrorOptions {
  cause?: unknown;
}

export class SlimError extends Error {
  override readonly name = "SlimError";
  readonly code: SlimErrorCode;

  constructor(code: SlimErrorCode, message: string, options?: SlimErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** Works across bundles and duplicated installs: recognises any object carrying the brand. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  /** Wrap anything thrown into a SlimError, keeping the original as `cause`. */
  static from(err: unknown, fallback: SlimErrorCode = "INTERNAL"): SlimError {
    if (err instanceof SlimError) return err;
    const message = err instanceof Error ? err.message : String(err);
    return new SlimError(fallback, message, { cause: err });
  }
}

export function isSlimError(value: unknown, code?: SlimErrorCode): value is SlimError {
  return value instanceof SlimError && (code === undefined || value.code === code);
}
