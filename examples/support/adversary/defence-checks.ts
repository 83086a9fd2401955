/**
 * Which scenarios show each defence at work: with the defence switched off
 * (interceptors/monitor/defences.ts), at least one of them must be
 * delivered. Where another check backs a defence up — the MAC over the
 * transcript covers steps, key updates, the receiver's principal and the
 * ciphertext — switching that one alone is still caught, so both go off
 * together, and switching only the partner must still refuse them.
 */
import { defences, type Defence } from "../../../interceptors/monitor/defences.js";
import { runCatalogue, type ScenarioResult } from "./runner.js";

export interface DefenceCheck {
  /** Switched off together. */
  readonly off: readonly Defence[];
  /** The defence that overlaps, if `off` has two: switched off alone, the scenarios must still be refused. */
  readonly partner?: Defence;
  readonly scenarios: readonly string[];
  readonly examples: readonly string[];
}

export const DEFENCE_CHECKS: readonly DefenceCheck[] = [
  { off: ["sessionCode"], scenarios: ["downgrade-code"], examples: ["shopping", "rpc"] },
  { off: ["startWindow"], scenarios: ["delay-start", "drop-resend"], examples: ["shopping", "rpc"] },
  { off: ["startCache"], scenarios: ["replay-start-forgotten"], examples: ["shopping", "rpc"] },
  { off: ["startMemory"], scenarios: ["replay-skewed-start"], examples: ["shopping", "rpc"] },
  { off: ["oneMessagePerCall"], scenarios: ["framing"], examples: ["shopping", "rpc"] },
  { off: ["highWater"], scenarios: ["rollback-replay"], examples: ["shopping", "wsn"] },
  { off: ["step", "attestations"], partner: "attestations", scenarios: ["duplicate", "rewrite-step", "replay-old-iteration"], examples: ["wsn", "attributes"] },
  { off: ["path"], scenarios: ["out-of-turn"], examples: ["shopping", "auth"] },
  { off: ["attestations"], scenarios: ["rewrite-choice", "skip-honest-turn", "relay-lie", "impersonate-role"], examples: ["shopping"] },
  { off: ["keyUpdates", "attestations"], partner: "attestations", scenarios: ["splice-old-session"], examples: ["shopping", "wsn"] },
  { off: ["values"], scenarios: ["value-violation"], examples: ["commit", "wsn", "select"] },
  { off: ["addressing", "attestations"], partner: "attestations", scenarios: ["redirect"], examples: ["shopping", "select"] },
  { off: ["responseSession"], scenarios: ["swap-responses"], examples: ["rpc", "wsn"] },
  { off: ["privacy", "attestations"], partner: "attestations", scenarios: ["strip-encryption"], examples: ["attributes", "escrow"] },
];

/**
 * Switches the catalogue's scenarios do not reach, each shown at work by its
 * own attack test: the test there runs the attack with the switch off and
 * sees it succeed (on protocols outside the examples — a re-bound role, an
 * unauthenticated direction between authenticated ones — or at the gRPC,
 * clock and store level).
 */
export const EXERCISED_BY_TESTS: Readonly<Partial<Record<Defence, string>>> = {
  rebinding: "test/attacks/integrity/rebinding.test.ts",
  speakers: "test/attacks/integrity/rebinding.test.ts",
  latestAuthenticated: "test/attacks/integrity/mixed-authenticity.test.ts",
  unvouchedHistory: "test/attacks/integrity/mixed-authenticity.test.ts",
  ownSteps: "test/attacks/integrity/step-rewind.test.ts",
  startMemory: "test/attacks/integrity/clock-skew.test.ts",
  oneMessagePerCall: "test/attacks/integrity/one-shot.test.ts",
  deliverAtCommit: "test/attacks/integrity/one-shot.test.ts",
  highWater: "test/attacks/integrity/rollback.test.ts",
  extras: "test/attacks/integrity/extras.test.ts",
  sessionCap: "test/attacks/integrity/flood.test.ts",
  idleExpiry: "test/attacks/integrity/flood.test.ts",
};

/** Runs the check's scenarios with `off` switched off (restored afterwards, whatever happens). */
export async function runWithout(off: readonly Defence[], check: Pick<DefenceCheck, "scenarios" | "examples">): Promise<ScenarioResult[]> {
  for (const d of off) defences[d] = false;
  try {
    return await runCatalogue({ scenarios: check.scenarios, examples: check.examples });
  } finally {
    for (const d of off) defences[d] = true;
  }
}

/** `example/scenario` of each delivered result. */
export const delivered = (results: readonly ScenarioResult[]): string[] => results.filter((r) => r.verdict === "delivered").map((r) => `${r.example}/${r.scenario}`);
