// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

export { SlimAuthError, isSlimAuthError } from "./errors.js";
export type { AuthFailureReason } from "./errors.js";
export type { IdentityProvider, IdentityVerifier, TokenOptions, VerifiedIdentity, VerifiedToken, VerifyOptions } from "./types.js";
export { pubkeyClaim, publicKeyFromClaims, requireIdentity } from "./identity.js";
export { P256SigningKey, verifyWithRawPublicKey } from "./p256.js";
export {
  SHARED_SECRET_CLOCK_SKEW_SECONDS,
  SHARED_SECRET_MIN_BYTES,
  SHARED_SECRET_REPLAY_CACHE_SIZE,
  SHARED_SECRET_VALIDITY_SECONDS,
  SharedSecretProvider,
  SharedSecretVerifier,
  sharedSecretClaimsField,
} from "./shared-secret.js";
export type { SharedSecretProviderOptions, SharedSecretVerifierOptions } from "./shared-secret.js";
export { JWT_ALGORITHMS, JWT_DEFAULT_DURATION_SECONDS, JWT_DEFAULT_LEEWAY_SECONDS, JwtProvider, JwtVerifier, jwtClaimsSchema } from "./jwt.js";
export type { JwtAlgorithm, JwtKey, JwtProviderOptions, JwtRequiredClaim, JwtVerifierOptions } from "./jwt.js";
export {
  HEADER_AAD_VERSION,
  applyHeaderSignature,
  buildHeaderAad,
  encodeHeaderAad,
  isCommandMessageType,
  signHeader,
  verifyHeaderSignature,
  verifyPublishIdentity,
} from "./header-signature.js";
export type { HeaderAadFields, HeaderAadInput, HeaderSigner, VerifyPublishIdentityOptions } from "./header-signature.js";
export {
  AUTHORIZATION_HEADER,
  authorizationFromMetadata,
  basicAuthorization,
  bearerAuthorization,
  clientAuthHeaders,
  createConnectionAuthChecker,
} from "./connection-auth.js";
export type {
  AuthMetadata,
  BearerTokenSource,
  BearerTokenVerifier,
  ClientConnectionAuth,
  ConnectionAuthResult,
  ServerConnectionAuth,
} from "./connection-auth.js";
