// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

import { describe, expect, it } from "vitest";
import { checkHeaderIntegrity, shouldCheckHeaderIntegrity } from "../../src/mls/header-integrity.js";

describe("header integrity policy", () => {
  it("0 never checks, 100 and above always, in between a random share", () => {
    expect(shouldCheckHeaderIntegrity(0, () => 0)).toBe(false);
    expect(shouldCheckHeaderIntegrity(100, () => 99)).toBe(true);
    expect(shouldCheckHeaderIntegrity(250, () => 99)).toBe(true);
    expect(shouldCheckHeaderIntegrity(30, () => 29)).toBe(true);
    expect(shouldCheckHeaderIntegrity(30, () => 30)).toBe(false);
    let checked = 0;
    for (let i = 0; i < 2000; i++) if (shouldCheckHeaderIntegrity(25)) checked++;
    expect(checked).toBeGreaterThan(350);
    expect(checked).toBeLessThan(650);
  });

  it("a differing AAD is an MLS error", () => {
    expect(() => checkHeaderIntegrity(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3))).not.toThrow();
    expect(() => checkHeaderIntegrity(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4))).toThrow(/header integrity mismatch/);
    expect(() => checkHeaderIntegrity(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2))).toThrow(/header integrity mismatch/);
  });
});
