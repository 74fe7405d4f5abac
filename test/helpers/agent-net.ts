// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// For the adapters' tests: apps on one embedded node in this process, each with an agent hub accepting
// sessions, torn down after every test.

import { createApp, type SlimApp } from "@slim-ts/core";
import { startNode, type SlimNode } from "@slim-ts/node-embedded";
import { AgentHub, type AgentHubOptions } from "@slim-ts/core";

const SECRET = "adapter-tests-shared-secret-0123456789abcdef";
export const FAST = { intervalMs: 100, maxRetries: 5 };

export interface Net {
  node: SlimNode;
  agent(name: string, options?: AgentHubOptions): Promise<{ app: SlimApp; hub: AgentHub }>;
  close(): Promise<void>;
}

export async function testNet(): Promise<Net> {
  const node = await startNode({ listen: "127.0.0.1:0" });
  const apps: SlimApp[] = [];
  const hubs: AgentHub[] = [];
  const ctl = new AbortController();
  return {
    node,
    async agent(name, options = {}) {
      const app = await createApp({ name, secret: SECRET, processor: node.processor });
      apps.push(app);
      const hub = new AgentHub(app, { reliable: FAST, ...options });
      hubs.push(hub);
      void hub.accept({ signal: ctl.signal }).catch(() => undefined);
      return { app, hub };
    },
    async close() {
      ctl.abort();
      await Promise.all(hubs.map((h) => h.close()));
      await Promise.all(apps.map((a) => a.close()));
      await node.close();
    },
  };
}
