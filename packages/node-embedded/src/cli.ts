// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// slim-ts-node: run a SLIM node standalone, or query one's status.

import { parseArgs } from "node:util";
import { SlimError } from "@slim-ts/core";
import { loadNodeConfigFile, parseNodeConfig, type NodeConfigInput } from "./config.js";
import { appCommand } from "./app-cli.js";
import { startNode } from "./node.js";

const USAGE = `usage:
  slim-ts-node [--listen host:port] [--link url]... [--tls-cert f --tls-key f [--tls-ca f]]
               [--config file.yaml|json] [--lenient] [--status host:port] [--node-id id]
  slim-ts-node status <status-url>      print a node's links, subscriptions and counters
  slim-ts-node app echo|send ...        command-line SLIM apps (slim-ts-node app --help)

  --listen     where the data plane listens (default 127.0.0.1:46357)
  --link       dial another SLIM node (ours or official) and exchange routes; repeatable
  --tls-cert/--tls-key   serve TLS; --tls-ca   require client certificates signed by this CA
  --config     YAML or JSON node config; flags override its fields
  --lenient    accept links that offer no header MAC key
  --status     serve JSON status over HTTP (GET /status) on host:port`;

async function status(url: string | undefined): Promise<number> {
  if (url === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const target = url.includes("/status") ? url : `${url.replace(/\/$/, "")}/status`;
  const res = await fetch(target, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new SlimError("CONNECTION", `status request to ${target} failed: HTTP ${res.status}`);
  process.stdout.write(`${JSON.stringify(await res.json(), null, 2)}\n`);
  return 0;
}

async function run(argv: string[]): Promise<number> {
  if (argv[0] === "status") return status(argv[1]);
  if (argv[0] === "app") return appCommand(argv.slice(1));
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: "string" },
      link: { type: "string", multiple: true },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "tls-ca": { type: "string" },
      config: { type: "string" },
      lenient: { type: "boolean" },
      status: { type: "string" },
      "node-id": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const base: NodeConfigInput = values.config === undefined ? { listen: "127.0.0.1:46357" } : await loadNodeConfigFile(values.config);
  const input: NodeConfigInput = { ...base };
  if (values.listen !== undefined) input.listen = values.listen;
  if (values.link !== undefined) input.links = [...(base.links ?? []), ...values.link.map((url) => ({ url }))];
  if (values["tls-cert"] !== undefined || values["tls-key"] !== undefined) {
    input.tls = {
      cert: values["tls-cert"] ?? "",
      key: values["tls-key"] ?? "",
      ...(values["tls-ca"] === undefined ? {} : { ca: values["tls-ca"] }),
    };
  }
  if (values.lenient) input.lenient = true;
  if (values.status !== undefined) input.status = values.status;
  if (values["node-id"] !== undefined) input.nodeId = values["node-id"];
  const node = await startNode(parseNodeConfig(input, "command line"));
  process.stdout.write(
    `slim-ts-node ${node.nodeId} listening on ${node.url}${node.statusUrl === undefined ? "" : ` (status ${node.statusUrl})`}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      process.stdout.write(`received ${sig}, shutting down\n`);
      resolve();
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  const forced = setTimeout(() => process.exit(1), 5_000);
  forced.unref();
  await node.close();
  return 0;
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  try {
    process.exitCode = await run(argv);
  } catch (err) {
    const e = SlimError.from(err, "CONFIG");
    process.stderr.write(`slim-ts-node: ${e.message}\n`);
    process.exitCode = e.code === "CONFIG" || e.code === "INVALID_ARGUMENT" ? 2 : 1;
  }
}
