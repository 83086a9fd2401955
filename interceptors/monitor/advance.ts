/**
 * The next state of a role after a segment of messages it accepted (as a
 * receiver) or one message it sent. Pure: returns a new state value.
 */
import type { EdgeDescriptor } from "../descriptor/types.js";
import type { MonitorContext } from "./context.js";
import { record, sessionState, type CarriedAttestation, type CarriedKeyUpdate, type HistoryItem, type SessionState } from "./state.js";

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
 * needs it), `pairs` the pair channels after the message. With `handedOn`
 * (the role sends the message), what `base` carried goes with it and none of
 * it is kept.
 *
 * The next state is one new record with the same fields in the same order
 * as every other state (monitor/state.ts `sessionState`); parts that did not
 * change are shared with `base`, never copied.
 */
export function advance(
  ctx: MonitorContext,
  base: SessionState,
  segment: readonly Segment[],
  principals: Readonly<Record<string, string>>,
  payload: Uint8Array,
  kept: Kept = NOTHING_KEPT,
  pairs: SessionState["pairs"] = base.pairs,
  handedOn = false,
): SessionState {
  const plan = ctx.plan;
  const last = segment[segment.length - 1]!;
  const lastStep = last.item.step;
  const acted = record(base.lastActed);
  for (let i = 0; i < segment.length; i++) {
    const s = segment[i]!;
    const d = s.item.step.toString();
    acted[s.edge.sender] = d;
    acted[s.edge.receiver] = d;
  }
  // The steps each role last acted at, parsed once (the state keeps them as decimal strings), in plan.roles order.
  const roles = plan.roles;
  const steps = new Array<bigint>(roles.length);
  let floor = lastStep;
  for (let i = 0; i < roles.length; i++) {
    const d = acted[roles[i]!];
    const a = d === undefined ? -1n : BigInt(d);
    steps[i] = a;
    if (a < floor) floor = a;
  }
  const actedAt = (role: string): bigint => {
    const i = roles.indexOf(role);
    if (i >= 0) return steps[i]!;
    const d = acted[role];
    return d === undefined ? -1n : BigInt(d);
  };
  // The item at the floor stays: its transcript hash is where the envelope MAC to the role that acted last there starts.
  const history: HistoryItem[] = [];
  for (const x of base.history) if (x.step >= floor) history.push(x);
  for (const s of segment) if (s.item.step >= floor) history.push(s.item);

  let carried: Record<string, CarriedAttestation> = NONE_CARRIED;
  if ((!handedOn && hasAny(base.carried)) || kept.attestations.length > 0) {
    const full = plan.fullHistory;
    const into: Record<string, CarriedAttestation> = {};
    const keepAttestation = (a: CarriedAttestation): void => {
      if (a.target !== "" && actedAt(a.target) >= a.step) return; // its target has seen it
      if (a.target === "" && a.step <= floor) return; // every role has seen it
      const key = full ? `${a.role}>${a.target}@${a.step}` : `${a.role}>${a.target}`;
      const prev = into[key];
      if (prev === undefined || prev.step < a.step) into[key] = a;
    };
    if (!handedOn) for (const k in base.carried) keepAttestation(base.carried[k]!);
    for (const a of kept.attestations) keepAttestation(a);
    if (hasAny(into)) carried = into;
  }

  // Key updates go on until a role of their target principal has acted after them.
  let carriedUpdates: Record<string, CarriedKeyUpdate> = NONE_UPDATES;
  if ((!handedOn && hasAny(base.carriedUpdates)) || kept.updates.length > 0) {
    const into: Record<string, CarriedKeyUpdate> = {};
    const keepUpdate = (u: CarriedKeyUpdate): void => {
      for (const r in principals) if (principals[r] === u.to && actedAt(r) >= u.step) return;
      into[`${u.from}>${u.to}@${u.version}`] = u;
    };
    if (!handedOn) for (const k in base.carriedUpdates) keepUpdate(base.carriedUpdates[k]!);
    for (const u of kept.updates) keepUpdate(u);
    if (hasAny(into)) carriedUpdates = into;
  }

  const valueKey = plan.edgePlans[last.edge.id]!.valueKey;
  // A copy: a received payload is a view into its whole envelope, often a slab of the transport's buffer pool.
  const values = valueKey !== undefined ? { ...base.values, [valueKey]: payload.slice() } : base.values;

  return sessionState(base.sessionId, base.key, base.role, base.start, principals, last.edge.to, lastStep, last.item.h, history, acted, carried, carriedUpdates, pairs, values, base.version + 1);
}

/** Shared empty records of carried extras (a state that carries nothing allocates none). */
const NONE_CARRIED: Record<string, CarriedAttestation> = Object.freeze({}) as Record<string, CarriedAttestation>;
const NONE_UPDATES: Record<string, CarriedKeyUpdate> = Object.freeze({}) as Record<string, CarriedKeyUpdate>;

function hasAny(r: object): boolean {
  for (const _ in r) return true;
  return false;
}
