/**
 * The projection-soundness oracle of the checker fuzzing (checker-run.ts): for a descriptor the
 * checker accepted, every way a role's typed API could be wrong.
 * - illegal-send: a local state offers a send that is not an edge of some global state it stands for
 *   (the monitor would refuse it at run time), or stands for a global state the role does not hold;
 * - never-finish: a local state with moves stands for a global state where the role's part is over
 *   (the role would wait forever there);
 * - cannot-end: from a local state the role can reach that stands for a global state the protocol can
 *   end from, the role's local machine can never reach a final state;
 * - name-clash: two moves of one local state get the same generated name (a duplicate identifier in
 *   the generated types, one move lost at run time);
 * - blocked-move: a local state offers a send or expects a receive of a message in the body of a call
 *   the role itself made (a unary call: the caller is blocked until the response, so the typed API
 *   deadlocks), or the global graph's requests and responses do not nest as calls.
 * A sample of the accepted protocols is also compiled by buf and the plugin and type-checked by tsc
 * (checker.test.ts), which catches any other way the generated code can be wrong.
 */
import type { SessionDescriptor } from "../../interceptors/descriptor/types.js";
import { stateMoveNames } from "../../interceptors/descriptor/names.js";

export type ViolationKind = "illegal-send" | "never-finish" | "cannot-end" | "name-clash" | "blocked-move";
export const VIOLATION_KINDS: readonly ViolationKind[] = ["illegal-send", "never-finish", "cannot-end", "name-clash", "blocked-move"];

export interface Violation {
  readonly kind: ViolationKind;
  readonly message: string;
}

/** `Service.Method[/request|/response[.case]]` of an edge, as local transitions label it. */
function label(e: SessionDescriptor["edges"][number]): string {
  const [, svc, method] = e.rpc.split("/");
  const rpc = `${svc!.split(".").pop()}.${method}`;
  if (e.kind === "oneway") return rpc;
  if (e.kind === "request") return `${rpc}/request`;
  return e.case === null ? `${rpc}/response` : `${rpc}/response.${e.case.field.name}`;
}

