// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Interop without a network: official apps (@agntcy/slim-bindings, in a child process, both apps in
// one in-process service) mint identity tokens; our verifier must accept them with the same secret,
// and our app-id derivation must match the official app ids.

import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SharedSecretVerifier } from "../../src/auth/shared-secret.js";
import { appIdFromTokenId } from "../../src/names/app-id.js";
import { formatId } from "../../src/names/name.js";

function bindingsMissing(): string | null {
  try {
    createRequire(import.meta.url).resolve("@agntcy/slim-bindings/package.json");
    return null;
  } catch {
    return "@agntcy/slim-bindings is not installed";
  }
}
const skipReason = bindingsMissing();
const SECRET = "slim-ts-offline-interop-secret-0123456789";

interface Minted {
  aliceToken: string;
  bobToken: string;
  aliceId: string;
  bobId: string;
  nowMs: number;
}

function mintWithOfficialBindings(): Promise<Minted> {
  const script = fileURLToPath(new URL("./fixtures/official-mint.mjs", import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script], { env: { ...process.env, SLIM_TEST_SECRET: SECRET }, timeout: 20_000 }, (err, stdout) => {
      if (err) return reject(err);
      try {
        resolve(JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as Minted);
      } catch (e) {
        reject(e);
      }
    });
  });
}

describe.skipIf(skipReason !== null)(`tokens minted live by the official bindings${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  it("verify with our verifier; app ids match XXH3-128 of the token ids", { timeout: 30_000 }, async () => {
    const m = await mintWithOfficialBindings();
    const verifier = new SharedSecretVerifier(SECRET);
    for (const [token, appId, subject] of [
      [m.aliceToken, m.aliceId, "org/ns/alice"],
      [m.bobToken, m.bobId, "org/ns/bob"],
    ] as const) {
      const id = verifier.verify(token);
      expect(id.subject).toBe(subject);
      expect(id.tokenId).toMatch(new RegExp(`^${subject}_[A-Za-z0-9]{8}$`));
      expect(Math.abs((id.issuedAt ?? 0) * 1000 - m.nowMs)).toBeLessThan(30_000);
      expect(id.publicKey).toHaveLength(65);
      expect(formatId(await appIdFromTokenId(id.tokenId))).toBe(appId);
      expect(() => new SharedSecretVerifier(`${SECRET}-other`).verify(token)).toThrowError(expect.objectContaining({ code: "AUTH", reason: "bad-mac" }) as Error);
    }
  });
});
