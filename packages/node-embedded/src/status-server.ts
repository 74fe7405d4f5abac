// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { createServer } from "node:http";
import { SlimError } from "@slim-ts/core";

export interface StatusServer {
  url: string;
  close(): Promise<void>;
}

/** GET /status returns the node status as JSON; anything else is 404. */
export function startStatusServer(listen: string, status: () => unknown): Promise<StatusServer> {
  const i = listen.lastIndexOf(":");
  const host = listen.slice(0, i).replace(/^\[|\]$/g, "");
  const port = Number(listen.slice(i + 1));
  const server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url !== "/status" && req.url !== "/")) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(status(), null, 2));
  });
  return new Promise((resolve, reject) => {
    server.once("error", (err) => reject(new SlimError("CONFIG", `cannot serve status on ${listen}: ${err.message}`, { cause: err })));
    server.listen(port, host, () => {
      const addr = server.address();
      const p = typeof addr === "object" && addr !== null ? addr.port : port;
      resolve({
        url: `http://${host.includes(":") ? `[${host}]` : host}:${p}/status`,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}
