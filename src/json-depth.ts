import { MAX_JSON_DEPTH } from './bounds.js';
import { JsonDepthError } from './errors.js';

/**
 * Throws JsonDepthError when a parsed JSON value nests objects and arrays more than `maxDepth`
 * levels (the top-level object is level 1). JSON.parse takes any depth, but what comes after it
 * recurses (TypeBox, merging, JSON.stringify in messages and in the store) and overflows the
 * stack at a few thousand levels, so this walk is iterative and runs before any of them.
 */
export function checkJsonDepth(value: unknown, what: string, maxDepth: number = MAX_JSON_DEPTH): void {
  const pending: Array<{ node: unknown; level: number }> = [{ node: value, level: 1 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { node, level } = next;
    if (typeof node !== 'object' || node === null) continue;
    if (level > maxDepth) throw new JsonDepthError(what, maxDepth);
    for (const child of Array.isArray(node) ? node : Object.values(node)) pending.push({ node: child, level: level + 1 });
  }
}
