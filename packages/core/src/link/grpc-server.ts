// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Accepting links: the OpenChannel handler a node's gRPC server installs.

import type { MessageProcessor } from "../datapath/processor.js";
import type { SlimError } from "../errors.js";
import type { FrameStream } from "./frame-stream.js";
import { Link } from "./link.js";

export interface AcceptOptions {
  /** Require header MACs from dialers (default true; `false` accepts key-less links). */
  strictMac: boolean;
  /** Refuse new links beyond this many (default 1 000). */
  maxLinks?: number;
  negotiationTimeoutMs?: number;
  onLinkDown?: (link: Link, err: SlimError) => void;
}

export function openChannelHandler(processor: MessageProcessor, options: AcceptOptions) {
  const open = new Set<Link>();
  const handler = (stream: FrameStream): void => {
    if (open.size >= (options.maxLinks ?? 1_000)) {
      stream.destroy("too many links");
      return;
    }
    const id = processor.allocateId();
    let registered = false;
    const link = new Link(
      id,
      "acceptor",
      "remote",
      "",
      processor,
      {
        strictMac: options.strictMac,
        ...(options.negotiationTimeoutMs === undefined ? {} : { negotiationTimeoutMs: options.negotiationTimeoutMs }),
      },
      {
        up: (l) => {
          processor.register(l);
          registered = true;
          processor.linkUp(l);
        },
        down: (l, err) => {
          open.delete(l);
          if (registered) processor.unregister(l.id);
          else processor.releaseId(l.id);
          l.close();
          options.onLinkDown?.(l, err);
        },
      },
      stream.remote,
    );
    open.add(link);
    link.attach(stream);
  };
  return { handler, links: open };
}
