/**
 * The next state of a role after a segment of messages it accepted (as a
 * receiver) or one message it sent. Pure: returns a new state value.
 */
import type { EdgeDescriptor } from "../descriptor/types.js";
import type { MonitorContext } from "./context.js";
import { record, type CarriedAttestation, type CarriedKeyUpdate, type HistoryItem, type SessionState } from "./state.js";

/** One message of a segment with its edge, and the principal that sent it. */
export interface Segment {
  readonly edge: EdgeDescriptor;
  readonly item: HistoryItem;
  /** The principal bound to the sending role at this step. */
  readonly principal: string;
}

/** An attestation as it travels (protobuf message or carried value). */
export interface AttestationLike {
  readonly role: string;
  readonly target: string;
  readonly step: bigint;
  readonly tag: Uint8Array;
  readonly keyVersion: number;
}

/** What a received envelope brought that the role keeps for later receivers (monitor/attestations.ts `keptExtras`). */
export interface Kept {
  readonly attestations: readonly CarriedAttestation[];
  readonly updates: readonly CarriedKeyUpdate[];
}

export const NOTHING_KEPT: Kept = { attestations: [], updates: [] };

/**
 * Applies `segment` (non-empty) to `base`. `kept` are the attestations and
 * key updates of the envelope to carry on (already filtered and copied),
 * `payload` the payload of the last message (kept if a later `where`/`opens`
 * needs it).
 */
export function advance(
  ctx: MonitorContext,
  base: SessionState,
  segment: readonly Segment[],
  principals: Readonly<Record<string, string>>,
  payload: Uint8Array,
  kept: Kept = NOTHING_KEPT,
): SessionState {
  const last = segment[segment.length - 1]!;
  const acted = record(base.lastActed);
  for (const s of segment) {
    acted[s.edge.sender] = s.item.step.toString();
    acted[s.edge.receiver] = s.item.step.toString();
  }
  // The steps each role last acted at, parsed once (the state keeps them as decimal strings).
  const steps = new Map<string, bigint>();
  const actedAt = (role: string): bigint => {
    let v = steps.get(role);
    if (v === undefined) {
      const d = acted[role];
      v = d === undefined ? -1n : BigInt(d);
      steps.set(role, v);
    }
    return v;
  };
  let floor = last.item.step;
  for (const r of ctx.plan.roles) {
    const a = actedAt(r);
    if (a < floor) floor = a;
  }
  // The item at the floor stays: its transcript hash is where the envelope MAC to the role that acted last there starts.
  const history: HistoryItem[] = [];
  for (const x of base.history) if (x.step >= floor) history.push(x);
  for (const s of segment) if (s.item.step >= floor) history.push(s.item);

  const full = fullHistory(ctx);
  const carried: Record<string, CarriedAttestation> = {};
  const keepAttestation = (a: CarriedAttestation): void => {
    if (a.target !== "" && actedAt(a.target) >= a.step) return; // its target has seen it
    if (a.target === "" && a.step <= floor) return; // every role has seen it
    const key = full ? `${a.role}>${a.target}@${a.step}` : `${a.role}>${a.target}`;
    const prev = carried[key];
    if (prev === undefined || prev.step < a.step) carried[key] = a;
  };
  for (const k in base.carried) keepAttestation(base.carried[k]!);
  for (const a of kept.attestations) keepAttestation(a);

  // Key updates go on until a role of their target principal has acted after them.
  const carriedUpdates: Record<string, CarriedKeyUpdate> = {};
  const keepUpdate = (u: CarriedKeyUpdate): void => {
    for (const r in principals) if (principals[r] === u.to && actedAt(r) >= u.step) return;
    carriedUpdates[`${u.from}>${u.to}@${u.version}`] = u;
  };
  for (const k in base.carriedUpdates) keepUpdate(base.carriedUpdates[k]!);
  for (const u of kept.updates) keepUpdate(u);

  const dir = last.edge.kind === "response" ? "response" : "request";
  const valueKey = `${last.edge.rpc}|${dir}`;
  // A copy: a received payload is a view into its whole envelope, often a slab of the transport's buffer pool.
  const values = ctx.plan.referenced.has(valueKey) ? { ...base.values, [valueKey]: payload.slice() } : base.values;

  return {
    ...base,
    principals,
    state: last.edge.to,
    step: last.item.step,
    h: last.item.h,
    history,
    lastActed: acted,
    carried,
    carriedUpdates,
    values,
    version: base.version + 1,
  };
}

/** Whether any edge of the session carries full history (then every attestation is kept, not the latest per pair). */
const fullHistoryOf = new WeakMap<MonitorContext["plan"], boolean>();
function fullHistory(ctx: MonitorContext): boolean {
  let v = fullHistoryOf.get(ctx.plan);
  if (v === undefined) {
    v = ctx.plan.edges.some((e) => e.security.history === "full");
    fullHistoryOf.set(ctx.plan, v);
  }
  return v;
}
