/**
 * Knowledge of choice: at every choice, each role whose future differs
 * between the branches must learn which branch was taken, from the type of a
 * message it receives, before it acts, and before the session can end for it.
 *
 * For each choice state and each role other than the chooser, we explore the
 * role's view of the branches together, each global state tagged with the
 * branch it came from. A set of tagged states that holds more than one branch
 * is undecided; in an undecided set the role must not be able to act in a way
 * that depends on the branch (different messages to send, or ending in one
 * branch while waiting for a message in another).
 */
import type { DiagnosticSink } from "../language/diagnostic.js";
import type { GlobalGraph, GraphEdge } from "./global-graph.js";
import { edgeLabel, roleView } from "./projection.js";

/** Reports every knowledge-of-choice violation of `g`. */
export function checkKnowledgeOfChoice(g: GlobalGraph, roles: readonly string[], sink: DiagnosticSink): void {
  const out = new Map<number, GraphEdge[]>();
  for (const e of g.edges) {
    const list = out.get(e.from);
    if (list === undefined) out.set(e.from, [e]);
    else list.push(e);
  }
  const views = new Map(roles.map((r) => [r, view(g, r)]));
  for (const c of g.states) {
    const branches = out.get(c.id) ?? [];
    if (branches.length < 2 || c.holder === null || c.choicePos === undefined) continue;
    for (const role of roles) {
      if (role === c.holder) continue;
      const problem = explore(views.get(role)!, role, branches);
      if (problem !== undefined) {
        sink.report("knowledge-of-choice", c.choicePos, `knowledge of choice: role ${role} cannot tell which branch ${c.holder} chose here: ${problem}`);
      }
    }
  }
}

/** A role's view of the graph, and the global states where its part is not over. */
interface View extends ReturnType<typeof roleView> {
  readonly busy: ReadonlySet<number>;
}

function view(g: GlobalGraph, role: string): View {
  const v = roleView(g, role);
  const into = new Map<number, number[]>();
  for (const e of g.edges) into.set(e.to, [...(into.get(e.to) ?? []), e.from]);
  // The role's part is not over in a state from which one of its messages is reachable.
  const busy = new Set(g.edges.filter((e) => e.sender === role || e.receiver === role).map((e) => e.from));
  const stack = [...busy];
  while (stack.length > 0) {
    for (const f of into.get(stack.pop()!) ?? []) {
      if (!busy.has(f)) {
        busy.add(f);
        stack.push(f);
      }
    }
  }
  return { ...v, busy };
}

/**
 * A global state the role may be in, tagged with the branch it came from. `only` restricts the
 * choice state itself to its branch's first message, for a role that receives that message: the
 * role is still before the choice there, and learns the branch only by receiving it.
 */
interface Item {
  readonly state: number;
  readonly branch: number;
  readonly only?: GraphEdge;
  /** Reached by every branch of its set: checked with the set, but not explored further. */
  readonly settled?: boolean;
}
type Tagged = readonly Item[];

/**
 * Roles that never learn are not explored without end: a global state that every branch of a set
 * reaches is the same whichever branch was taken, so it is checked with the set but neither it nor
 * what follows it is explored further for this choice (an ambiguity further on does not come from
 * this choice; checkProjections finds any left). The sets are bounded by the global graph, and
 * after this many distinct sets per choice and role the protocol is refused as undecided.
 */
export const MAX_EXPLORED_SETS = 10_000;

