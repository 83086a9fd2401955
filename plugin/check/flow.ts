/**
 * The forward checks over a session's protocol: names and types, token
 * discipline, deterministic choices, recursion, dynamic bindings, value
 * passing and unreachable code. Each problem becomes one diagnostic; the
 * walk goes on after a problem so one run reports all of them.
 */
import type { Block, Choice, Interaction, Rec, Statement } from "../language/ast.js";
import type { DiagnosticSink, Position } from "../language/diagnostic.js";
import { resolveInteraction } from "./resolve.js";
import type { ResolvedInteraction, SessionDecl } from "./session-decl.js";

/** What is known at a point of the protocol. */
interface Flow {
  /** The role holding the token (the one that acts next). */
  readonly holder: string;
  /**
   * Set after a choice whose branches end with different holders: an error
   * only if something after the choice needs the holder.
   */
  readonly holderConflict?: { readonly pos: Position; readonly message: string };
  /** Dynamic roles bound on every path to this point. */
  readonly bound: ReadonlySet<string>;
  /** `role:method` for each method a role sent or received on every path to this point. */
  readonly seen: ReadonlySet<string>;
}

interface Scope {
  readonly loops: ReadonlyMap<string, { holder: string; pos: Position; callDepth: number }>;
  /** How many call bodies enclose this point. */
  readonly callDepth: number;
  /**
   * The callers of the calls whose bodies enclose this point, each with its call: a caller waits
   * for the response, so it takes no part in the body.
   */
  readonly blocked: ReadonlyMap<string, Interaction>;
}

/** The result of the walk: the resolved interactions, by node. */
export interface FlowResult {
  readonly interactions: ReadonlyMap<Interaction, ResolvedInteraction>;
  /** Roles that send or receive somewhere. */
  readonly active: ReadonlySet<string>;
}

/** Runs every forward check over `decl`, reporting into `sink`. */
export function checkFlow(decl: SessionDecl, sink: DiagnosticSink): FlowResult {
  const w = new Walker(decl, sink);
  const first = firstActor(decl.protocol.stmts[0]) ?? firstSender(decl.protocol);
  if (first === undefined) sink.report("syntax", decl.protocol.pos, "the protocol sends no message");
  else {
    const flow: Flow = { holder: first, bound: new Set(), seen: new Set() };
    w.block(decl.protocol, flow, { loops: new Map(), callDepth: 0, blocked: new Map() });
  }
  const mentioned = new Set<string>();
  mentionedRoles(decl.protocol, mentioned);
  for (const r of decl.roles) {
    if (!mentioned.has(r.name)) sink.report("unused-role", r.pos, `role ${r.name} never sends nor receives a message: remove it or give it a part in the protocol`);
  }
  return { interactions: w.resolved, active: w.active };
}

function firstActor(s: Statement | undefined): string | undefined {
  switch (s?.kind) {
    case "interaction": return s.from.text;
    case "choice": return s.at.text;
    case "rec": return firstActor(s.body.stmts[0]);
    default: return undefined;
  }
}

class Walker {
  readonly resolved = new Map<Interaction, ResolvedInteraction>();
  readonly active = new Set<string>();
  private readonly roles: ReadonlyMap<string, SessionDecl["roles"][number]>;

  constructor(
    private readonly decl: SessionDecl,
    private readonly sink: DiagnosticSink,
  ) {
    this.roles = new Map(decl.roles.map((r) => [r.name, r]));
  }

  /** Walks a block; returns the flow after it, or undefined when it never falls through. */
  block(b: Block, flow: Flow, scope: Scope): Flow | undefined {
    let cur: Flow | undefined = flow;
    let reportedUnreachable = false;
    for (const s of b.stmts) {
      if (cur === undefined) {
        if (!reportedUnreachable) {
          this.sink.report("unreachable", s.pos, "unreachable: the statement before this one never falls through (it continues a loop on every path)");
          reportedUnreachable = true;
        }
        continue;
      }
      cur = this.statement(s, cur, scope);
    }
    return cur;
  }

