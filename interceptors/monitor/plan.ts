/**
 * A session plan: everything the runtime derives from a descriptor, computed
 * once when a role is set up, so that each message is checked with table
 * lookups only.
 */
import { verifySessionCode } from "../descriptor/code.js";
import type { EdgeDescriptor, SessionDescriptor } from "../descriptor/types.js";
import { unhex } from "../wire/encoding.js";
import { ratchetPolicyProblem } from "../keys/pair-channel.js";
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
   * sender's attestation later: they receive a message before acting whose
   * check asks for it (docs/protocol.md, "Attestations").
   */
  readonly attestFor: readonly (readonly string[])[];
  /**
   * The most history items an envelope to `role` may carry when the role
   * stands at global state `state` (Infinity when a loop without the role
   * can run in between): a longer history is refused before it is walked.
   */
  maxSegment(role: string, state: number): number;
  /** True when the session has pairwise keys (key establishment static or noise): authenticated envelopes carry a MAC. */
  readonly pairwise: boolean;
  /** `rpc|direction` of every message whose payload a later `where`/`opens` compares with. */
  readonly referenced: ReadonlySet<string>;
  /** Roles bound at the start (not dynamic). */
  readonly staticRoles: readonly string[];
  /** Global states from which `role` sends and receives nothing more. */
  finishedFor(role: string): ReadonlySet<number>;
  /** What each edge's messages need, by edge id, computed once (not per message). */
  readonly edgePlans: readonly EdgePlan[];
  /** True when some edge carries full history (then every attestation is carried, not the latest per pair). */
  readonly fullHistory: boolean;
}

/** The per-edge part of a plan. */
export interface EdgePlan {
  /** The roles the edge binds, sorted and joined with commas (a message must bind exactly these). */
  readonly bindRoles: string;
  /** `rpc|direction` of the edge's payload when a later `where`/`opens` compares with it; undefined when none does. */
  readonly valueKey: string | undefined;
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
  const ratchet = d.ratchet === undefined ? undefined : ratchetPolicyProblem(d.ratchet);
  if (ratchet !== undefined) throw new DescriptorError(`session ${d.name}: ${ratchet}`);
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
  const out = outgoing(d);
  const segments = new Map(d.roles.map((r) => [r.name, segmentBounds(d, out, r.name)]));
  const plan: SessionPlan = {
    descriptor: d,
    code: unhex(d.code),
    roles: d.roles.map((r) => r.name),
    edges: d.edges,
    edgesFor: (rpc, kind) => byRpc.get(`${rpc}|${kind}`) ?? [],
    attestFor: d.edges.map((e) => attestTargets(d, out, e)),
    referenced,
    staticRoles: d.roles.filter((r) => !r.dynamic).map((r) => r.name),
    finishedFor: (role) => finished.get(role)!,
    maxSegment: (role, state) => segments.get(role)?.[state] ?? Infinity,
    pairwise: d.security.keyEstablishment !== "none",
    edgePlans: d.edges.map((e) => {
      const valueKey = `${e.rpc}|${e.kind === "response" ? "response" : "request"}`;
      return { bindRoles: e.binds.map((b) => b.role).sort().join(","), valueKey: referenced.has(valueKey) ? valueKey : undefined };
    }),
    fullHistory: d.edges.some((e) => e.security.history === "full"),
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

/**
 * For each global state, the longest run of messages that involve neither as
 * sender nor as receiver `role` and can start there (the history an envelope
 * to `role` carries when `role` last acted at that state); Infinity when such
 * a run can loop.
 */
function segmentBounds(d: SessionDescriptor, out: Outgoing, role: string): number[] {
  const bound = new Array<number>(d.states.length).fill(-1);
  const onStack = new Set<number>();
  const longest = (s: number): number => {
    if (bound[s]! >= 0) return bound[s]!;
    if (onStack.has(s)) return Infinity;
    onStack.add(s);
    let best = 0;
    for (const e of out[s] ?? []) {
      if (e.sender === role || e.receiver === role) continue;
      best = Math.max(best, 1 + longest(e.to));
    }
    onStack.delete(s);
    bound[s] = best;
    return best;
  };
  for (const s of d.states) longest(s.id);
  return bound;
}

type Outgoing = ReadonlyArray<readonly EdgeDescriptor[] | undefined>;

/** The edges leaving each global state. */
function outgoing(d: SessionDescriptor): Outgoing {
  const out: EdgeDescriptor[][] = [];
  for (const e of d.edges) (out[e.from] ??= []).push(e);
  return out;
}

/**
 * The roles that need `e`'s attestation of its sender (besides its
 * receiver, which checks the envelope MAC or the signature). A role `t`
 * needs it when, from `e.to`, a message reaches `t` before `t` acts whose
 * check asks for the latest authenticated message of `e`'s sender:
 *
 * - history `full`: every authenticated message of the segment;
 * - history `visibility`: the latest authenticated message of each sender, so
 *   `e` is superseded by a later authenticated message of its sender (never by
 *   an unauthenticated one: it attests nothing);
 * - history `none` on an authenticated message: none (its sender's MAC covers
 *   the transcript it carries); on a message without authenticity: as
 *   `visibility`, since nothing else vouches for the history it carries.
 *
 * The receiver's check (monitor/attestations.ts `requiredItems`) asks for
 * exactly these.
 */
function attestTargets(d: SessionDescriptor, out: Outgoing, e: EdgeDescriptor): string[] {
  if (e.security.authenticity === "none") return [];
  const targets: string[] = [];
  for (const t of d.roles.map((r) => r.name)) {
    if (t === e.sender || t === e.receiver) continue;
    // Search (state, superseded) pairs: superseded once a later authenticated message of e's sender passed.
    const seen = new Set<string>([`${e.to}|0`]);
    const stack: Array<[number, boolean]> = [[e.to, false]];
    let needed = false;
    while (stack.length > 0 && !needed) {
      const [s, superseded] = stack.pop()!;
      for (const x of out[s] ?? []) {
        const after = superseded || (x.sender === e.sender && x.security.authenticity !== "none");
        if (x.receiver === t) {
          if (asksFor(x, after)) needed = true;
          continue; // t acts here
        }
        if (x.sender === t) continue; // t acts without it
        const key = `${x.to}|${after ? 1 : 0}`;
        if (!seen.has(key)) {
          seen.add(key);
          stack.push([x.to, after]);
        }
      }
    }
    if (needed) targets.push(t);
  }
  return targets;
}

/** Whether the receiver of `x` asks for an earlier attestation of a sender (`superseded`: the sender sent a later authenticated message, `x` included). */
function asksFor(x: EdgeDescriptor, superseded: boolean): boolean {
  if (x.security.history === "full") return true;
  if (superseded) return false;
  return x.security.history === "visibility" || x.security.authenticity === "none";
}
