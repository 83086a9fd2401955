/**
 * Projection of the global graph onto one role: a deterministic local state
 * machine over the messages the role sends and receives. Messages between
 * other roles are silent moves; a local state is the set of global states the
 * role may be in.
 */
import type { LocalStateDescriptor, LocalTransitionDescriptor } from "../../interceptors/descriptor/types.js";
import type { GlobalGraph, GraphEdge } from "./global-graph.js";

/** A local transition and a local state: the shapes the descriptor carries (docs/descriptor.md). */
export type LocalTransition = LocalTransitionDescriptor;
export type LocalState = LocalStateDescriptor;

export interface Projection {
  readonly role: string;
  readonly states: readonly LocalState[];
  readonly transitions: readonly LocalTransition[];
  readonly initial: number;
}

/** A message as a role sees it: method, direction of the rpc, and oneof case. */
export function edgeLabel(e: GraphEdge): string {
  const rpc = `${e.method.parent.name}.${e.method.name}`;
  switch (e.kind) {
    case "oneway": return rpc;
    case "request": return `${rpc}/request`;
    case "response": return e.case === undefined ? `${rpc}/response` : `${rpc}/response.${e.case}`;
  }
}

/** The edges of `role` leaving global state `s`, and the silent ones. */
export function roleView(g: GlobalGraph, role: string) {
  const out = new Map<number, GraphEdge[]>();
  for (const e of g.edges) {
    const list = out.get(e.from) ?? [];
    list.push(e);
    out.set(e.from, list);
  }
  const involves = (e: GraphEdge) => e.sender === role || e.receiver === role;
  /** Global states reachable from `set` by messages between other roles. */
  const closure = (set: Iterable<number>): number[] => {
    const seen = new Set(set);
    const stack = [...seen];
    while (stack.length > 0) {
      for (const e of out.get(stack.pop()!) ?? []) {
        if (!involves(e) && !seen.has(e.to)) {
          seen.add(e.to);
          stack.push(e.to);
        }
      }
    }
    return [...seen].sort((a, b) => a - b);
  };
  /** The role's own edges leaving the states of `set`. */
  const moves = (set: readonly number[]): GraphEdge[] => set.flatMap((s) => (out.get(s) ?? []).filter(involves));
  return { closure, moves, out };
}

/** Projects the global graph onto `role`. */
export function project(g: GlobalGraph, role: string): Projection {
  const { closure, moves } = roleView(g, role);
  const states: LocalState[] = [];
  const transitions: LocalTransition[] = [];
  const ids = new Map<string, number>();
  const queue: number[][] = [];
  const intern = (set: number[]): number => {
    const key = set.join(",");
    let id = ids.get(key);
    if (id === undefined) {
      id = states.length;
      ids.set(key, id);
      states.push({ id, globals: set, final: moves(set).length === 0 });
      queue.push(set);
    }
    return id;
  };
  const initial = intern(closure([g.initial]));
  while (queue.length > 0) {
    const set = queue.shift()!;
    const from = ids.get(set.join(","))!;
    const byLabel = new Map<string, GraphEdge[]>();
    for (const e of moves(set)) {
      const key = `${e.sender === role ? "send" : "receive"} ${e.sender === role ? e.receiver : e.sender} ${edgeLabel(e)}`;
      byLabel.set(key, [...(byLabel.get(key) ?? []), e]);
    }
    for (const [, es] of byLabel) {
      const e0 = es[0]!;
      const to = intern(closure(es.map((e) => e.to)));
      const send = e0.sender === role;
      transitions.push({
        from,
        to,
        direction: send ? "send" : "receive",
        peer: send ? e0.receiver : e0.sender,
        label: edgeLabel(e0),
        edges: es.map((e) => e.id).sort((a, b) => a - b),
      });
    }
  }
  return minimise({ role, states, transitions, initial });
}

/**
 * Merges local states with the same future (partition refinement over the
 * transition labels), then numbers states breadth-first from the initial one.
 */
export function minimise(p: Projection): Projection {
  const key = (t: LocalTransition) => `${t.direction} ${t.peer} ${t.label}`;
  const outOf = (s: number) => p.transitions.filter((t) => t.from === s);
  // Blocks are renumbered to small integers each round, so signatures stay short
  // (built from the previous round's strings, they would double in length per round).
  const renumber = (sig: Map<number, string>): Map<number, string> => {
    const ids = new Map<string, string>();
    return new Map([...sig].map(([st, x]) => [st, ids.get(x) ?? (ids.set(x, String(ids.size)), String(ids.size - 1))]));
  };
  let block = renumber(new Map(p.states.map((s) => [s.id, outOf(s.id).map(key).sort().join("|")])));
  for (;;) {
    const next = renumber(
      new Map(p.states.map((s) => [s.id, `${block.get(s.id)}#${outOf(s.id).map((t) => `${key(t)}>${block.get(t.to)}`).sort().join("|")}`])),
    );
    if (new Set(next.values()).size === new Set(block.values()).size) break;
    block = next;
  }
  const ids = new Map<string, number>();
  const queue = [p.initial];
  ids.set(block.get(p.initial)!, 0);
  while (queue.length > 0) {
    const s = queue.shift()!;
    for (const t of outOf(s).sort((a, b) => key(a).localeCompare(key(b)))) {
      const b = block.get(t.to)!;
      if (!ids.has(b)) {
        ids.set(b, ids.size);
        queue.push(t.to);
      }
    }
  }
  const id = (s: number) => ids.get(block.get(s)!)!;
  const states = new Map<number, { globals: Set<number>; final: boolean }>();
  for (const s of p.states) {
    const st = states.get(id(s.id)) ?? { globals: new Set<number>(), final: s.final };
    for (const g of s.globals) st.globals.add(g);
    states.set(id(s.id), st);
  }
  const transitions = new Map<string, LocalTransition>();
  for (const t of p.transitions) {
    const k = `${id(t.from)} ${key(t)}`;
    const prev = transitions.get(k);
    const edges = [...new Set([...(prev?.edges ?? []), ...t.edges])].sort((a, b) => a - b);
    transitions.set(k, { ...t, from: id(t.from), to: id(t.to), edges });
  }
  return {
    role: p.role,
    initial: 0,
    states: [...states].sort(([a], [b]) => a - b).map(([i, st]) => ({ id: i, globals: [...st.globals].sort((a, b) => a - b), final: st.final })),
    transitions: [...transitions.values()].sort((a, b) => a.from - b.from || key(a).localeCompare(key(b))),
  };
}
