// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

export { SlimError, isSlimError } from "./errors.js";
export type { SlimErrorCode, SlimErrorOptions } from "./errors.js";
export { Name, ANY_ID, componentHash, formatId, parseId } from "./names/name.js";
export { appIdFromTokenId } from "./names/app-id.js";
export { noopLogger, loggerFromEnv } from "./log.js";
export type { Logger } from "./log.js";
export { Endpoint } from "./endpoint.js";
export type { EndpointOptions, PublishOptions } from "./endpoint.js";
export type { AbortOptions } from "./util/abort.js";
export { createApp, SlimApp, AppOptionsSchema } from "./app.js";
export type { AppOptions } from "./app.js";
export { P2PSession } from "./session/p2p.js";
export { GroupSession } from "./session/group/session.js";
export type { GroupRole } from "./session/group/session.js";
export { deriveGroupChannels } from "./session/group/channels.js";
export type { GroupChannels } from "./session/group/channels.js";
export type { AnySession } from "./session/session-layer.js";
export type { SessionMessage, SessionOptions, SessionPublishOptions, ReliableOptions, SessionKind, ParticipantEvent } from "./session/types.js";
export { ReceivedMessage } from "./session/message.js";
export type { CloseOptions } from "./session/group/session.js";
export {
  SharedSecretProvider,
  SharedSecretVerifier,
  JwtProvider,
  JwtVerifier,
  JWT_ALGORITHMS,
  SlimAuthError,
  isSlimAuthError,
  basicAuthorization,
  bearerAuthorization,
  createConnectionAuthChecker,
} from "./auth/index.js";
export type { BearerTokenSource, ClientConnectionAuth, IdentityProvider, IdentityVerifier, VerifiedIdentity, VerifiedToken } from "./auth/index.js";
export { SessionMux, type Correlation, type ServeOptions } from "./patterns/mux.js";
export type { CoalesceOptions } from "./patterns/stream-batch.js";
export type { IncomingStream, MuxableSession, RequestHandler } from "./patterns/mux.js";
export * from "./voting/index.js";
export * from "./agents/index.js";
