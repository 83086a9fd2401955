/**
 * The adversary catalogue against every example (examples/support/adversary/):
 * each applicable scenario must be refused with its exact status and alert
 * kind, reach no application code, change no honest party's stored state,
 * and leave the honest session able to complete. A scenario that does not
 * apply must say why. Any delivered attack fails the test.
 */
import test from "ava";
import { CATALOGUE } from "../../examples/support/adversary/catalogue.js";
import { EXAMPLES } from "../../examples/support/adversary/examples.js";
import { problems, runExample, type ScenarioResult } from "../../examples/support/adversary/runner.js";

const all: ScenarioResult[] = [];

for (const spec of EXAMPLES) {
  test.serial(`${spec.name}: every applicable scenario is refused as planned and the honest session completes`, async (t) => {
    t.timeout(120_000);
    const results = await runExample(spec, CATALOGUE);
    all.push(...results);
    t.is(results.length, CATALOGUE.length);
    const failures = results.flatMap((r) => problems(r).map((p) => `${r.scenario}: ${p}`));
    t.deepEqual(failures, [], failures.join("\n"));
    const na = results.filter((x) => x.verdict === "n/a");
    for (const r of na) t.true((r.reason ?? "").length > 0, `${r.scenario} is n/a without a reason`);
    t.log(`${results.length - na.length} refused; not applicable: ${na.map((r) => r.scenario).join(", ") || "none"}`);
    t.true(results.some((r) => r.verdict === "refused"));
  });
}

test.serial("every scenario applies to some example, and the seed's three attacks run on Shopping as in the paper", (t) => {
  t.is(all.length, CATALOGUE.length * EXAMPLES.length, "the per-example runs above all finished");
  for (const s of CATALOGUE) t.true(all.some((r) => r.scenario === s.id && r.verdict === "refused"), `${s.id} applies nowhere`);
  const shop = (id: string) => all.find((r) => r.example === "shopping" && r.scenario === id)!;
  t.is(shop("rewrite-choice").target, "Offer (w→c)");
  t.is(shop("rewrite-choice").attempts[0]!.what, "Offer rewritten into Reject");
  t.is(shop("replay-old-iteration").target, "Offer (w→c) #2");
  t.regex(shop("replay-old-iteration").attempts[0]!.what, /^Offer \(w→c\) delivered again/);
  t.is(shop("skip-honest-turn").attempts[0]!.what, "w claims Offer, Accept happened (c never sent its part) and sends Confirm");
  t.is(shop("skip-honest-turn").attempts[0]!.alert?.reason, "missing attestation of c for step 4");
});
