// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Hubs and ports over real sessions on one in-process datapath: peers opened
// once and reused, envelope ids shared across the wire, the remote-agent
// protocol with ordered token streams, and the neutral tools.

import { afterEach, describe, expect, it } from "vitest";
import { AgentHub } from "../../src/agents/hub.js";
import { askAgent, callAgent, type AgentRun } from "../../src/agents/remote.js";
import { serveAgentRun, type AgentServer } from "../../src/agents/serve.js";
import { agentTools } from "../../src/agents/tools.js";
import { createApp, type SlimApp } from "../../src/app.js";
import { MessageProcessor } from "../../src/datapath/processor.js";
import { isSlimError } from "../../src/errors.js";

const SECRET = "agents-hub-unit-test-shared-secret-0123456789";
const R = { intervalMs: 100, maxRetries: 5 };
let processor: MessageProcessor | undefined;
const apps: SlimApp[] = [];
const closers: Array<{ close(): Promise<void> }> = [];

async function agentApp(name: string, allow: string[] = []): Promise<AgentHub> {
  processor ??= new MessageProcessor();
  const app = await createApp({ name, secret: SECRET, processor });
  apps.push(app);
  const hub = new AgentHub(app, { allow, reliable: R });
  closers.push(hub);
  return hub;
}

afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c.close()));
  await Promise.all(apps.splice(0).map((a) => a.close()));
  processor?.close();
  processor = undefined;
});

/** Counts to n, one token each, then answers with the last user turn. */
const counting =
  (n: number): AgentRun =>
  async function* (req) {
    for (let i = 1; i <= n; i++) yield `${i} `;
    yield { final: `asked: ${req.messages.at(-1)!.content}` };
  };

describe("AgentHub", () => {
  it("opens a peer session once and logs sends under the id the receiver sees", async () => {
    const alice = await agentApp("org/ns/alice", ["org/ns/bob"]);
    const bob = await agentApp("org/ns/bob");
    closers.push({ close: () => Promise.resolve() });
    const accepting = new AbortController();
    void bob.accept({ signal: accepting.signal });
    const [p1, p2] = await Promise.all([alice.peer("org/ns/bob"), alice.peer("org/ns/bob")]);
    expect(p1).toBe(p2);
    expect(p1.label).toBe("org/ns/bob");
    const sent = await p1.publish("hello", { metadata: { topic: "greeting" } });
    const got = await bob.inbox.next({ from: "org/ns/alice" }, { timeoutMs: 2_000 });
    expect([got.id, got.text, got.to, got.metadata]).toEqual([sent.id, "hello", "org/ns/alice", { topic: "greeting" }]);
    expect((await bob.port("org/ns/alice")).kind).toBe("p2p");
    await expect(alice.peer("org/ns/eve")).rejects.toThrow(/not on the allow-list/);
    accepting.abort();
  });

  it("streams a served agent's tokens in order, then its answer", async () => {
    const bob = await agentApp("org/ns/bob");
    const server: AgentServer = serveAgentRun(bob, counting(300));
    const accepting = new AbortController();
    void bob.accept({ signal: accepting.signal });
    closers.push({ close: () => (accepting.abort(), server.close()) });
    const alice = await agentApp("org/ns/alice", ["org/ns/bob"]);
    const port = await alice.peer("org/ns/bob");
    const tokens: string[] = [];
    const gen = askAgent(port, [{ role: "user", content: "count" }], { timeoutMs: 5_000 });
    let r = await gen.next();
    while (r.done !== true) {
      tokens.push(r.value);
      r = await gen.next();
    }
    expect(tokens).toEqual(Array.from({ length: 300 }, (_, i) => `${i + 1} `));
    expect(r.value.text).toBe("asked: count");
    // without a stream id only the answer comes back
    const plain = await callAgent(port, [{ role: "user", content: "quiet" }], { stream: false, onToken: () => expect.unreachable() });
    expect(plain.text).toBe("asked: quiet");
  });

  it("serves on a single session and reports a failing run", async () => {
    const bob = await agentApp("org/ns/bob");
    const alice = await agentApp("org/ns/alice", ["org/ns/bob"]);
    const incoming = bob.app.listen({ kind: "p2p" })[Symbol.asyncIterator]().next();
    const aliceSide = alice.peer("org/ns/bob");
    const session = (await incoming).value!;
    const server = serveAgentRun(
      session,
      // eslint-disable-next-line require-yield
      async function* () {
        throw new Error("model unavailable");
      },
    );
    closers.push(server);
    const err = await callAgent(await aliceSide, [{ role: "user", content: "hi" }], { timeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(isSlimError(err)).toBe(true);
    expect((err as Error).message).toMatch(/model unavailable/);
  });

  it("runs the neutral tools: request, inbox and a refused broadcast", async () => {
    const bob = await agentApp("org/ns/bob");
    const server = serveAgentRun(bob, counting(2));
    const accepting = new AbortController();
    void bob.accept({ signal: accepting.signal });
    closers.push({ close: () => (accepting.abort(), server.close()) });
    const alice = await agentApp("org/ns/alice", ["org/ns/bob"]);
    const tools = Object.fromEntries(agentTools(alice).map((t) => [t.name, t]));
    expect(await tools.slim_request!.call({ to: "org/ns/bob", text: "sum" })).toBe("asked: sum");
    await (await bob.port("org/ns/alice")).publish("note for alice");
    await expect.poll(() => alice.inbox.size).toBe(1);
    const inbox = (await tools.slim_read_inbox!.invoke({})) as { messages: Array<{ text: string; via: string }>; openVotes: unknown[] };
    expect(inbox.messages.map((m) => [m.text, m.via])).toEqual([["note for alice", "org/ns/bob"]]);
    expect(inbox.openVotes).toEqual([]);
    await expect(tools.slim_broadcast!.call({ group: "org/ns/room", text: "x" })).rejects.toThrow(/not a group this agent is in/);
    expect(agentTools(alice, { include: ["slim_send"] }).map((t) => t.name)).toEqual(["slim_send"]);
  });
});
