// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { readFile } from "node:fs/promises";
import { JWT_ALGORITHMS, SlimError } from "@slim-ts/core";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, "expected host:port, e.g. 127.0.0.1:46357");

const pemSource = z.string().min(1).describe("path to a PEM file");

export const TlsServerSchema = z.strictObject({
  cert: pemSource,
  key: pemSource,
  /** CA bundle used to verify client certificates (mTLS). */
  ca: pemSource.optional(),
  /** Refuse clients without a certificate signed by `ca`. Default: true when `ca` is set. */
  requireClientCert: z.boolean().optional(),
});

export const LinkConfigSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: "link url must be http:// or https:// with host and port" }),
  /** `peer` exchanges routes both ways (node to node); `edge` only sends ours upstream. */
  kind: z.enum(["peer", "edge"]).default("peer"),
  tls: z
    .strictObject({
      ca: pemSource.optional(),
      cert: pemSource.optional(),
      key: pemSource.optional(),
      serverName: z.string().optional(),
    })
    .optional(),
  /**
   * Link-level authentication towards that node: Basic credentials, a fixed Bearer token (a JWT),
   * or `{ kind: "bearer", secret }`: a fresh shared-secret identity token per connect, which our
   * nodes' `auth: { kind: "bearer", secret }` accepts.
   */
  auth: z
    .union([
      z.strictObject({ kind: z.literal("basic"), username: z.string().min(1), password: z.string().min(1) }),
      z.strictObject({ kind: z.literal("bearer"), token: z.string().min(1) }),
      z.strictObject({ kind: z.literal("bearer"), secret: z.string().min(32, "the shared secret must be at least 32 characters") }),
    ])
    .optional(),
});

export const NodeConfigSchema = z.strictObject({
  nodeId: z.string().min(1).max(256).optional(),
  /** Where the gRPC data-plane server listens; `127.0.0.1:0` picks a free port. */
  listen: hostPort.default("127.0.0.1:0"),
  tls: TlsServerSchema.optional(),
  /** Accept links that offer no header MAC key (official `require_header_mac: false`). */
  lenient: z.boolean().default(false),
  links: z.array(LinkConfigSchema).default([]),
  /** Serve JSON status over HTTP at this host:port (GET /status). */
  status: hostPort.optional(),
  /**
   * Require link-level authentication from dialers: Basic credentials; a Bearer token that is a
   * shared-secret identity token signed with `secret`; or a Bearer JWT (official clients' `Jwt`
   * auth) verified with `key` (HS*: the shared secret; others: a PEM public key, inline or a file),
   * its `aud` intersecting `audience` and its `iss` one of `issuer` when given.
   */
  auth: z
    .discriminatedUnion("kind", [
      z.strictObject({ kind: z.literal("basic"), username: z.string().min(1), password: z.string().min(1) }),
      z.strictObject({ kind: z.literal("bearer"), secret: z.string().min(32, "the shared secret must be at least 32 characters") }),
      z.strictObject({
        kind: z.literal("jwt"),
        algorithm: z.enum(JWT_ALGORITHMS),
        key: z.union([z.strictObject({ data: z.string().min(1) }), z.strictObject({ file: z.string().min(1) })]),
        audience: z.array(z.string().min(1)).min(1).optional(),
        issuer: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
      }),
    ])
    .optional(),
  /** HTTP/2 keepalive towards every dialer (official defaults: 120 s / 20 s). */
  keepalive: z.strictObject({ timeMs: z.int().positive(), timeoutMs: z.int().positive() }).default({ timeMs: 120_000, timeoutMs: 20_000 }),
  /** Test-only: drop a fraction of publishes arriving from links (seeded, reproducible). */
  faults: z.strictObject({ dropRatio: z.number().min(0).max(1), seed: z.int().optional() }).optional(),
  limits: z
    .strictObject({
      maxLinks: z.int().positive().default(1_000),
      maxSubscriptionsPerConnection: z.int().positive().default(10_000),
      negotiationTimeoutMs: z.int().positive().default(5_000),
    })
    .prefault({}),
});

export type NodeConfigInput = z.input<typeof NodeConfigSchema>;
export type NodeConfig = z.output<typeof NodeConfigSchema>;

export function parseNodeConfig(input: unknown, source = "node options"): NodeConfig {
  const r = NodeConfigSchema.safeParse(input);
  if (!r.success) throw new SlimError("CONFIG", `invalid ${source}:\n${z.prettifyError(r.error)}`, { cause: r.error });
  return r.data;
}

/** Load a YAML or JSON config file and validate it. */
export async function loadNodeConfigFile(path: string): Promise<NodeConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new SlimError("CONFIG", `cannot read config file ${path}`, { cause });
  }
  let data: unknown;
  try {
    data = path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (cause) {
    throw new SlimError("CONFIG", `config file ${path} is not valid ${path.endsWith(".json") ? "JSON" : "YAML"}: ${(cause as Error).message}`, { cause });
  }
  return parseNodeConfig(data ?? {}, `config file ${path}`);
}
