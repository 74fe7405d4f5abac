// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

/** Reading members out of a ts-mls ratchet tree. */

import type { LeafNode, RatchetTree } from "ts-mls";

/** The leaf at `leafIndex`, if that leaf is occupied. */
export function leafAt(tree: RatchetTree, leafIndex: number): LeafNode | undefined {
  const node = tree[leafIndex * 2];
  return node?.nodeType === "leaf" ? node.leaf : undefined;
}

/** Every occupied leaf with its index. */
export function occupiedLeaves(tree: RatchetTree): { leafIndex: number; leaf: LeafNode }[] {
  const out: { leafIndex: number; leaf: LeafNode }[] = [];
  for (let n = 0; n < tree.length; n += 2) {
    const node = tree[n];
    if (node?.nodeType === "leaf") out.push({ leafIndex: n / 2, leaf: node.leaf });
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
