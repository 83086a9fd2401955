/**
 * Projection of the global graph onto one role: a deterministic local state
 * machine over the messages the role sends and receives. Messages between
 * other roles are silent moves; a local state is the set of global states the
 * role may be in.
 */
import type { GlobalGraph, GraphEdge } from "./global-graph.js";

/** A local transition: the role sends or receives one kind of message. */
export interface LocalTransition {
  readonly from: number;
  readonly to: number;
  readonly direction: "send" | "receive";
  /** The other role. */
  readonly peer: string;
  /** The message label (see `edgeLabel`). */
  readonly label: string;
  /** The global edges this transition stands for (one, unless branches rejoin). */
  readonly edges: readonly number[];
}

export interface LocalState {
  readonly id: number;
  /** The global states the role may be in here. */
  readonly globals: readonly number[];
  /** No message of this role can follow. */
  readonly final: boolean;
}

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
  return { role, states, transitions, initial };
}