  private statement(s: Statement, flow: Flow, scope: Scope): Flow | undefined {
    flow = this.settle(flow);
    switch (s.kind) {
      case "interaction": return this.interaction(s, flow, scope);
      case "choice": return this.choice(s, flow, scope);
      case "rec": return this.rec(s, flow, scope);
      case "continue": {
        const loop = scope.loops.get(s.label.text);
        if (loop === undefined) {
          this.sink.report("dangling-recursion", s.label.pos, `continue ${s.label.text}: no enclosing loop is named ${s.label.text}`);
        } else if (loop.callDepth !== scope.callDepth) {
          this.sink.report("dangling-recursion", s.label.pos, `continue ${s.label.text} leaves the body of a call: a call body must end with its callee responding`);
        } else if (loop.holder !== flow.holder) {
          this.sink.report("token", s.pos, `continue ${s.label.text}: ${flow.holder} holds the token here but ${loop.holder} held it at the start of the loop`);
        }
        return undefined;
      }
    }
  }

  private interaction(s: Interaction, flow: Flow, scope: Scope): Flow | undefined {
    const from = s.from.text;
    const to = s.to.text;
    const rolesOk = this.knownRole(s.from.text, s.from.pos) & this.knownRole(to, s.to.pos);
    if (rolesOk && from === to) this.sink.report("token", s.to.pos, `${from} sends to itself: an interaction is between two roles`);
    const waiting = rolesOk ? this.blockedIn(s, scope) : false;
    if (rolesOk && from !== flow.holder && !waiting) {
      this.sink.report("token", s.from.pos, `${from} cannot send ${s.method.text} here: ${flow.holder} holds the token (the receiver of the previous message acts next)`);
    }
    this.active.add(from);
    this.active.add(to);
    const r = rolesOk ? resolveInteraction(this.decl, s, this.sink) : undefined;
    let seen = flow.seen;
    const bound = new Set(flow.bound);
    if (r !== undefined) {
      this.resolved.set(s, r);
      this.checkValues(r, flow);
      for (const b of r.bindings) bound.add(b.role);
      seen = new Set([...flow.seen, `${from}:${r.method.name}`, `${to}:${r.method.name}`]);
    }
    for (const role of [from, to]) {
      const decl = this.roles.get(role);
      if (decl?.dynamic && !bound.has(role)) {
        this.sink.report("binding", role === from ? s.from.pos : s.to.pos, `role ${role} is dynamic and not bound on every path before this message: add 'bind ${role}' to an earlier interaction (or to this one, by its sender)`);
        bound.add(role); // report once per role
      }
    }
    if (!s.call) return { holder: to, bound, seen };
    // The callee acts in the body, then responds; the caller holds the token after the response.
    let inner: Flow | undefined = { holder: to, bound, seen };
    if (s.body !== undefined) {
      if (s.body.stmts.length === 0) this.sink.report("syntax", s.body.pos, "an empty call body: remove the braces");
      const blocked = new Map(scope.blocked);
      if (!blocked.has(from)) blocked.set(from, s);
      inner = this.block(s.body, inner, { loops: scope.loops, callDepth: scope.callDepth + 1, blocked });
      if (inner !== undefined) inner = this.settle(inner);
      if (inner !== undefined && inner.holder !== to) {
        this.sink.report("token", s.body.end, `the body of ${from} => ${to}.${s.method.text} ends with ${inner.holder} holding the token; it must end at the callee ${to}, which responds`);
      }
      if (inner === undefined) return undefined;
    }
    const after: Flow = { holder: from, bound: inner.bound, seen: inner.seen };
    if (s.branches === undefined) return after;
    return this.join(
      s.branches.map((b) => ({ pos: b.label.pos, out: this.block(b.body, after, scope) })),
    );
  }