/** Every violation of projection soundness in `d` (empty when its projections are sound). */
export function projectionViolations(d: SessionDescriptor): Violation[] {
  const out: Violation[] = [];
  const n = d.states.length;
  const outEdges: number[][] = Array.from({ length: n }, () => []);
  const inEdges: number[][] = Array.from({ length: n }, () => []);
  for (const e of d.edges) {
    outEdges[e.from]!.push(e.id);
    inEdges[e.to]!.push(e.id);
  }
  /** Global states from which some state of `targets` is reachable (backwards closure). */
  const canReach = (targets: Iterable<number>): Set<number> => {
    const seen = new Set(targets);
    const stack = [...seen];
    while (stack.length > 0) {
      for (const id of inEdges[stack.pop()!]!) {
        const f = d.edges[id]!.from;
        if (!seen.has(f)) {
          seen.add(f);
          stack.push(f);
        }
      }
    }
    return seen;
  };
  const calls = openCalls(d, outEdges, out);
  const ends = d.states.filter((s) => outEdges[s.id]!.length === 0).map((s) => s.id);
  for (const role of d.roles.map((r) => r.name)) {
    const p = d.projections[role]!;
    // The role still has a part from g when an edge of its own is reachable from g (g included).
    const busy = canReach(d.edges.filter((e) => e.sender === role || e.receiver === role).map((e) => e.from));
    const bySource = new Map<number, typeof p.transitions[number][]>();
    for (const t of p.transitions) bySource.set(t.from, [...(bySource.get(t.from) ?? []), t]);
    for (const s of p.states) {
      const moves = bySource.get(s.id) ?? [];
      if (moves.length === 0) continue;
      const over = s.globals.filter((g) => !busy.has(g));
      if (over.length > 0) {
        out.push({ kind: "never-finish", message: `${role}: local state ${s.id} has moves but stands for global ${over.join(",")}, where its part is over` });
      }
      for (const t of moves.filter((x) => x.direction === "send")) {
        for (const g of s.globals) {
          const ok = d.states[g]!.holder === role && outEdges[g]!.some((id) => {
            const e = d.edges[id]!;
            return e.sender === role && e.receiver === t.peer && label(e) === t.label;
          });
          if (!ok) out.push({ kind: "illegal-send", message: `${role}: local state ${s.id} offers send ${t.peer} ${t.label}, which global ${g} (held by ${d.states[g]!.holder}) does not allow` });
        }
      }
      for (const t of moves) {
        for (const id of t.edges) {
          const e = d.edges[id]!;
          const open = calls[e.from];
          if (open === undefined) continue;
          // The response of the innermost call frees its caller; every other open call's caller waits.
          const waiting = e.kind === "response" ? open.slice(0, -1) : open;
          const call = waiting.find((c) => c.caller === role);
          if (call !== undefined) {
            out.push({ kind: "blocked-move", message: `${role}: local state ${s.id} ${t.direction === "send" ? "offers send" : "expects receive"} ${t.peer} ${t.label} (edge ${id}), in the body of its own call to ${call.callee} ${call.rpc} (edge ${call.edge}), while it waits for the response` });
          }
        }
      }
      const names = stateMoveNames(moves);
      const dup = names.find((x, i) => names.indexOf(x) !== i);
      if (dup !== undefined) out.push({ kind: "name-clash", message: `${role}: local state ${s.id} has two moves named ${dup}` });
    }
    {
      // From every reachable local state that stands for a global state the session can end from, a final local state is reachable.
      const back = new Map<number, number[]>();
      for (const t of p.transitions) back.set(t.to, [...(back.get(t.to) ?? []), t.from]);
      const toFinal = new Set(p.states.filter((s) => s.final).map((s) => s.id));
      const stack = [...toFinal];
      while (stack.length > 0) {
        for (const f of back.get(stack.pop()!) ?? []) {
          if (!toFinal.has(f)) {
            toFinal.add(f);
            stack.push(f);
          }
        }
      }
      const reach = new Set([p.initial]);
      const fwd = [p.initial];
      while (fwd.length > 0) for (const t of bySource.get(fwd.pop()!) ?? []) if (!reach.has(t.to)) (reach.add(t.to), fwd.push(t.to));
      const canEnd = canReach(ends);
      const stuck = [...reach].filter((s) => !toFinal.has(s) && p.states[s]!.globals.some((g) => canEnd.has(g)));
      if (stuck.length > 0) out.push({ kind: "cannot-end", message: `${role}: the session can end but local state ${stuck.join(",")} can never reach a final state` });
    }
  }
  return out;
}

interface OpenCall {
  readonly caller: string;
  readonly callee: string;
  readonly rpc: string;
  /** The request edge. */
  readonly edge: number;
}

/**
 * The calls open at each global state, outermost first: a request opens a call, the response of the
 * innermost open call closes it. Reports a response that closes no open call, or a state reached with
 * two different sets of open calls (a loop that leaves a body), as blocked-move.
 */
function openCalls(d: SessionDescriptor, outEdges: readonly number[][], out: Violation[]): Array<readonly OpenCall[] | undefined> {
  const at: Array<readonly OpenCall[] | undefined> = new Array(d.states.length);
  const key = (cs: readonly OpenCall[]) => cs.map((c) => c.edge).join(",");
  at[d.initial] = [];
  const queue = [d.initial];
  for (let head = 0; head < queue.length; head++) {
    const g = queue[head]!;
    const open = at[g]!;
    for (const id of outEdges[g]!) {
      const e = d.edges[id]!;
      let next: readonly OpenCall[] = open;
      if (e.kind === "request") next = [...open, { caller: e.sender, callee: e.receiver, rpc: e.rpc, edge: id }];
      else if (e.kind === "response") {
        const top = open[open.length - 1];
        if (top === undefined || top.callee !== e.sender || top.caller !== e.receiver || top.rpc !== e.rpc) {
          out.push({ kind: "blocked-move", message: `edge ${id} (${e.sender} -> ${e.receiver} ${e.rpc} response) closes no open call at global ${g}` });
          continue;
        }
        next = open.slice(0, -1);
      }
      const known = at[e.to];
      if (known === undefined) {
        at[e.to] = next;
        queue.push(e.to);
      } else if (key(known) !== key(next)) {
        out.push({ kind: "blocked-move", message: `global ${e.to} is reached inside the calls of edges [${key(known)}] and of edges [${key(next)}]` });
      }
    }
  }
  return at;
}
