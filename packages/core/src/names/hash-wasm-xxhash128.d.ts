// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// hash-wasm publishes a bundle per algorithm (CommonJS/UMD) without type declarations of its own.
declare module "hash-wasm/dist/xxhash128.umd.min.js" {
  export const xxhash128: typeof import("hash-wasm").xxhash128;
}
