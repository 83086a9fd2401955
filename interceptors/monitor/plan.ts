/**
 * A session plan: everything the runtime derives from a descriptor, computed
 * once when a role is set up, so that each message is checked with table
 * lookups only.
 */
import { verifySessionCode } from "../descriptor/code.js";
import type { EdgeDescriptor, SessionDescriptor } from "../descriptor/types.js";
import { unhex } from "../wire/encoding.js";
import { isBaseline } from "./protection.js";
import { securityViolations } from "./security-constraints.js";

/** The compiled form of a session descriptor. */
export interface SessionPlan {
  readonly descriptor: SessionDescriptor;
  readonly code: Uint8Array;
  readonly roles: readonly string[];
  readonly edges: readonly EdgeDescriptor[];
  /** Edges by gRPC path and kind. */
  edgesFor(rpc: string, kind: "oneway" | "request" | "response"): readonly EdgeDescriptor[];
  /**
   * For each edge: the roles other than its receiver that may need its
   * sender's attestation later (they receive a message before acting, and,
   * with visibility, before the sender sends again).
   */
  readonly attestFor: readonly (readonly string[])[];
  /** `rpc|direction` of every message whose payload a later `where`/`opens` compares with. */
  readonly referenced: ReadonlySet<string>;
  /** Roles bound at the start (not dynamic). */
  readonly staticRoles: readonly string[];
  /** Global states from which `role` sends and receives nothing more. */
  finishedFor(role: string): ReadonlySet<number>;
}

/** Thrown when a descriptor cannot be used: wrong format, bad code, violated constraints. */
export class DescriptorError extends Error {
  constructor(message: string) {
    super(`secsession: ${message}`);
    this.name = "DescriptorError";
  }
}

const plans = new WeakMap<SessionDescriptor, SessionPlan>();

/** Compiles (and caches) the plan of a descriptor, checking it first. */
export function planOf(d: SessionDescriptor): SessionPlan {
  const cached = plans.get(d);
  if (cached !== undefined) return cached;
  if (d.format !== "secsession.descriptor.v1") throw new DescriptorError(`unknown descriptor format ${JSON.stringify(d.format)}`);
  if (!verifySessionCode(d)) throw new DescriptorError(`descriptor of session ${d.name} does not match its session code: regenerate it with buf generate`);
  for (const e of isBaseline(d) ? [] : d.edges) {
    for (const v of securityViolations(e.security, d.security.keyEstablishment)) {
      throw new DescriptorError(`session ${d.name}, edge ${e.id} (${e.rpc} ${e.kind}): ${v}`);
    }
  }
  const byRpc = new Map<string, EdgeDescriptor[]>();
  for (const e of d.edges) {
    const k = `${e.rpc}|${e.kind}`;
    byRpc.set(k, [...(byRpc.get(k) ?? []), e]);
  }
  const referenced = new Set<string>();
  for (const e of d.edges) {
    for (const w of e.where) referenced.add(`${w.equals.rpc}|${w.equals.direction}`);
    if (e.opens !== null) referenced.add(`${e.opens.rpc}|${e.opens.direction}`);
  }
  const finished = new Map(d.roles.map((r) => [r.name, finishedStates(d, r.name)]));
  const plan: SessionPlan = {
    descriptor: d,
    code: unhex(d.code),
    roles: d.roles.map((r) => r.name),
    edges: d.edges,
    edgesFor: (rpc, kind) => byRpc.get(`${rpc}|${kind}`) ?? [],
    attestFor: d.edges.map((e) => attestTargets(d, e)),
    referenced,
    staticRoles: d.roles.filter((r) => !r.dynamic).map((r) => r.name),
    finishedFor: (role) => finished.get(role)!,
  };
  plans.set(d, plan);
  return plan;
}

/** Global states from which no message of `role` is reachable. */
function finishedStates(d: SessionDescriptor, role: string): Set<number> {
  const active = new Set<number>();
  let changed = true;
  while (changed) {
    changed = false;
    for (const e of d.edges) {
      if (active.has(e.from)) continue;
      if (e.sender === role || e.receiver === role || active.has(e.to)) {
        active.add(e.from);
        changed = true;
      }
    }
  }
  return new Set(d.states.map((s) => s.id).filter((s) => !active.has(s)));
}

function attestTargets(d: SessionDescriptor, e: EdgeDescriptor): string[] {
  if (e.security.authenticity === "none") return [];
  // With full history anywhere, a receiver may ask for every attestation, not only the latest.
  const full = d.edges.some((x) => x.security.history === "full");
  const out: string[] = [];
  for (const t of d.roles.map((r) => r.name)) {
    if (t === e.sender || t === e.receiver) continue;
    const seen = new Set<number>([e.to]);
    const stack = [e.to];
    let needed = false;
    while (stack.length > 0 && !needed) {
      const s = stack.pop()!;
      for (const x of d.edges) {
        if (x.from !== s) continue;
        // A newer message of the sender carries a newer attestation: this one is superseded,
        // even for a target that receives that newer message.
        if (!full && x.sender === e.sender) continue;
        if (x.receiver === t) {
          // t checks history on this message unless its direction has history off.
          if (x.security.history !== "none") needed = true;
          continue;
        }
        if (x.sender === t) continue; // t acts without this attestation: it never needs it
        if (!seen.has(x.to)) {
          seen.add(x.to);
          stack.push(x.to);
        }
      }
    }
    if (needed) out.push(t);
  }
  return out;
}
