/**
 * What a drawing of a session shows, independent of the output format: the
 * global graph (states labelled by the token holder, one edge per message)
 * or one role's projection (its local states and sends/receives), with the
 * edges that close loops marked.
 */
import type { EdgeDescriptor, SessionDescriptor } from "../../interceptors/descriptor/types.js";

export interface DrawNode {
  readonly id: string;
  readonly label: string;
  readonly initial: boolean;
  readonly final: boolean;
}

export interface DrawEdge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
  /** Closes a loop (goes back to a state on the path from the start). */
  readonly loop: boolean;
}

export interface DrawGraph {
  readonly title: string;
  readonly nodes: readonly DrawNode[];
  readonly edges: readonly DrawEdge[];
}

/** The method name of a gRPC path (`/pkg.Service/Method` → `Method`). */
const method = (rpc: string) => rpc.slice(rpc.lastIndexOf("/") + 1);

/** How a message reads on an edge: `pc → author: Cfp`, `author → confman: Upload (call)`, `confman → author: Upload reply bad_format`. */
export function messageLabel(e: EdgeDescriptor): string {
  const m = method(e.rpc);
  switch (e.kind) {
    case "oneway":
      return `${e.sender} → ${e.receiver}: ${m}`;
    case "request":
      return `${e.sender} → ${e.receiver}: ${m} (call)`;
    case "response":
      return `${e.sender} → ${e.receiver}: ${m} reply${e.case === null ? "" : ` ${e.case.field.name}`}`;
  }
}

/** The global graph of `d`. */
export function globalDrawing(d: SessionDescriptor): DrawGraph {
  const nodes = d.states.map((s) => ({
    id: `s${s.id}`,
    label: s.holder === null ? `${s.id}: end` : `${s.id}: ${s.holder}`,
    initial: s.id === d.initial,
    final: s.holder === null,
  }));
  const raw = d.edges.map((e) => ({ from: `s${e.from}`, to: `s${e.to}`, label: messageLabel(e) }));
  return { title: `${d.name}: global graph`, nodes, edges: markLoops(nodes, raw, `s${d.initial}`) };
}

/** The projection of `d` onto `role`. */
export function projectionDrawing(d: SessionDescriptor, role: string): DrawGraph {
  const p = d.projections[role];
  if (p === undefined) throw new Error(`session ${d.name} has no role ${JSON.stringify(role)}; its roles are ${d.roles.map((r) => r.name).join(", ")}`);
  const nodes = p.states.map((s) => ({ id: `l${s.id}`, label: s.final ? `${s.id}: end` : `${s.id}`, initial: s.id === p.initial, final: s.final }));
  const raw = p.transitions.map((t) => {
    const edges = t.edges.map((id) => d.edges[id]!);
    const e = edges[0]!;
    const what = e.kind === "response" ? `${method(e.rpc)} reply${e.case === null ? "" : ` ${e.case.field.name}`}` : `${method(e.rpc)}${e.kind === "request" ? " (call)" : ""}`;
    return { from: `l${t.from}`, to: `l${t.to}`, label: t.direction === "send" ? `send to ${t.peer}: ${what}` : `receive from ${t.peer}: ${what}` };
  });
  return { title: `${d.name}: projection on ${role}`, nodes, edges: markLoops(nodes, raw, `l${p.initial}`) };
}

/** Marks the back edges of a depth-first search from `start` (each closes a loop). */
function markLoops(nodes: readonly DrawNode[], edges: ReadonlyArray<Omit<DrawEdge, "loop">>, start: string): DrawEdge[] {
  const out = new Map<string, number[]>();
  edges.forEach((e, i) => out.set(e.from, [...(out.get(e.from) ?? []), i]));
  const loop = new Set<number>();
  const state = new Map<string, "open" | "done">();
  const visit = (n: string): void => {
    state.set(n, "open");
    for (const i of out.get(n) ?? []) {
      const to = edges[i]!.to;
      const s = state.get(to);
      if (s === "open") loop.add(i);
      else if (s === undefined) visit(to);
    }
    state.set(n, "done");
  };
  visit(start);
  for (const n of nodes) if (!state.has(n.id)) visit(n.id);
  return edges.map((e, i) => ({ ...e, loop: loop.has(i) }));
}
