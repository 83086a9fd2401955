/**
 * Visibility (the s2ml optimisation of signed history): the receiver of an
 * edge must check, for each role that sent a message since the receiver last
 * acted (sent or received), that role's latest attestation. The static
 * visibility set of an edge is the union of those roles over every path that
 * reaches the edge; at run time the envelope carries the attestations of the
 * roles that sent on the actual path, which must be a subset.
 */
import type { GlobalGraph } from "./global-graph.js";

/** For every edge id, the roles (in `roles` order) whose attestations its receiver checks. */
export function visibilitySets(g: GlobalGraph, roles: readonly string[]): string[][] {
  const into = new Map<number, number[]>();
  for (const e of g.edges) into.set(e.to, [...(into.get(e.to) ?? []), e.id]);
  return g.edges.map((edge) => {
    const r = edge.receiver;
    const senders = new Set<string>([edge.sender]);
    // Walk backwards over messages the receiver did not take part in.
    const seen = new Set<number>([edge.from]);
    const stack = [edge.from];
    while (stack.length > 0) {
      const s = stack.pop()!;
      for (const id of into.get(s) ?? []) {
        const e = g.edges[id]!;
        if (e.sender === r || e.receiver === r) continue;
        senders.add(e.sender);
        if (!seen.has(e.from)) {
          seen.add(e.from);
          stack.push(e.from);
        }
      }
    }
    return roles.filter((x) => senders.has(x));
  });
}
