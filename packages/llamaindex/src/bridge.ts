// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Workflow events across SLIM. Events of the `outbound` types that occur in
// the workflow are published on a session as `{ uniqueId, data }` frames (the
// SDK's own JSON form of an event); frames arriving there for `inbound` types
// are sent into the workflow as those events, and plain messages, if asked
// for, as slimMessageEvents. Events that came in are never sent back out.

import type { WorkflowContext, WorkflowEvent, WorkflowEventData } from "@llamaindex/workflow";
import { SlimError } from "@slim-ts/core";
import { z } from "zod";
import type { AgentHub, SessionPort, SlimEnvelope } from "./core-agents.js";
import { slimMessageEvent } from "./events.js";

export const WORKFLOW_EVENT_TYPE = "application/vnd.slim-ts.workflow-event+json;v=1";

const FrameSchema = z.strictObject({ uniqueId: z.string().min(1).max(256), data: z.unknown() });

export interface BridgeOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  outbound?: ReadonlyArray<WorkflowEvent<any>>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  inbound?: ReadonlyArray<WorkflowEvent<any>>;
  /** Deliver plain messages on the session as slimMessageEvent; default false. */
  messages?: boolean;
  /** Stops the bridge (as does the returned function). */
  signal?: AbortSignal;
  /** Unreadable frames, unknown event ids, failed sends. */
  onError?: (err: unknown, e?: SlimEnvelope) => void;
}

/**
 * Bridge `ctx` and the session behind `port` (attached to `hub`, whose inbox
 * receives its messages). Returns a function that stops the bridge.
 */
export function bridgeWorkflow(ctx: WorkflowContext, hub: AgentHub, port: SessionPort, options: BridgeOptions): () => void {
  const ctl = new AbortController();
  const signal = options.signal === undefined ? ctl.signal : AbortSignal.any([ctl.signal, options.signal]);
  const injected = new WeakSet<object>();
  const report = (err: unknown, e?: SlimEnvelope) => options.onError?.(err, e);

  const unsubscribe = (options.outbound ?? []).map((ev) =>
    ctx.stream.on(ev, (data: WorkflowEventData<unknown>) => {
      if (injected.has(data) || signal.aborted) return;
      port.publish(JSON.stringify({ uniqueId: ev.uniqueId, data: data.data }), { payloadType: WORKFLOW_EVENT_TYPE }).catch((err: unknown) => report(err));
    }),
  );

  const byId = new Map((options.inbound ?? []).map((ev) => [ev.uniqueId, ev]));
  const wanted = (e: SlimEnvelope) => e.payloadType === WORKFLOW_EVENT_TYPE || options.messages === true;
  void (async () => {
    for (;;) {
      let e: SlimEnvelope;
      try {
        e = await hub.inbox.next({ to: port.label, where: wanted }, { signal, timeoutMs: 2 ** 31 - 1 });
      } catch {
        return; // stopped, or the inbox closed
      }
      const out = toEvent(e);
      if (out instanceof Error) {
        report(out, e);
        continue;
      }
      injected.add(out);
      ctx.sendEvent(out);
    }
  })();

  function toEvent(e: SlimEnvelope): WorkflowEventData<unknown> | Error {
    if (e.payloadType !== WORKFLOW_EVENT_TYPE) return slimMessageEvent.with(e);
    let frame: z.output<typeof FrameSchema>;
    try {
      frame = FrameSchema.parse(JSON.parse(e.text ?? ""));
    } catch (err) {
      return new SlimError("INVALID_ARGUMENT", `unreadable workflow event from ${e.from}`, { cause: err });
    }
    const ev = byId.get(frame.uniqueId);
    if (ev === undefined) return new SlimError("INVALID_ARGUMENT", `workflow event ${JSON.stringify(frame.uniqueId)} from ${e.from} is not accepted here`);
    try {
      return ev.with(frame.data);
    } catch (err) {
      return new SlimError("INVALID_ARGUMENT", `invalid ${frame.uniqueId} event from ${e.from}`, { cause: err });
    }
  }

  return () => {
    ctl.abort();
    for (const u of unsubscribe) u();
  };
}
