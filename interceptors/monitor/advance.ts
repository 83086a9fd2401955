/**
 * The next state of a role after a segment of messages it accepted (as a
 * receiver) or one message it sent. Pure: returns a new state value.
 */
import type { EdgeDescriptor } from "../descriptor/types.js";
import type { MonitorContext } from "./context.js";
import { lastActed, record, type CarriedAttestation, type CarriedKeyUpdate, type HistoryItem, type SessionState } from "./state.js";

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
  const probe = { ...base, lastActed: acted };
  const floor = ctx.plan.roles.reduce((m, r) => {
    const a = lastActed(probe, r);
    return a < m ? a : m;
  }, last.item.step);
  // The item at the floor stays: its transcript hash is where the envelope MAC to the role that acted last there starts.
  const history = [...base.history, ...segment.map((s) => s.item)].filter((x) => x.step >= floor);

  const full = ctx.plan.edges.some((e) => e.security.history === "full");
  const carried: Record<string, CarriedAttestation> = {};
  for (const a of [...Object.values(base.carried), ...kept.attestations]) {
    if (a.target !== "" && lastActed(probe, a.target) >= a.step) continue; // its target has seen it
    if (a.target === "" && a.step <= floor) continue; // every role has seen it
    const key = full ? `${a.role}>${a.target}@${a.step}` : `${a.role}>${a.target}`;
    const prev = carried[key];
    if (prev === undefined || prev.step < a.step) carried[key] = a;
  }

  // Key updates go on until a role of their target principal has acted after them.
  const principalActed = (p: string, step: bigint) => Object.keys(principals).some((r) => principals[r] === p && lastActed(probe, r) >= step);
  const carriedUpdates: Record<string, CarriedKeyUpdate> = {};
  for (const u of [...Object.values(base.carriedUpdates), ...kept.updates]) {
    if (principalActed(u.to, u.step)) continue;
    carriedUpdates[`${u.from}>${u.to}@${u.version}`] = u;
  }

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
