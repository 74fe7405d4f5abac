// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Request/reply and ordered token streams over real sessions between two of our
// apps through our node, including a node that drops 10 % of publishes.

import { randomBytes } from "node:crypto";
import { createApp, SessionMux, SlimError, type SlimApp } from "@slim-ts/core";
import { startNode } from "@slim-ts/node-embedded";
import { describe, expect, it } from "vitest";

const dec = new TextDecoder();
const secret = randomBytes(32).toString("hex");

async function pair(url: string, reliable: boolean) {
  const a = await createApp({ name: "org/pat/a", secret, connect: url });
  const b = await createApp({ name: "org/pat/b", secret, connect: url });
  const accepted = b.listen()[Symbol.asyncIterator]().next();
  const sa = await a.createSession({ type: "p2p", peer: "org/pat/b" }, reliable ? { reliable: { intervalMs: 200, maxRetries: 20 } } : {});
  const sb = (await accepted).value!;
  return { a, b, sa, ma: new SessionMux(sa), mb: new SessionMux(sb), close: async () => { await a.close(); await b.close(); } };
}

async function* tokens(n: number) {
  for (let i = 0; i < n; i++) yield `tok${i} `;
}

describe("request/reply", () => {
  it("answers requests both ways, correlates concurrent ones, reports handler errors and times out", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    const p = await pair(node.url, true);
    try {
      p.mb.serve((req) => {
        const text = dec.decode(req.payload);
        if (text === "boom") throw new Error("handler exploded");
        return `echo ${text}`;
      });
      p.ma.serve((req) => dec.decode(req.payload).toUpperCase());
      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => p.ma.request(`q${i}`)));
      expect(replies.map((r) => dec.decode(r.payload))).toEqual(Array.from({ length: 20 }, (_, i) => `echo q${i}`));
      expect(dec.decode((await p.mb.request("shout")).payload)).toBe("SHOUT");
      const err = await p.ma.request("boom").catch((e: unknown) => e);
      expect((err as SlimError).code).toBe("SESSION");
      expect((err as SlimError).message).toContain("handler exploded");
      p.mb.serve(() => new Promise(() => {})); // never answers
      const late = await p.ma.request("slow", { timeoutMs: 300 }).catch((e: unknown) => e);
      expect((late as SlimError).code).toBe("TIMEOUT");
    } finally {
      await p.close();
    }
  });
});

describe("token streams", () => {
  it("a 2 000-token stream arrives complete and in order; plain messages still reach messages()", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    const p = await pair(node.url, true);
    try {
      const received = (async () => {
        for await (const s of p.mb.incoming()) {
          let text = "";
          for await (const chunk of s) text += dec.decode(chunk.payload);
          return text;
        }
        return "";
      })();
      await p.ma.sendStream(tokens(2_000));
      const want = Array.from({ length: 2_000 }, (_, i) => `tok${i} `).join("");
      expect(await received).toBe(want);
      // an ordinary publish on the same session is not taken for a stream frame
      await p.sa.publish(new TextEncoder().encode("plain"));
      const plain = await p.mb.messages()[Symbol.asyncIterator]().next();
      expect(dec.decode(plain.value!.payload)).toBe("plain");
    } finally {
      await p.close();
    }
  });

  it("a sender-side failure ends the reader with a RECEIVE error", async () => {
    await using node = await startNode({ listen: "127.0.0.1:0" });
    const p = await pair(node.url, true);
    try {
      async function* failing() {
        yield "a";
        yield "b";
        throw new Error("model crashed");
      }
      const reading = (async () => {
        for await (const s of p.mb.incoming()) {
          const got: string[] = [];
          try {
            for await (const c of s) got.push(dec.decode(c.payload));
          } catch (err) {
            return { got, err: err as SlimError };
          }
          return { got, err: undefined };
        }
        return { got: [], err: undefined };
      })();
      await expect(p.ma.sendStream(failing())).rejects.toThrow("model crashed");
      const r = await reading;
      expect(r.got).toEqual(["a", "b"]);
      expect(r.err?.code).toBe("RECEIVE");
      expect(r.err?.message).toContain("model crashed");
    } finally {
      await p.close();
    }
  });

  for (const reliable of [true, false]) {
    it(`over a node dropping 10 % of publishes: ${reliable ? "a reliable session keeps every token in order" : "an unreliable one reports the gap"}`, async () => {
      await using node = await startNode({ listen: "127.0.0.1:0", faults: { dropRatio: 0.1, seed: 3 } });
      let p: Awaited<ReturnType<typeof pair>> | undefined;
      for (let i = 0; p === undefined && i < 5; i++) p = await pair(node.url, reliable).catch(() => undefined); // setup itself can lose messages
      try {
        const received = (async () => {
          for await (const s of p!.mb.incoming()) {
            let text = "";
            try {
              for await (const chunk of s) text += dec.decode(chunk.payload);
            } catch (err) {
              return { text, err: err as SlimError };
            }
            return { text, err: undefined };
          }
          return { text: "", err: undefined };
        })();
        await p!.ma.sendStream(tokens(500));
        const r = await Promise.race([received, new Promise<{ text: string; err: SlimError | undefined }>((res) => setTimeout(() => res({ text: "", err: new SlimError("TIMEOUT", "stalled") }), 15_000))]);
        if (reliable) {
          expect(r.err).toBeUndefined();
          expect(r.text).toBe(Array.from({ length: 500 }, (_, i) => `tok${i} `).join(""));
        } else {
          expect(r.err?.code).toBe("RECEIVE");
          expect(r.err?.message).toContain("expected chunk");
        }
      } finally {
        await p!.close();
      }
    });
  }
});

void ({} as SlimApp);
