/**
 * The global graph of a session: states labelled by the token holder, one
 * edge per concrete message (a one-way message, a request, or one case of a
 * response). Built from a checked protocol in continuation-passing style.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import type { Block, Statement } from "../language/ast.js";
import type { Position } from "../language/diagnostic.js";
import type { ResolvedInteraction } from "../check/session-decl.js";

export type EdgeKind = "oneway" | "request" | "response";

/** A state: who holds the token there (null at the end of the session). */
export interface GraphState {
  readonly id: number;
  readonly holder: string | null;
  /** For a state where a choice is made: the position of that choice in the source. */
  readonly choicePos: Position | undefined;
}

/** One concrete message. */
export interface GraphEdge {
  readonly id: number;
  readonly from: number;
  readonly to: number;
  readonly sender: string;
  readonly receiver: string;
  readonly kind: EdgeKind;
  readonly method: DescMethod;
  /** For a response branch: the oneof case it carries. */
  readonly case: string | undefined;
  readonly interaction: ResolvedInteraction;
}

export interface GlobalGraph {
  readonly states: readonly GraphState[];
  readonly edges: readonly GraphEdge[];
  readonly initial: number;
}

interface MState {
  holder: string | null;
  choicePos: Position | undefined;
  dead: boolean;
}
interface MEdge {
  from: number;
  to: number;
  sender: string;
  receiver: string;
  kind: EdgeKind;
  caseIndex: number;
  case: string | undefined;
  r: ResolvedInteraction;
}

/** Compiles a checked protocol (every interaction resolved) into its global graph. */
export function buildGlobalGraph(
  protocol: Block,
  resolved: ReadonlyMap<Statement, ResolvedInteraction>,
): GlobalGraph {
  const b = new Builder(resolved);
  const end = b.state(null);
  const initial = b.block(protocol, end, new Map());
  return b.finish(initial);
}

class Builder {
  private readonly states: MState[] = [];
  private readonly edges: MEdge[] = [];
  constructor(private readonly resolved: ReadonlyMap<Statement, ResolvedInteraction>) {}

  state(holder: string | null, choicePos?: Position): number {
    this.states.push({ holder, choicePos, dead: false });
    return this.states.length - 1;
  }

  /** The edges leaving and entering each state, kept up to date by `add` and `merge`. */
  private readonly outs = new Map<number, Set<MEdge>>();
  private readonly ins = new Map<number, Set<MEdge>>();

  private index(m: Map<number, Set<MEdge>>, state: number): Set<MEdge> {
    let set = m.get(state);
    if (set === undefined) m.set(state, (set = new Set()));
    return set;
  }

  private add(e: MEdge): void {
    this.edges.push(e);
    this.index(this.outs, e.from).add(e);
    this.index(this.ins, e.to).add(e);
  }

  private edge(from: number, to: number, r: ResolvedInteraction, kind: EdgeKind, caseName?: string, caseIndex = 0): void {
    const n = r.node;
    const [sender, receiver] = kind === "response" ? [n.to.text, n.from.text] : [n.from.text, n.to.text];
    this.add({ from, to, sender, receiver, kind, case: caseName, caseIndex, r });
  }

  /** Compiles `b` so that falling off its end continues at `k`; returns its entry state. */
  block(b: Block, k: number, loops: ReadonlyMap<string, number>): number {
    let next = k;
    for (let i = b.stmts.length - 1; i >= 0; i--) next = this.statement(b.stmts[i]!, next, loops);
    return next;
  }

