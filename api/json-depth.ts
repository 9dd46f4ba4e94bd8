// How deeply a parsed JSON value nests, walked without recursion (a recursive walk is
// what a hostile payload 20,000 levels deep would overflow). Stops counting once past
// `limit`: the caller only needs to know the value is too deep.

/** Depth of arrays and objects in `value` (a scalar is 0), or `limit + 1` once deeper than `limit`. */
export function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<{ node: unknown; depth: number }> = [{ node: value, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop() as { node: unknown; depth: number };
    if (node === null || typeof node !== 'object') continue;
    const here = depth + 1;
    if (here > limit) return limit + 1;
    if (here > deepest) deepest = here;
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push({ node: child, depth: here });
  }
  return deepest;
}
