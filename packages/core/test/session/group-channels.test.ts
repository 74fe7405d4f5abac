// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Group channel ids against the official moderator's JOIN_REQUESTs in the
// p2-session captures (group-plain, group-idle, group-early): token id from the
// identity header, channel/control ids from the join request payload.

import { describe, expect, it } from "vitest";
import { Name } from "../../src/names/name.js";
import { deriveGroupChannels } from "../../src/session/group/channels.js";

const captures = [
  { capture: "group-plain", tokenId: "org/ns/moderator_BYgysi7L", data: 0x1d4339226f54423e2e41ebe982fe3a1en, control: 0xb58c3eabe66cf21ca0446bbd2b6204fcn },
  { capture: "group-idle", tokenId: "org/ns/moderator_6H0meM8F", data: 0xa39b38c59c40fb1688930289f030513en, control: 0x3bb36a41d54c5906d569f031c3d89cd6n },
  { capture: "group-early", tokenId: "org/ns/moderator_mNTnoK8v", data: 0xa8e5ec1af1d8537e64fd1dee771fd059n, control: 0x94d1dd01d69183cc0f5f102805825d51n },
];

describe("group channel derivation", () => {
  for (const c of captures) {
    it(`reproduces the official channel ids of ${c.capture}`, async () => {
      const { data, control } = await deriveGroupChannels(c.tokenId, Name.parse("org/ns/chat"));
      expect(data.id).toBe(c.data);
      expect(control.id).toBe(c.control);
      expect(data.components).toEqual(["org", "ns", "chat"]);
      expect(control.withoutId().toString()).toBe("org/ns/chat");
    });
  }

  it("gives different channels for different creators and rooms", async () => {
    const a = await deriveGroupChannels("org/ns/a_12345678", Name.parse("org/ns/room"));
    const b = await deriveGroupChannels("org/ns/b_12345678", Name.parse("org/ns/room"));
    const c = await deriveGroupChannels("org/ns/a_12345678", Name.parse("org/ns/other"));
    expect(new Set([a.data.id, b.data.id, c.data.id, a.control.id]).size).toBe(4);
  });
});