  private statement(s: Statement, k: number, loops: ReadonlyMap<string, number>): number {
    switch (s.kind) {
      case "continue":
        return loops.get(s.label.text)!;
      case "interaction": {
        const r = this.resolved.get(s)!;
        const q = this.state(s.from.text);
        if (!s.call) {
          this.edge(q, k, r, "oneway");
          return q;
        }
        const respond = this.state(s.to.text, s.branchesPos);
        if (s.branches === undefined) this.edge(respond, k, r, "response");
        else {
          const cases = r.oneof?.fields.map((f) => f.name) ?? [];
          for (const br of s.branches) {
            const entry = this.block(br.body, k, loops);
            this.edge(respond, entry, r, "response", br.label.text, cases.indexOf(br.label.text));
          }
        }
        const body = s.body === undefined ? respond : this.block(s.body, respond, loops);
        this.edge(q, body, r, "request");
        return q;
      }
      case "choice": {
        const c = this.state(s.at.text, s.pos);
        // The choice offers each branch's first messages. A branch's entry is not merged into the
        // choice: when it starts a loop, `continue` goes back to the loop, not to the choice.
        for (const br of s.branches) this.copyEdges(this.block(br, k, loops), c);
        return c;
      }
      case "rec": {
        const head = this.state(null);
        const inner = new Map(loops);
        inner.set(s.label.text, head);
        const entry = this.block(s.body, k, inner);
        this.merge(entry, head);
        return head;
      }
    }
  }

  /** Gives `into` a copy of every edge leaving `from` (which stays, for the edges entering it). */
  private copyEdges(from: number, into: number): void {
    for (const e of [...(this.outs.get(from) ?? [])]) this.add({ ...e, from: into });
  }

  /** Makes `into` stand for `from`: every edge from or to `from` now uses `into`. */
  private merge(from: number, into: number): void {
    if (from === into) return;
    const src = this.states[from]!;
    const dst = this.states[into]!;
    dst.holder ??= src.holder;
    dst.choicePos ??= src.choicePos;
    src.dead = true;
    const outInto = this.index(this.outs, into);
    for (const e of this.outs.get(from) ?? []) {
      e.from = into;
      outInto.add(e);
    }
    const inInto = this.index(this.ins, into);
    for (const e of this.ins.get(from) ?? []) {
      e.to = into;
      inInto.add(e);
    }
    this.outs.delete(from);
    this.ins.delete(from);
  }

  /** Keeps the reachable part and numbers states and edges in a stable order. */
  finish(initial: number): GlobalGraph {
    // Edge order: by source order of the interaction (its offset in the protocol
    // text, the same with or without the .proto source), then request before
    // response, then oneof case order. States: breadth-first from the initial state.
    const order = (e: MEdge): [number, number, number] => [e.r.node.offset, e.kind === "response" ? 1 : 0, e.caseIndex];
    const sorted = [...this.edges].sort((a, b) => {
      const x = order(a);
      const y = order(b);
      for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
      return 0;
    });
    const outOf = new Map<number, MEdge[]>();
    for (const e of sorted) {
      const list = outOf.get(e.from);
      if (list === undefined) outOf.set(e.from, [e]);
      else list.push(e);
    }
    const stateIds = new Map<number, number>([[initial, 0]]);
    const queue = [initial];
    for (let head = 0; head < queue.length; head++) {
      for (const e of outOf.get(queue[head]!) ?? []) {
        if (!stateIds.has(e.to)) {
          stateIds.set(e.to, stateIds.size);
          queue.push(e.to);
        }
      }
    }
    const states: GraphState[] = [...stateIds].map(([old, id]) => {
      const st = this.states[old]!;
      const holder = outOf.get(old)?.[0]?.sender ?? null;
      return { id, holder, choicePos: st.choicePos };
    });
    states.sort((a, b) => a.id - b.id);
    const edges: GraphEdge[] = sorted
      .filter((e) => stateIds.has(e.from))
      .map((e, id) => ({
        id,
        from: stateIds.get(e.from)!,
        to: stateIds.get(e.to)!,
        sender: e.sender,
        receiver: e.receiver,
        kind: e.kind,
        method: e.r.method,
        case: e.case,
        interaction: e.r,
      }));
    return { states, edges, initial: 0 };
  }
}