function explore(v: View, role: string, branches: readonly GraphEdge[]): string | undefined {
  const { moves, busy, closure, out } = v;
  const involves = (e: GraphEdge) => e.sender === role || e.receiver === role;
  const bit = (i: number) => 1n << BigInt(i);
  /**
   * The tagged states silently reachable from `seeds` (state -> branches); a state reached by every
   * branch of `all` is settled: kept for the check, but what follows it is left out.
   */
  const tagged = (seeds: ReadonlyMap<number, bigint>, all: bigint): Item[] => {
    const mask = new Map<number, bigint>();
    const pending = new Map<number, bigint>();
    // States are expanded lowest id first: ids are breadth-first from the initial state, so where
    // branches join, the join is usually reached by all of them before it is expanded.
    const heap = new MinHeap();
    const add = (st: number, m: bigint): void => {
      const old = mask.get(st) ?? 0n;
      const now = old | m;
      if (now === old) return;
      mask.set(st, now);
      if (!pending.has(st)) heap.push(st);
      pending.set(st, (pending.get(st) ?? 0n) | (now & ~old));
    };
    for (const [st, m] of seeds) add(st, m);
    while (heap.size > 0) {
      const st = heap.pop();
      const m = pending.get(st)!;
      pending.delete(st);
      if (mask.get(st) === all) continue;
      for (const e of out.get(st) ?? []) if (!involves(e)) add(e.to, m);
    }
    const items: Item[] = [];
    for (const [st, m] of mask) {
      const settled = m === all;
      for (let i = 0; i < branches.length; i++) if ((m & bit(i)) !== 0n) items.push(settled ? { state: st, branch: i, settled } : { state: st, branch: i });
    }
    return items;
  };
  const start: Item[] = [];
  const seeds = new Map<number, bigint>();
  let all = 0n;
  branches.forEach((e, i) => {
    all |= bit(i);
    // A role that receives the branching message learns the branch from it, but only when it
    // receives it: until then it waits at the choice, where the other branches may go elsewhere.
    if (involves(e)) start.push({ state: e.from, branch: i, only: e });
    else seeds.set(e.to, (seeds.get(e.to) ?? 0n) | bit(i));
  });
  start.push(...tagged(seeds, all));
  const itemMoves = (it: Item): GraphEdge[] => (it.only !== undefined ? [it.only] : moves([it.state]));
  const seen = new Set<string>();
  const queue: Tagged[] = [dedupe(start)];
  for (let head = 0; head < queue.length; head++) {
    const set = queue[head]!;
    const key = set.map(itemKey).join(",");
    if (seen.has(key)) continue;
    seen.add(key);
    if (seen.size > MAX_EXPLORED_SETS) return `it is still undecided after ${MAX_EXPLORED_SETS} steps of the protocol`;
    if (new Set(set.map((it) => it.branch)).size < 2) continue; // decided
    const problem = conflict(role, set, itemMoves, (it) => it.only !== undefined || busy.has(it.state), (it) => (it.only !== undefined ? it.only : moves(closure([it.state])).find(() => true)));
    if (problem !== undefined) return problem;
    const byLabel = new Map<string, Map<number, bigint>>();
    for (const it of set) {
      if (it.settled === true) continue;
      for (const e of itemMoves(it)) {
        const k = `${e.sender} ${e.receiver} ${edgeLabel(e)}`;
        let next = byLabel.get(k);
        if (next === undefined) byLabel.set(k, (next = new Map()));
        next.set(e.to, (next.get(e.to) ?? 0n) | bit(it.branch));
      }
    }
    for (const next of byLabel.values()) {
      let m = 0n;
      for (const x of next.values()) m |= x;
      queue.push(dedupe(tagged(next, m)));
    }
  }
  return undefined;
}

const itemKey = (it: Item) => `${it.state}:${it.branch}${it.only === undefined ? "" : `/${it.only.id}`}${it.settled === true ? "=" : ""}`;

/**
 * In an undecided set the role must act the same way in every state: send the same messages in
 * each (when it holds the token in one, it holds it in all), or wait in each for a message that
 * is still to come (its part may not be over in one branch while it waits in another).
 */
function conflict(
  role: string,
  set: Tagged,
  itemMoves: (it: Item) => GraphEdge[],
  waits: (it: Item) => boolean,
  nextFor: (it: Item) => GraphEdge | undefined,
): string | undefined {
  const holds = (it: Item) => itemMoves(it).some((e) => e.sender === role);
  const holding = set.filter(holds);
  if (holding.length > 0) {
    const sig = (it: Item) => itemMoves(it).map((e) => `${edgeLabel(e)} to ${e.receiver}`).sort().join(" or ");
    const sigs = new Set(holding.map(sig));
    if (sigs.size > 1) {
      const [a, b] = [...sigs];
      return `afterwards it must send ${a} in one branch but ${b} in another, and no message it receives tells them apart`;
    }
    const other = set.find((it) => !holds(it) && it.branch !== holding[0]!.branch);
    if (other !== undefined) {
      const next = waits(other) ? nextFor(other) : undefined;
      const there = next === undefined ? "its part is over" : `it must wait for ${edgeLabel(next)} from ${next.sender}`;
      return `afterwards it must send ${sig(holding[0]!)} in one branch, but in another ${there}, and no message it receives tells them apart`;
    }
    return undefined;
  }
  // Waiting: the role's part is over in a state when no message of its can follow.
  const done = set.find((it) => !waits(it));
  const busy = set.find((it) => waits(it) && it.branch !== done?.branch);
  if (done !== undefined && busy !== undefined) {
    const next = nextFor(busy)!;
    return `in one branch its part is over, in another it must still receive ${edgeLabel(next)} from ${next.sender}; give it a message that tells the branches apart`;
  }
  return undefined;
}

function dedupe(xs: Item[]): Tagged {
  const m = new Map(xs.map((it) => [itemKey(it), it]));
  return [...m.values()].sort((a, b) => a.state - b.state || a.branch - b.branch || (a.only?.id ?? -1) - (b.only?.id ?? -1));
}

/** A binary min-heap of numbers. */
class MinHeap {
  private readonly a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  push(x: number): void {
    const a = this.a;
    a.push(x);
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (a[p]! <= a[i]!) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): number {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]! < a[m]!) m = l;
        if (r < a.length && a[r]! < a[m]!) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}
