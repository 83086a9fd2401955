/**
 * A case of the integrity property: a generated session, its attributes, a
 * coalition, clock skews, and schedules — each schedule one session played in
 * the same world (so replays cross sessions), a list of moves (one number
 * each: which move, and its choices), then a drain in which the network
 * delivers in order and the parties finish what they can. The oracle runs
 * once the schedules are played.
 */
import fc from "fast-check";
import type { SessionDescriptor } from "../../../interceptors/descriptor/types.js";
import { sessionCode } from "../../../interceptors/descriptor/code.js";
import { defaultBackend } from "../../../interceptors/keys/crypto/index.js";
import { Choices, MAX_SKEW_MS, newStats, World, WINDOW_MS, type Stats } from "./play.js";
import { checkWorld, type OracleStats } from "./oracle.js";
import { applyAttributes, attributesArb, compileRendered, makeTreeArb, relayAttributesArb, render, sessionText, treeArb, type Attributes, type Tree, type TreeFocus } from "./sessions.js";

export interface CaseSpec {
  readonly tree: Tree;
  readonly attrs: Attributes;
  readonly coalition: number;
  readonly skews: readonly number[];
  /** Principals (bit i) with a plain store, without high-water marks. */
  readonly plain?: number;
  /** The relay focus: the coalition (b's principals) begins its walks with a lie about an honest principal's authenticated message. */
  readonly relay?: boolean;
  /** Compiled with the checker's single-binding rule relaxed (Focus.rebinding). */
  readonly rebinding?: boolean;
  readonly schedules: ReadonlyArray<readonly number[]>;
}

/**
 * What a search may concentrate on (the defence-off tests): the tree's focus, a coalition in every world, skewed
 * clocks in every world. The property itself runs the default: all of it, at their usual rates. The relay focus
 * (break 2) also fixes the attributes of its shape (relayAttributesArb) and the coalition: b's principals, the relay.
 */
export interface Focus extends TreeFocus {
  readonly coalition?: boolean;
  readonly skew?: boolean;
  /**
   * Protocols the checker refuses only for re-binding a dynamic role are run too (break 1): the runtime must be
   * sound whatever the checker accepts, and since the checker refuses re-binding, only such protocols reach the
   * runtime's own `rebinding` and `speakers` defences.
   */
  readonly rebinding?: boolean;
}

export function caseArbWith(focus: Focus = {}): fc.Arbitrary<CaseSpec> {
  const skews = fc.array(fc.integer({ min: -Math.round(MAX_SKEW_MS * 1.25), max: Math.round(MAX_SKEW_MS * 1.25) }), { minLength: 1, maxLength: 4 });
  const relay = focus.relay === true;
  const spec = fc.record({
    tree: focus.dynamic === true || focus.loops === true || relay ? makeTreeArb(focus) : treeArb,
    attrs: relay ? relayAttributesArb : attributesArb,
    coalition: relay ? fc.constant(0) : focus.coalition === true ? fc.integer({ min: 1, max: 255 }) : fc.oneof({ arbitrary: fc.constant(0), weight: 2 }, { arbitrary: fc.nat(255), weight: 3 }),
    skews: focus.skew === true ? skews : fc.oneof({ arbitrary: fc.constant([]), weight: 1 }, { arbitrary: skews, weight: 1 }),
    plain: fc.oneof({ arbitrary: fc.constant(0), weight: 1 }, { arbitrary: fc.nat(255), weight: 1 }),
    schedules: fc.array(fc.array(fc.nat(), { maxLength: 20 }), { minLength: 3, maxLength: 8 }),
  });
  if (relay) return spec.map((s) => ({ ...s, coalition: relayCoalition(s.tree), relay: true }));
  return focus.rebinding === true ? spec.map((s) => ({ ...s, rebinding: true })) : spec;
}

/**
 * The principals of role b, the relay, as a coalition mask: a (never dynamic) is principal 0, b — used by every
 * relay tree, so the second role — principal 1, and 2 when dynamic (principalsOf). runCase checks it.
 */
export function relayCoalition(tree: Tree): number {
  return ((tree.dynamic >> 1) & 1) === 1 ? 0b110 : 0b10;
}

export const caseArb: fc.Arbitrary<CaseSpec> = caseArbWith();

/** The moves of a schedule, by the first choice of its number (per hundred). */
const MOVES: ReadonlyArray<readonly [number, string]> = [
  [34, "send"],
  [58, "deliver"],
  [61, "drop"],
  [70, "replay"],
  [82, "rewrite"],
  [95, "forge"],
  [98, "time"],
  [100, "rollback"],
];

export interface CaseResult {
  readonly rejected?: string;
  readonly violations: readonly string[];
  readonly schedules: number;
  readonly descriptor?: SessionDescriptor;
}

