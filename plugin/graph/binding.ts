/**
 * A dynamic role is bound once per session: no binding of a role may follow another binding of the
 * same role on any path of the global graph (a second `bind` after the first, or the same `bind`
 * again on a later round of a loop). The runtime refuses a message that binds an already bound role
 * to another principal (defence `rebinding`, docs/protocol.md), so such a protocol could not run.
 */
import type { BindClause } from "../language/ast.js";
import type { DiagnosticSink } from "../language/diagnostic.js";
import type { GlobalGraph, GraphEdge } from "./global-graph.js";

/** Reports every binding of `g` that may re-bind its role. */
export function checkSingleBinding(g: GlobalGraph, sink: DiagnosticSink): void {
  const out = new Map<number, GraphEdge[]>();
  for (const e of g.edges) out.set(e.from, [...(out.get(e.from) ?? []), e]);
  const binders = new Map<string, GraphEdge[]>();
  for (const e of g.edges) {
    if (e.kind === "response") continue;
    for (const b of e.interaction.bindings) binders.set(b.role, [...(binders.get(b.role) ?? []), e]);
  }
  const reported = new Set<BindClause>();
  for (const [role, edges] of binders) {
    for (const first of edges) {
      // The states reachable once `first` has bound the role.
      const after = new Set([first.to]);
      const stack = [first.to];
      while (stack.length > 0) {
        for (const e of out.get(stack.pop()!) ?? []) {
          if (!after.has(e.to)) {
            after.add(e.to);
            stack.push(e.to);
          }
        }
      }
      for (const again of edges.filter((e) => after.has(e.from))) {
        const clause = bindClause(again, role);
        if (clause === undefined || reported.has(clause)) continue;
        reported.add(clause);
        const prev = bindClause(first, role)!;
        const by = again === first ? "by this same bind on an earlier round of its loop" : `by the bind at ${prev.pos.line}:${prev.pos.col}`;
        sink.report(
          "binding",
          clause.role.pos,
          `role ${role} may already be bound here (${by}): a dynamic role is bound once per session, since the runtime refuses a second principal for a role (it never saw the history addressed to the first); ${again === first ? "bind it once, before the loop" : "bind it once"}`,
        );
      }
    }
  }
}

function bindClause(e: GraphEdge, role: string): BindClause | undefined {
  return e.interaction.node.clauses.find((c): c is BindClause => c.kind === "bind" && c.role.text === role);
}
