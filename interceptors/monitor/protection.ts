/**
 * Benchmark baselines: the same role stubs with protection switched off
 * (`"off"`) or reduced to the replay checks (`"replay-only"`), so that the
 * cost of each micro-protocol can be measured against a run of the same code.
 * Never for real use.
 *
 * A baseline is a variant of the session descriptor: every direction's
 * attributes are switched off (replay-only keeps replay prevention), key
 * establishment is `none`, and the session code is recomputed. Both ends of
 * a benchmark run the same baseline; a peer running the real descriptor
 * refuses its messages (another session code, and no attestations). The
 * variants exist only in this process's memory: nothing on the wire can
 * select one. In a baseline the transcript hash chain is not computed either
 * (nothing would check it).
 */
import { sessionCode } from "../descriptor/code.js";
import type { DirectionSecurity, SessionDescriptor } from "../descriptor/types.js";

/** How much of the protection a runtime applies: `"full"` always, outside benchmarks. */
export type Protection = "full" | "replay-only" | "off";

/** The accepted values of Protection. */
export const PROTECTIONS: readonly Protection[] = ["full", "replay-only", "off"];

/** The payload hash a baseline puts in its history items (it hashes nothing). */
export const UNHASHED: Uint8Array = new Uint8Array(32);

const variants = new WeakMap<SessionDescriptor, Map<Protection, SessionDescriptor>>();
const baselines = new WeakSet<SessionDescriptor>();

/** Throws unless `p` is a Protection. */
export function assertProtection(p: unknown): asserts p is Protection {
  if (!PROTECTIONS.includes(p as Protection)) {
    throw new Error(`secsession: protection must be one of ${PROTECTIONS.map((x) => JSON.stringify(x)).join(", ")}, got ${JSON.stringify(p)}`);
  }
}

/** The descriptor a runtime with protection `p` plays `d` with (`d` itself for `"full"`; cached). */
export function withProtection(d: SessionDescriptor, p: Protection): SessionDescriptor {
  assertProtection(p);
  if (p === "full") return d;
  let byMode = variants.get(d);
  if (byMode === undefined) {
    byMode = new Map();
    variants.set(d, byMode);
  }
  const hit = byMode.get(p);
  if (hit !== undefined) return hit;
  const weaken = <T extends DirectionSecurity>(s: T): T => ({
    ...s,
    privacy: "none",
    authenticity: "none",
    nonRepudiation: false,
    replayPrevention: p === "replay-only",
    history: "none",
  });
  const body: Omit<SessionDescriptor, "code"> = {
    ...d,
    security: { ...weaken(d.security), keyEstablishment: "none" },
    edges: d.edges.map((e) => ({ ...e, security: weaken(e.security), visibility: [] })),
  };
  const variant: SessionDescriptor = { ...body, code: sessionCode(body) };
  baselines.add(variant);
  byMode.set(p, variant);
  return variant;
}

/**
 * True for a descriptor made by withProtection. Replay-only breaks a
 * configuration constraint on purpose (replay prevention without
 * integrity), so the plan admits it for these variants only.
 */
export function isBaseline(d: SessionDescriptor): boolean {
  return baselines.has(d);
}
