// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// The script behind the scripted chat models of both adapters: a list of
// turns, each a text answer or some tool calls (or a function of the
// conversation so far that decides), played one per model call. Deterministic,
// so demos and tests run offline and always take the same path.

import { SlimError } from "../errors.js";
import type { ChatTurn } from "./remote.js";

export interface ScriptedToolCall {
  name: string;
  args: Record<string, unknown>;
  /** Default `call_<turn>_<index>`. */
  id?: string;
}

export interface ScriptedTurn {
  text?: string;
  toolCalls?: ScriptedToolCall[];
}

export type ScriptStep = ScriptedTurn | ((history: readonly ChatTurn[]) => ScriptedTurn);

export interface ChatScriptOptions {
  /** After the last turn: replay it (`repeat-last`) or fail (`error`, default; a replayed tool call would loop an agent). */
  whenDone?: "repeat-last" | "error";
}

export class ChatScript {
  private played = 0;

  constructor(
    private readonly steps: readonly ScriptStep[],
    private readonly options: ChatScriptOptions = {},
  ) {
    if (steps.length === 0) throw new SlimError("INVALID_ARGUMENT", "a chat script needs at least one turn");
  }

  /** Turns played so far. */
  get turns(): number {
    return this.played;
  }

  /** The next turn, with tool call ids filled in. */
  next(history: readonly ChatTurn[]): Required<Pick<ScriptedTurn, "text">> & { toolCalls: Array<Required<ScriptedToolCall>> } {
    const n = this.played;
    if (n >= this.steps.length && this.options.whenDone !== "repeat-last") {
      throw new SlimError("INTERNAL", `scripted model: the script has ${this.steps.length} turns, asked for turn ${n + 1}`);
    }
    const step = this.steps[Math.min(n, this.steps.length - 1)]!;
    this.played++;
    const turn = typeof step === "function" ? step(history) : step;
    return {
      text: turn.text ?? "",
      toolCalls: (turn.toolCalls ?? []).map((c, i) => ({ name: c.name, args: c.args, id: c.id ?? `call_${n}_${i}` })),
    };
  }
}

/** Split text into word tokens that keep their trailing whitespace, so joining them gives the text back. */
export function splitTokens(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}