/** `d` with the short replay window of the property (its code recomputed). */
export function shortWindow(d: SessionDescriptor): SessionDescriptor {
  const { code: _code, ...rest } = d;
  const body = { ...rest, replayWindowMs: WINDOW_MS };
  return { ...body, code: sessionCode(body) };
}

const crypto = defaultBackend();

export async function runCase(spec: CaseSpec, stats: Stats = newStats(), oracle?: OracleStats): Promise<CaseResult> {
  const rendered = render(spec.tree);
  const compiled = compileRendered(rendered, { allowRebinding: spec.rebinding === true });
  if (typeof compiled === "string") return { rejected: compiled, violations: [], schedules: 0 };
  const descriptor = shortWindow(applyAttributes(compiled.descriptor, spec.attrs));
  const w = new World(descriptor, compiled.file, { coalition: spec.coalition, skews: spec.skews, plain: spec.plain ?? 0, relay: spec.relay ?? false }, stats);
  if (spec.relay === true && (w.coalition.length === 0 || w.coalition.some((p) => p.role !== "b"))) throw new Error(`the relay coalition is not b's principals: ${w.coalition.map((p) => p.id).join(", ")}`);
  const violations = new Set<string>();
  let schedules = 0;
  for (const schedule of spec.schedules) {
    const sid = await w.start();
    if (sid === undefined) continue;
    schedules++;
    for (const n of schedule) {
      const c = new Choices(n);
      const m = c.next(100);
      const move = MOVES.find(([limit]) => m < limit)![1];
      switch (move) {
        case "send":
          await w.honestSend(c, c.next(5) === 0 ? (c.pick(w.sids) ?? sid) : sid);
          break;
        case "deliver": {
          if (w.pool.length === 0) break;
          const [f] = w.pool.splice(c.next(w.pool.length), 1);
          await w.deliver(f!, `${f!.edge.kind} edge ${f!.edge.id} from ${f!.from}`);
          break;
        }
        case "drop":
          if (w.pool.length > 0) w.pool.splice(c.next(w.pool.length), 1);
          break;
        case "replay": {
          // Session starts (of any session of the world) a third of the time: what a skewed clock lets through, if anything.
          const f = (c.next(3) === 0 ? c.pick(w.seen.filter((x) => x.start)) : undefined) ?? c.pick(w.seen);
          if (f !== undefined) await w.deliver({ ...f, sid: c.next(3) === 0 ? (c.pick(w.sids) ?? f.sid) : f.sid }, `a replayed ${f.edge.kind} edge ${f.edge.id} from ${f.from}`);
          break;
        }
        case "rewrite":
          await w.mutate(c);
          break;
        case "forge":
          if (w.coalition.length > 0) await w.forge(c, c.next(4) === 0 ? (c.pick(w.sids) ?? sid) : sid);
          else await w.honestSend(c, sid);
          break;
        case "time":
          await w.pass(500 * c.next(Math.round((2 * WINDOW_MS) / 500)));
          break;
        case "rollback":
          await w.rollback(c);
          break;
      }
    }
    // Drain: the network delivers in order, the parties go on.
    const c = new Choices(schedule.length + 1);
    for (let i = 0; i < 50; i++) {
      const f = w.pool.shift();
      if (f !== undefined) await w.deliver(f, `${f.edge.kind} edge ${f.edge.id} from ${f.from}`);
      else if (!(await w.honestSend(c, sid))) break;
    }
  }
  // The oracle reads everything the world logged, so one look at the end sees what a look after each schedule would.
  for (const v of checkWorld(w, crypto, oracle)) violations.add(v);
  for (const v of w.violations) violations.add(v);
  return { violations: [...violations], schedules, descriptor };
}

/** A case in words, for a counterexample's report (the protocol, its attributes, the world). */
export function describe(spec: CaseSpec, r?: CaseResult): string {
  const lines = [`session: ${sessionText(render(spec.tree))}${spec.rebinding === true ? " (compiled with re-binding allowed)" : ""}`];
  if (r?.descriptor !== undefined) {
    lines.push(`attributes: keys ${spec.attrs.keys}; ${r.descriptor.edges.map((e) => `${e.id}:${e.security.authenticity[0]}${e.security.history[0]}${e.security.replayPrevention ? "r" : ""}${e.security.nonRepudiation ? "n" : ""}${e.security.privacy === "none" ? "" : "p"}`).join(" ")}`);
  }
  lines.push(`coalition mask ${spec.coalition}${spec.relay === true ? " (the relay b, lying about authenticated messages)" : ""}, plain stores ${spec.plain ?? 0}, skews ${JSON.stringify(spec.skews)}, schedules ${JSON.stringify(spec.schedules)}`);
  if (r !== undefined) lines.push(...r.violations.slice(0, 5).map((v) => `violation: ${v}`));
  return lines.join("\n");
}
