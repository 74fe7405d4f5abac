// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Loaders for the traffic captured from the official bindings (shared/spikes): raw Message bytes
// (p3-security/artifacts) and JSON-decoded captures (p2-session/captures).

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { type ProtoName, type ProtoPublish, SessionMessageType, SessionType } from "../../src/wire/gen/dataplane.js";
import { SHARED } from "../helpers/vectors.js";

/** The shared secret every spike app was created with (createAppWithSecret). */
export const DEMO_SECRET = "a-very-long-demo-shared-secret-0123456789";

export function artifactFiles(dir: "p2p" | "group"): { file: string; bytes: Uint8Array }[] {
  const base = `${SHARED}spikes/p3-security/artifacts/${dir}/`;
  return readdirSync(base)
    .sort()
    .map((file) => ({ file: `${dir}/${file}`, bytes: new Uint8Array(readFileSync(base + file)) }));
}

interface JsonName {
  name?: { component_0?: string; component_1?: string; component_2?: string; nameId?: { id_0?: string; id_1?: string } };
  strName?: { strComponent_0?: string; strComponent_1?: string; strComponent_2?: string };
}
interface JsonPublish {
  header: { source?: JsonName; destination?: JsonName; identity?: string; e2eHeaderSig?: string };
  session?: { sessionType?: string; sessionMessageType?: string; sessionId?: number; messageId?: number };
  msg?: { appPayload?: { payloadType?: string; blob?: string }; commandPayload?: unknown };
}

function name(j: JsonName | undefined): ProtoName | undefined {
  if (j === undefined) return undefined;
  const n: ProtoName = {};
  if (j.name !== undefined) {
    n.name = { component0: BigInt(j.name.component_0 ?? 0), component1: BigInt(j.name.component_1 ?? 0), component2: BigInt(j.name.component_2 ?? 0) };
    if (j.name.nameId !== undefined) n.name.nameId = { id0: BigInt(j.name.nameId.id_0 ?? 0), id1: BigInt(j.name.nameId.id_1 ?? 0) };
  }
  if (j.strName !== undefined) {
    n.strName = { strComponent0: j.strName.strComponent_0 ?? "", strComponent1: j.strName.strComponent_1 ?? "", strComponent2: j.strName.strComponent_2 ?? "" };
  }
  return n;
}

const enumValue = (table: Record<string, number>, prefix: string, text: string | undefined): number =>
  text === undefined ? 0 : (table[text.slice(prefix.length)] ?? Number.NaN);

function publishFromJson(j: JsonPublish): ProtoPublish {
  const src = name(j.header.source);
  const dst = name(j.header.destination);
  const p: ProtoPublish = {
    header: {
      identity: j.header.identity ?? "",
      fanout: 1,
      version: "",
      ttl: 8,
      ...(src === undefined ? {} : { source: src }),
      ...(dst === undefined ? {} : { destination: dst }),
      ...(j.header.e2eHeaderSig === undefined ? {} : { e2eHeaderSig: new Uint8Array(Buffer.from(j.header.e2eHeaderSig, "base64")) }),
    },
    session: {
      sessionType: enumValue(SessionType, "SESSION_TYPE_", j.session?.sessionType) as SessionType,
      sessionMessageType: enumValue(SessionMessageType, "SESSION_MESSAGE_TYPE_", j.session?.sessionMessageType) as SessionMessageType,
      sessionId: j.session?.sessionId ?? 0,
      messageId: j.session?.messageId ?? 0,
    },
  };
  if (j.msg?.appPayload !== undefined) {
    p.msg = { contentType: { case: "appPayload", value: { payloadType: j.msg.appPayload.payloadType ?? "", blob: new Uint8Array(0) } } };
  } else if (j.msg?.commandPayload !== undefined) {
    p.msg = { contentType: { case: undefined } };
  }
  return p;
}

/** Every Publish of the JSON captures in shared/spikes/p2-session/captures, with its file name. */
export function jsonCapturedPublishes(): { file: string; publish: ProtoPublish }[] {
  const dir = `${SHARED}spikes/p2-session/captures/`;
  if (!existsSync(dir)) throw new Error(`missing ${dir}`);
  const out: { file: string; publish: ProtoPublish }[] = [];
  for (const file of readdirSync(dir).sort()) {
    for (const line of readFileSync(dir + file, "utf8").split("\n")) {
      if (line.trim() === "") continue;
      const rec = JSON.parse(line) as { kind?: string; full?: { publish?: JsonPublish } };
      if (rec.kind === "publish" && rec.full?.publish !== undefined) out.push({ file, publish: publishFromJson(rec.full.publish) });
    }
  }
  return out;
}

/** Unix seconds in a shared-secret token (its second field). */
export const tokenTs = (token: string): number => Number(token.split(":")[1]);
