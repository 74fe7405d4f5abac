// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The one gRPC method of the data plane, with byte-level (de)serializers so that
// decoding stays ours (bounded, never throwing into grpc-js).

import type { ServiceDefinition } from "@grpc/grpc-js";

export const OPEN_CHANNEL_PATH = "/dataplane.proto.v1.DataPlaneService/OpenChannel";

const serialize = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const deserialize = (b: Buffer): Uint8Array => b;

export const dataPlaneService: ServiceDefinition = {
  openChannel: {
    path: OPEN_CHANNEL_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: serialize,
    requestDeserialize: deserialize,
    responseSerialize: serialize,
    responseDeserialize: deserialize,
    originalName: "OpenChannel",
  },
};

export const codec = { serialize, deserialize };
