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
 * Merges local states with the same future, then numbers states breadth-first from the initial
 * one. The coarsest partition is found by Hopcroft's partition refinement, O(m log n) for m
 * transitions and n states: blocks start as the states with the same set of move labels (the
 * machine is partial: a missing move is a difference), then each block in turn splits every
 * block by which of its states move into it by each label, and only the smaller half of a split
 * block is queued again.
 */
export function minimise(p: Projection): Projection {
  const keys = new Map<LocalTransition, string>();
  const key = (t: LocalTransition): string => {
    let k = keys.get(t);
    if (k === undefined) keys.set(t, (k = `${t.direction} ${t.peer} ${t.label}`));
    return k;
  };
  const collator = new Intl.Collator();
  const byKey = (a: LocalTransition, b: LocalTransition) => collator.compare(key(a), key(b));
  const n = p.states.length;
  const outs: LocalTransition[][] = Array.from({ length: n }, () => []);
  for (const t of p.transitions) outs[t.from]!.push(t);
  const labelIds = new Map<string, number>();
  const labelOf = p.transitions.map((t) => {
    const k = key(t);
    let id = labelIds.get(k);
    if (id === undefined) labelIds.set(k, (id = labelIds.size));
    return id;
  });
  // Incoming transitions of each state, as (label, source) pairs.
  const ins: Array<Array<[number, number]>> = Array.from({ length: n }, () => []);
  p.transitions.forEach((t, i) => ins[t.to]!.push([labelOf[i]!, t.from]));
  // The refinable partition: `elems` lists the states block by block; block b is elems[start[b]..end[b]).
  const elems: number[] = [];
  const where: number[] = new Array<number>(n);
  const blockOf: number[] = new Array<number>(n);
  const start: number[] = [];
  const end: number[] = [];
  const initialBlocks = new Map<string, number[]>();
  for (let s = 0; s < n; s++) {
    const sig = [...new Set(outs[s]!.map(key))].sort().join("|");
    const list = initialBlocks.get(sig);
    if (list === undefined) initialBlocks.set(sig, [s]);
    else list.push(s);
  }
  for (const members of initialBlocks.values()) {
    const b = start.length;
    start.push(elems.length);
    for (const s of members) {
      where[s] = elems.length;
      blockOf[s] = b;
      elems.push(s);
    }
    end.push(elems.length);
  }
  const queued: boolean[] = start.map(() => true);
  const work: number[] = start.map((_, b) => b);
  const marked: number[] = start.map(() => 0);
  while (work.length > 0) {
    const splitter = work.pop()!;
    queued[splitter] = false;
    // The sources of the transitions into the splitter, by label.
    const byLabel = new Map<number, number[]>();
    for (let i = start[splitter]!; i < end[splitter]!; i++) {
      for (const [label, from] of ins[elems[i]!]!) {
        const list = byLabel.get(label);
        if (list === undefined) byLabel.set(label, [from]);
        else list.push(from);
      }
    }
    for (const sources of byLabel.values()) {
      // Mark each source: move it to the front of its block.
      const touched: number[] = [];
      for (const s of sources) {
        const b = blockOf[s]!;
        const pos = where[s]!;
        const front = start[b]! + marked[b]!;
        if (pos < front) continue; // already marked
        if (marked[b] === 0) touched.push(b);
        const other = elems[front]!;
        elems[front] = s;
        where[s] = front;
        elems[pos] = other;
        where[other] = pos;
        marked[b]!++;
      }
      // Split each touched block into its marked front and the rest.
      for (const b of touched) {
        const m = marked[b]!;
        marked[b] = 0;
        const size = end[b]! - start[b]!;
        if (m === size) continue;
        const nb = start.length;
        start.push(start[b]!);
        end.push(start[b]! + m);
        marked.push(0);
        start[b] = start[b]! + m;
        for (let i = start[nb]!; i < end[nb]!; i++) blockOf[elems[i]!] = nb;
        if (queued[b]) {
          queued.push(true);
          work.push(nb);
        } else {
          const smaller = m <= size - m ? nb : b;
          queued.push(smaller === nb);
          queued[smaller] = true;
          work.push(smaller);
        }
      }
    }
  }
  const block = new Map<number, string>(p.states.map((s) => [s.id, String(blockOf[s.id])]));
  const outOf = (s: number) => outs[s]!;
  const ids = new Map<string, number>();
  const queue = [p.initial];
  ids.set(block.get(p.initial)!, 0);
  for (let head = 0; head < queue.length; head++) {
    const s = queue[head]!;
    for (const t of outOf(s).sort(byKey)) {
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
    transitions: [...transitions.values()].sort((a, b) => a.from - b.from || byKey(a, b)),
  };
}
