/**
 * The scenario catalogue: every attack the suite runs against every example
 * — the network rewriting, then replaying and reordering, then compromised
 * peers; each group opens with its attack from the s2ml paper. A scenario
 * that does not apply to an example says why (reported "n/a"); none is
 * skipped silently.
 */
import { FRAMING_SCENARIOS } from "./framing-scenarios.js";
import type { Scenario } from "./kit.js";
import { PEER_SCENARIOS } from "./peer-scenarios.js";
import { REPLAY_SCENARIOS } from "./replay-scenarios.js";
import { TAMPER_SCENARIOS } from "./tamper-scenarios.js";

export const CATALOGUE: readonly Scenario[] = [...TAMPER_SCENARIOS, ...REPLAY_SCENARIOS, ...FRAMING_SCENARIOS, ...PEER_SCENARIOS];

/** The scenario called `id`. */
export function scenarioNamed(id: string): Scenario {
  const s = CATALOGUE.find((x) => x.id === id);
  if (s === undefined) throw new Error(`adversary: no scenario ${id} (scenarios: ${CATALOGUE.map((x) => x.id).join(", ")})`);
  return s;
}
