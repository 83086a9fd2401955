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

type Tagged = ReadonlyArray<readonly [state: number, branch: number]>;

function explore(g: GlobalGraph, role: string, branches: readonly GraphEdge[]): string | undefined {
  const { closure, moves } = roleView(g, role);
  const start: Array<[number, number]> = [];
  branches.forEach((e, i) => {
    // A role that receives the branching message itself learns the branch from it.
    if (e.receiver === role) return;
    for (const s of closure([e.to])) start.push([s, i]);
  });
  const seen = new Set<string>();
  const queue: Tagged[] = [dedupe(start)];
  while (queue.length > 0) {
    const set = queue.shift()!;
    const key = set.map(([s, b]) => `${s}:${b}`).join(",");
    if (seen.has(key)) continue;
    seen.add(key);
    if (new Set(set.map(([, b]) => b)).size < 2) continue; // decided
    const problem = conflict(role, set, moves, closure);
    if (problem !== undefined) return problem;
    const byLabel = new Map<string, Array<[number, number]>>();
    for (const [s, b] of set) {
      for (const e of moves([s])) {
        const k = `${e.sender} ${e.receiver} ${edgeLabel(e)}`;
        const next = byLabel.get(k) ?? [];
        for (const t of closure([e.to])) next.push([t, b]);
        byLabel.set(k, next);
      }
    }
    for (const next of byLabel.values()) queue.push(dedupe(next));
  }
  return undefined;
}

/**
 * A set is either one where the role holds the token in every state (it just
 * received) or one where it holds it in none (it waits): only a receive hands
 * the token to a role, and silent moves never do.
 */
function conflict(
  role: string,
  set: Tagged,
  moves: (s: readonly number[]) => GraphEdge[],
  closure: (s: Iterable<number>) => number[],
): string | undefined {
  const holding = set.filter(([s]) => moves([s]).some((e) => e.sender === role));
  if (holding.length > 0) {
    const sig = (s: number) => moves([s]).map((e) => `${edgeLabel(e)} to ${e.receiver}`).sort().join(" or ");
    const sigs = new Set(holding.map(([s]) => sig(s)));
    if (sigs.size > 1) {
      const [a, b] = [...sigs];
      return `afterwards it must send ${a} in one branch but ${b} in another, and no message it receives tells them apart`;
    }
    return undefined;
  }
  // Waiting: the role's part is over in a state when no message of its can follow.
  const over = (s: number) => moves(closure([s])).length === 0;
  const done = set.find(([s]) => over(s));
  const busy = set.find(([s, b]) => !over(s) && b !== done?.[1]);
  if (done !== undefined && busy !== undefined) {
    const next = moves(closure([busy[0]]))[0]!;
    return `in one branch its part is over, in another it must still receive ${edgeLabel(next)} from ${next.sender}; give it a message that tells the branches apart`;
  }
  return undefined;
}

function dedupe(xs: Array<[number, number]>): Tagged {
  const m = new Map(xs.map(([s, b]) => [`${s}:${b}`, [s, b] as const]));
  return [...m.values()].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}
