/**
 * The catalogue catches every defence switched off: with each switch of
 * interceptors/monitor/defences.ts off (restored in finally), at least one
 * scenario is delivered. Where the MAC over the transcript also covers what
 * a defence checks, that defence alone being off is still caught, so both go
 * off together — and each alone must still refuse every scenario run.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { DEFENCE_CHECKS, delivered, EXERCISED_BY_TESTS, runWithout } from "../../examples/support/adversary/defence-checks.js";
import { defences, type Defence } from "../../interceptors/monitor/defences.js";

test.serial("every defence switch is exercised by a check, or by an attack test of its own that switches it off", (t) => {
  const covered = new Set(DEFENCE_CHECKS.flatMap((c) => c.off));
  t.deepEqual(Object.keys(defences).filter((d) => !covered.has(d as Defence) && EXERCISED_BY_TESTS[d as Defence] === undefined), []);
  for (const [d, file] of Object.entries(EXERCISED_BY_TESTS)) {
    t.true(readFileSync(file, "utf8").includes(`without("${d}"`), `${file} switches ${d} off`);
  }
});

for (const check of DEFENCE_CHECKS) {
  const [first] = check.off;
  const name =
    check.partner === undefined
      ? `without ${first}, the catalogue reports ${check.scenarios.join(" or ")} delivered`
      : `without ${check.off.join(" and ")} (they overlap: either alone is caught by the other), the catalogue reports ${check.scenarios.join(" or ")} delivered`;
  test.serial(name, async (t) => {
    t.timeout(120_000);
    const got = delivered(await runWithout(check.off, check));
    t.log(`delivered: ${got.join(", ")}`);
    t.true(got.length > 0, `nothing delivered with ${check.off.join(" + ")} off`);
    t.true(Object.values(defences).every((on) => on), "the switches are restored");
    if (check.partner !== undefined) {
      t.deepEqual(delivered(await runWithout([first!], check)), [], `${first} alone off: still refused`);
      t.deepEqual(delivered(await runWithout([check.partner], check)), [], `${check.partner} alone off: still refused`);
    }
  });
}
