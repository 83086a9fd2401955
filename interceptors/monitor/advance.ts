/**
 * The next state of a role after a segment of messages it accepted (as a
 * receiver) or one message it sent. Pure: returns a new state value.
 */
import type { EdgeDescriptor } from "../descriptor/types.js";
import type { MonitorContext } from "./context.js";
import { lastActed, type CarriedAttestation, type CarriedKeyUpdate, type HistoryItem, type SessionState } from "./state.js";

/** One message of a segment with its edge. */
export interface Segment {
  readonly edge: EdgeDescriptor;
  readonly item: HistoryItem;
}

/** An attestation as it travels (protobuf message or carried value). */
export interface AttestationLike {
  readonly role: string;
  readonly target: string;
  readonly step: bigint;
  readonly tag: Uint8Array;
  readonly keyVersion: number;
}

/** A key update as it travels. */
export interface KeyUpdateLike {
  readonly from: string;
  readonly to: string;
  readonly version: number;
  readonly step: bigint;
  readonly body: { readonly case: "noise" | "ratchet" | undefined; readonly value: Uint8Array | undefined };
  readonly tag: Uint8Array;
}

/**
 * Applies `segment` (non-empty) to `base`. `carry` are attestations to keep
 * for later receivers (those received with the message), `payload` the
 * payload of the last message (kept if a later `where`/`opens` needs it).
 */
export function advance(
  ctx: MonitorContext,
  base: SessionState,
  segment: readonly Segment[],
  principals: Readonly<Record<string, string>>,
  payload: Uint8Array,
  carry: readonly AttestationLike[],
  carryUpdates: readonly KeyUpdateLike[] = [],
): SessionState {
  const last = segment[segment.length - 1]!;
  const acted: Record<string, string> = { ...base.lastActed };
  for (const s of segment) {
    acted[s.edge.sender] = s.item.step.toString();
    acted[s.edge.receiver] = s.item.step.toString();
  }
  const probe = { ...base, lastActed: acted };
  const floor = ctx.plan.roles.reduce((m, r) => {
    const a = lastActed(probe, r);
    return a < m ? a : m;
  }, last.item.step);
  const history = [...base.history, ...segment.map((s) => s.item)].filter((x) => x.step > floor);

  const full = ctx.plan.edges.some((e) => e.security.history === "full");
  const carried: Record<string, CarriedAttestation> = {};
  for (const a of [...Object.values(base.carried), ...carry]) {
    if (a.target === ctx.role) continue; // checked on arrival, not forwarded
    if (a.target !== "" && lastActed(probe, a.target) >= a.step) continue; // its target has seen it
    if (a.target === "" && a.step <= floor) continue; // every role has seen it
    const key = full ? `${a.role}>${a.target}@${a.step}` : `${a.role}>${a.target}`;
    const prev = carried[key];
    if (prev === undefined || prev.step < a.step) carried[key] = { role: a.role, target: a.target, step: a.step, tag: a === base.carried[key] ? a.tag : a.tag.slice(), keyVersion: a.keyVersion };
  }

  // Key updates go on until a role of their target principal has acted after them.
  const principalActed = (p: string, step: bigint) => Object.entries(principals).some(([r, q]) => q === p && lastActed(probe, r) >= step);
  const carriedUpdates: Record<string, CarriedKeyUpdate> = {};
  for (const u of [...Object.values(base.carriedUpdates), ...carryUpdates]) {
    if (u.to === ctx.self.id || u.body.case === undefined || u.body.value === undefined) continue;
    if (principalActed(u.to, u.step)) continue;
    carriedUpdates[`${u.from}>${u.to}@${u.version}`] = { from: u.from, to: u.to, version: u.version, step: u.step, body: { case: u.body.case, value: u.body.value }, tag: u.tag };
  }

  const dir = last.edge.kind === "response" ? "response" : "request";
  const valueKey = `${last.edge.rpc}|${dir}`;
  // Copies (here and of carried tags): a received field is a view into its whole envelope, often a slab of the transport's buffer pool.
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