  private choice(s: Choice, flow: Flow, scope: Scope): Flow | undefined {
    const at = s.at.text;
    if (this.knownRole(at, s.at.pos) && at !== flow.holder) {
      this.sink.report("token", s.at.pos, `choice at ${at}: ${flow.holder} holds the token here, so only ${flow.holder} can choose`);
    }
    const starts = new Map<string, Position>();
    for (const b of s.branches) {
      const firsts = firstMessages(b.stmts[0]);
      if (firsts === undefined) {
        this.sink.report("nondeterministic-choice", b.pos, `every branch of choice at ${at} must start with a message from ${at}, so the others can tell the branches apart`);
        continue;
      }
      for (const f of firsts) {
        const key = `${f.to.text}.${f.method.text}`;
        const prev = starts.get(key);
        if (prev !== undefined) {
          this.sink.report("nondeterministic-choice", f.pos, `nondeterministic choice at ${at}: two branches start with ${at} -> ${key} (the other at ${prev.line}:${prev.col}); start each branch with a different message`);
        } else starts.set(key, f.pos);
      }
    }
    return this.join(s.branches.map((b) => ({ pos: b.pos, out: this.block(b, flow, scope) })));
  }

  private rec(s: Rec, flow: Flow, scope: Scope): Flow | undefined {
    if (scope.loops.has(s.label.text)) {
      this.sink.report("dangling-recursion", s.label.pos, `loop ${s.label.text} is already defined by an enclosing loop: use a different label`);
    }
    if (!guarded(s.body, new Set([s.label.text]))) {
      this.sink.report("unguarded-recursion", s.pos, `unguarded recursion: loop ${s.label.text} can reach 'continue' without sending a message`);
    }
    if (!continues(s.body, s.label.text)) {
      this.sink.report("dangling-recursion", s.label.pos, `loop ${s.label.text} is never continued: remove 'rec ${s.label.text}' or add 'continue ${s.label.text};'`);
    }
    const loops = new Map(scope.loops);
    loops.set(s.label.text, { holder: flow.holder, pos: s.pos, callDepth: scope.callDepth });
    return this.block(s.body, flow, { loops, callDepth: scope.callDepth, blocked: scope.blocked });
  }

  /**
   * Reports each role of `s` that is the caller of an enclosing call: it waits for that call's
   * response, so it can neither send nor receive in the call's body. True when the sender is one.
   */
  private blockedIn(s: Interaction, scope: Scope): boolean {
    let sender = false;
    const parts = [[s.from.text, s.from.pos], [s.to.text, s.to.pos]] as const;
    for (const [role, pos] of s.from.text === s.to.text ? parts.slice(0, 1) : parts) {
      const call = scope.blocked.get(role);
      if (call === undefined) continue;
      if (role === s.from.text) sender = true;
      const c = `${call.from.text} => ${call.to.text}.${call.method.text}`;
      this.sink.report(
        "token",
        pos,
        `${role} cannot take part in ${s.from.text} ${s.call ? "=>" : "->"} ${s.to.text}.${s.method.text} here: ${role} is waiting for the response to its call ${c} (at ${call.pos.line}:${call.pos.col}), and a caller takes no part in the body of its call; move this interaction after the call, or write the call as one-way messages (->) if ${role} must act before ${call.to.text} responds`,
      );
    }
    return sender;
  }

  /** Reports a pending holder conflict, now that the holder is needed. */
  private settle(flow: Flow): Flow {
    if (flow.holderConflict === undefined) return flow;
    this.sink.report("token", flow.holderConflict.pos, flow.holderConflict.message);
    return { holder: flow.holder, bound: flow.bound, seen: flow.seen };
  }

  private join(branches: ReadonlyArray<{ pos: Position; out: Flow | undefined }>): Flow | undefined {
    const live = branches.filter((b): b is { pos: Position; out: Flow } => b.out !== undefined);
    const first = live[0];
    if (first === undefined) return undefined;
    const bound = new Set([...first.out.bound].filter((r) => live.every((b) => b.out.bound.has(r))));
    const seen = new Set([...first.out.seen].filter((m) => live.every((b) => b.out.seen.has(m))));
    const other = live.find((b) => b.out.holder !== first.out.holder);
    const conflict = live.map((b) => b.out.holderConflict).find((c) => c !== undefined);
    if (other !== undefined) {
      const message = `this branch ends with ${other.out.holder} holding the token but the branch at ${first.pos.line}:${first.pos.col} ends with ${first.out.holder}; what follows needs one token holder`;
      return { holder: first.out.holder, bound, seen, holderConflict: { pos: other.pos, message } };
    }
    return conflict === undefined ? { holder: first.out.holder, bound, seen } : { holder: first.out.holder, bound, seen, holderConflict: conflict };
  }

