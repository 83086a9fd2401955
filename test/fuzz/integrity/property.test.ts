/**
 * Session integrity as an executable theorem (docs/fuzzing.md, "The integrity
 * property"): random sessions the checker accepts, random per-direction
 * attributes, random coalitions, skews and schedules, played over the buffer
 * API with one runtime per principal against the network and the coalition;
 * the oracle (oracle.ts) holds after every schedule, with every defence on.
 *
 * 10,000 cases (schedules) by default, 100,000 under FUZZ_LONG=1 (`npm run
 * fuzz`), in tests of 10,000 each; FUZZ_RUNS sets the count, FUZZ_SEED the
 * seed (chunk k of the run uses seed + 1000 k, its fast-check runs seed +
 * 1000 k + j), FUZZ_PATH the case. INTEGRITY_DEFENCE_OFF=<defence>[,<defence>]
 * runs the same property with those defences switched off (defences.ts) and
 * reports after how many cases it found a violation: the run then fails, with
 * the shrunk counterexample.
 */
import test from "ava";
import type { Defence } from "../../../interceptors/monitor/defences.js";
import { LONG } from "../arbitraries.js";
import { runProperty, withoutAll, type PropertyRun } from "./search.js";
import { baseRegistry } from "./sessions.js";

const SEED = Number.parseInt(process.env["FUZZ_SEED"] ?? "", 10) || 0x1e_5e55;
const TOTAL = Number.parseInt(process.env["FUZZ_RUNS"] ?? "", 10) || (LONG ? 100_000 : 10_000);
const CHUNK = 10_000;
const off = (process.env["INTEGRITY_DEFENCE_OFF"] ?? "").split(",").filter((x) => x !== "") as Defence[];

baseRegistry(); // buf runs once, before any test's clock

const summary = (r: PropertyRun) =>
  `${r.cases} cases (${r.runs} worlds, ${r.rejected} generated sessions the checker refused) in ${(r.ms / 1000).toFixed(1)} s from seed ${r.seed}; ` +
  `${r.stats.honestSends} honest messages, ${r.stats.deliveries} deliveries (${r.stats.accepted} accepted, ${r.stats.refused} refused), ` +
  `${r.stats.mutated} rewritten, ${r.stats.forged} forged (${r.stats.forgedAccepted} accepted: a member's own messages), ${r.stats.rollbacks} rollbacks, ${r.stats.timeMoves} clock moves; ` +
  `${r.oracle.checked} attributions checked, ${r.oracle.unvouched} history items taken on a sender's word (history none, coalition present)`;

for (let k = 0, done = 0; done < TOTAL; k++, done += CHUNK) {
  const cases = Math.min(CHUNK, TOTAL - done);
  const label = TOTAL > CHUNK ? ` [chunk ${k + 1}/${Math.ceil(TOTAL / CHUNK)}]` : "";
  const title = off.length === 0 ? `session integrity holds for random sessions, attributes, coalitions and schedules${label}` : `with ${off.join(" and ")} off, the integrity property finds a violation${label}`;
  test.serial(title, async (t) => {
    t.timeout(15 * 60_000);
    await new Promise((r) => setTimeout(r, 10));
    const seed = SEED + 1000 * k;
    const path = k === 0 ? process.env["FUZZ_PATH"] : undefined;
    const r = off.length === 0 ? await runProperty(seed, cases, path) : await withoutAll(off, () => runProperty(seed, cases, path));
    t.log(summary(r));
    if (off.length > 0) {
      if (r.failure === undefined) t.fail(`no violation in ${r.cases} cases with ${off.join(", ")} off`);
      else {
        t.log(`violation found after ${r.cases} cases`);
        t.fail(r.failure);
      }
      return;
    }
    if (r.failure !== undefined) t.fail(r.failure);
    t.true(r.cases >= cases);
    t.true(r.stats.accepted > r.cases, "the honest parties got on with their sessions");
    t.true(r.stats.refused > 0 && r.stats.forged > 0 && r.stats.mutated > 0 && r.stats.rollbacks > 0 && r.stats.timeMoves > 0, "the adversary made every kind of move");
  });
}
