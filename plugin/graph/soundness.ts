/**
 * The projections' soundness, checked on the projections themselves after knowledge of choice:
 * every local state that offers a move stands only for global states where the role's part is not
 * over, and a local state where the role sends stands only for global states where it holds the
 * token and may send exactly those messages. Knowledge of choice implies both; this check makes
 * the typed API sound even for an ambiguity that analysis would attribute to no single choice.
 */
import type { DiagnosticSink, Position } from "../language/diagnostic.js";
import type { GlobalGraph, GraphEdge } from "./global-graph.js";
import { edgeLabel, type Projection } from "./projection.js";

/** Reports the first unsound local state of each role (at the nearest choice), if any. */
export function checkProjections(g: GlobalGraph, projections: readonly Projection[], fallback: Position, sink: DiagnosticSink): void {
  const out = new Map<number, GraphEdge[]>();
  const into = new Map<number, number[]>();
  for (const e of g.edges) {
    out.set(e.from, [...(out.get(e.from) ?? []), e]);
    into.set(e.to, [...(into.get(e.to) ?? []), e.from]);
  }
  for (const p of projections) {
    const role = p.role;
    const busy = new Set(g.edges.filter((e) => e.sender === role || e.receiver === role).map((e) => e.from));
    const stack = [...busy];
    while (stack.length > 0) for (const f of into.get(stack.pop()!) ?? []) if (!busy.has(f)) (busy.add(f), stack.push(f));
    const sends = (s: number) => (out.get(s) ?? []).filter((e) => e.sender === role).map((e) => `${edgeLabel(e)} to ${e.receiver}`).sort().join(" or ");
    const moving = new Set(p.transitions.map((t) => t.from));
    for (const ls of p.states) {
      if (!moving.has(ls.id)) continue;
      let problem: string | undefined;
      const over = ls.globals.find((s) => !busy.has(s));
      if (over !== undefined) problem = "in one of them its part is over while in another it must still act";
      else {
        const holding = ls.globals.filter((s) => g.states[s]!.holder === role);
        if (holding.length > 0 && (holding.length < ls.globals.length || new Set(holding.map(sends)).size > 1)) {
          problem = "in them it must send different messages, or send in one and wait in another";
        }
      }
      if (problem === undefined) continue;
      const at = ls.globals.map((s) => g.states[s]!.choicePos).find((x) => x !== undefined) ?? g.states.find((s) => s.choicePos !== undefined)?.choicePos ?? fallback;
      sink.report("knowledge-of-choice", at, `knowledge of choice: role ${role} cannot tell apart the global states ${ls.globals.join(", ")}: ${problem}; give it a message that tells the branches apart`);
      break;
    }
  }
}
