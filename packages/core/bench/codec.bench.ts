// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Encode/decode of a captured 498-byte Publish (official app -> node, MSG with a 22-byte app payload).
// Run: npx vitest bench --run --project unit packages/core/bench/codec.bench.ts

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { bench, describe } from "vitest";
import { decodeProtoMessage, encodeProtoMessage } from "../src/wire/gen/dataplane.js";

const CAPTURE = fileURLToPath(new URL("../../../../shared/spikes/p3-security/captures/capture_nomls_.jsonl", import.meta.url));
if (!existsSync(CAPTURE)) throw new Error(`missing ${CAPTURE}: the shared/ directory must sit next to the repository root`);

const frame = readFileSync(CAPTURE, "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) => JSON.parse(l) as { seq?: number; raw?: string })
  .find((o) => o.seq === 24);
if (frame?.raw === undefined) throw new Error("frame seq 24 not found in capture_nomls_.jsonl");
const bytes = new Uint8Array(Buffer.from(frame.raw, "base64"));
const message = decodeProtoMessage(bytes);

describe(`Publish, ${bytes.length} bytes`, () => {
  bench("decode", () => {
    decodeProtoMessage(bytes);
  });
  bench("encode", () => {
    encodeProtoMessage(message);
  });
  bench("decode + re-encode (routing hot path)", () => {
    encodeProtoMessage(decodeProtoMessage(bytes));
  });
});