  private checkValues(r: ResolvedInteraction, flow: Flow): void {
    for (const c of r.node.clauses) {
      if (c.kind === "where" || c.kind === "opens") {
        const receiver = r.node.to.text;
        if (!flow.seen.has(`${receiver}:${c.method.text}`)) {
          this.sink.report("type", c.method.pos, `${c.kind}: ${receiver} has not sent or received ${c.method.text} on every path before this message, so it has no value to compare with`);
        }
      }
    }
  }

  private knownRole(name: string, pos: Position): 0 | 1 {
    if (this.roles.has(name)) return 1;
    const known = [...this.roles.keys()].join(", ");
    this.sink.report("unknown-role", pos, `unknown role ${name}: the session declares ${known}`);
    return 0;
  }
}

/** Every role that sends or receives in the text of `b`. */
function mentionedRoles(b: Block, out: Set<string>): void {
  for (const s of b.stmts) {
    switch (s.kind) {
      case "interaction":
        out.add(s.from.text);
        out.add(s.to.text);
        if (s.body !== undefined) mentionedRoles(s.body, out);
        for (const br of s.branches ?? []) mentionedRoles(br.body, out);
        break;
      case "choice":
        for (const br of s.branches) mentionedRoles(br, out);
        break;
      case "rec":
        mentionedRoles(s.body, out);
        break;
      case "continue":
        break;
    }
  }
}

/** The sender of the first interaction in the text, wherever it is. */
function firstSender(b: Block): string | undefined {
  for (const s of b.stmts) {
    switch (s.kind) {
      case "interaction": return s.from.text;
      case "choice": {
        const r = s.branches.map(firstSender).find((x) => x !== undefined);
        if (r !== undefined) return r;
        break;
      }
      case "rec": {
        const r = firstSender(s.body);
        if (r !== undefined) return r;
        break;
      }
      case "continue": break;
    }
  }
  return undefined;
}

/** The messages a branch can start with (through nested choices and loops), or undefined. */
function firstMessages(s: Statement | undefined): Interaction[] | undefined {
  if (s?.kind === "interaction") return [s];
  if (s?.kind === "rec") return firstMessages(s.body.stmts[0]);
  if (s?.kind === "choice") {
    const out: Interaction[] = [];
    for (const b of s.branches) {
      const f = firstMessages(b.stmts[0]);
      if (f === undefined) return undefined;
      out.push(...f);
    }
    return out;
  }
  return undefined;
}

/** True when every path through `b` sends a message before any `continue` of `labels`. */
function guarded(b: Block, labels: ReadonlySet<string>): boolean {
  const s = b.stmts[0];
  switch (s?.kind) {
    case undefined: return true;
    case "interaction": return true;
    case "continue": return !labels.has(s.label.text);
    case "choice": return s.branches.every((br) => guarded(br, labels));
    case "rec": return guarded(s.body, new Set([...labels, s.label.text])) && (s.body.stmts.length > 0 || guarded({ ...b, stmts: b.stmts.slice(1) }, labels));
  }
}

/** True when `b` contains `continue label`. */
function continues(b: Block, label: string): boolean {
  return b.stmts.some((s) => {
    switch (s.kind) {
      case "continue": return s.label.text === label;
      case "rec": return continues(s.body, label);
      case "choice": return s.branches.some((br) => continues(br, label));
      case "interaction": return (s.body !== undefined && continues(s.body, label)) || (s.branches ?? []).some((br) => continues(br.body, label));
    }
  });
}
