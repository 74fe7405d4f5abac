// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/**
 * @internal Building blocks for sibling packages (node-embedded, adapters) and
 * tests. Not covered by semver: names and shapes may change in any release.
 */
export { MessageProcessor, DEFAULT_TTL, DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION } from "./datapath/processor.js";
export type { ProcessorOptions, ProcessorStats } from "./datapath/processor.js";
export { SubscriptionTable } from "./datapath/subscription-table.js";
export type { RouteKey, SubscriptionRecord } from "./datapath/subscription-table.js";
export type { Connection, ConnectionCounters, ConnectionInfo, ConnectionKind, DropReason } from "./datapath/types.js";
export { Link, MAX_MESSAGE_BYTES } from "./link/link.js";
export type { LinkOptions } from "./link/link.js";
export { DialedLink } from "./link/grpc-client.js";
export type { DialOptions, TlsClientOptions } from "./link/grpc-client.js";
export { openChannelHandler } from "./link/grpc-server.js";
export type { AcceptOptions } from "./link/grpc-server.js";
export { createChannelServer, dialChannel, OPEN_CHANNEL_PATH, GrpcStatus, DEFAULT_SERVER_KEEPALIVE } from "./link/h2/channel.js";
export type { ChannelServer, ChannelServerOptions, ChannelClientOptions, DialedChannel, RequestHeaders } from "./link/h2/channel.js";
export { GRPC_MAX_MESSAGE_BYTES } from "./link/frame-stream.js";
export type { FrameStream } from "./link/frame-stream.js";
export { attachLocal, LocalConnection } from "./link/local.js";
export {
  computeHeaderMac,
  verifyHeaderMac,
  headerMacPreimage,
  deriveLinkKey,
  generateLinkKeyPair,
} from "./link/header-mac.js";
export { linkMessage, negotiationPayload, expectNegotiation } from "./link/negotiation.js";
export { validateMessage, headerOf } from "./wire/validate.js";
export { newHeader, subscribeMessage, subscriptionAckMessage, SLIM_PROTOCOL_VERSION } from "./wire/message.js";
export { toProtoName, fromProtoName, protoNameId } from "./wire/names.js";
export * as proto from "./wire/gen/dataplane.js";
export { AsyncQueue } from "./util/async-queue.js";
export { withDeadline } from "./util/abort.js";
export { xxh64 } from "./names/xxh64.js";
