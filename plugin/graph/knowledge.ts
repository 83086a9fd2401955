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
  for (const c of g.states) {
    const branches = g.edges.filter((e) => e.from === c.id);
    if (branches.length < 2 || c.holder === null || c.choicePos === undefined) continue;
    for (const role of roles) {
      if (role === c.holder) continue;
      const problem = explore(g, role, branches);
      if (problem !== undefined) {
        sink.report("knowledge-of-choice", c.choicePos, `knowledge of choice: role ${role} cannot tell which branch ${c.holder} chose here: ${problem}`);
      }
    }
  }
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
}
type Tagged = readonly Item[];

/**
 * Roles that never learn are not explored without end: the sets of tagged states are bounded by
 * the global graph, and after this many distinct sets per choice and role the role is refused as
 * never learning the branch (a protocol needs that many steps of undecided waiting only when it is
 * generated, never written).
 */
export const MAX_EXPLORED_SETS = 10_000;

function explore(g: GlobalGraph, role: string, branches: readonly GraphEdge[]): string | undefined {
  const { closure, moves } = roleView(g, role);
  const involves = (e: GraphEdge) => e.sender === role || e.receiver === role;
  const start: Item[] = [];
  branches.forEach((e, i) => {
    // A role that receives the branching message learns the branch from it, but only when it
    // receives it: until then it waits at the choice, where the other branches may go elsewhere.
    if (involves(e)) start.push({ state: e.from, branch: i, only: e });
    else for (const s of closure([e.to])) start.push({ state: s, branch: i });
  });
  const itemMoves = (it: Item): GraphEdge[] => (it.only !== undefined ? [it.only] : moves([it.state]));
  const seen = new Set<string>();
  const queue: Tagged[] = [dedupe(start)];
  while (queue.length > 0) {
    const set = queue.shift()!;
    const key = set.map(itemKey).join(",");
    if (seen.has(key)) continue;
    seen.add(key);
    if (seen.size > MAX_EXPLORED_SETS) return `it is still undecided after ${MAX_EXPLORED_SETS} steps of the protocol`;
    if (new Set(set.map((it) => it.branch)).size < 2) continue; // decided
    const problem = conflict(role, set, itemMoves, (it) => (it.only !== undefined ? [it.only] : moves(closure([it.state]))));
    if (problem !== undefined) return problem;
    const byLabel = new Map<string, Item[]>();
    for (const it of set) {
      for (const e of itemMoves(it)) {
        const k = `${e.sender} ${e.receiver} ${edgeLabel(e)}`;
        const next = byLabel.get(k) ?? [];
        for (const t of closure([e.to])) next.push({ state: t, branch: it.branch });
        byLabel.set(k, next);
      }
    }
    for (const next of byLabel.values()) queue.push(dedupe(next));
  }
  return undefined;
}

const itemKey = (it: Item) => `${it.state}:${it.branch}${it.only === undefined ? "" : `/${it.only.id}`}`;

/**
 * In an undecided set the role must act the same way in every state: send the same messages in
 * each (when it holds the token in one, it holds it in all), or wait in each for a message that
 * is still to come (its part may not be over in one branch while it waits in another).
 */
function conflict(
  role: string,
  set: Tagged,
  itemMoves: (it: Item) => GraphEdge[],
  ahead: (it: Item) => GraphEdge[],
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
      const next = ahead(other)[0];
      const there = next === undefined ? "its part is over" : `it must wait for ${edgeLabel(next)} from ${next.sender}`;
      return `afterwards it must send ${sig(holding[0]!)} in one branch, but in another ${there}, and no message it receives tells them apart`;
    }
    return undefined;
  }
  // Waiting: the role's part is over in a state when no message of its can follow.
  const over = (it: Item) => ahead(it).length === 0;
  const done = set.find(over);
  const busy = set.find((it) => !over(it) && it.branch !== done?.branch);
  if (done !== undefined && busy !== undefined) {
    const next = ahead(busy)[0]!;
    return `in one branch its part is over, in another it must still receive ${edgeLabel(next)} from ${next.sender}; give it a message that tells the branches apart`;
  }
  return undefined;
}

function dedupe(xs: Item[]): Tagged {
  const m = new Map(xs.map((it) => [itemKey(it), it]));
  return [...m.values()].sort((a, b) => a.state - b.state || a.branch - b.branch || (a.only?.id ?? -1) - (b.only?.id ?? -1));
}
