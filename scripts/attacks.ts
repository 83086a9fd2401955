/**
 * `npm run attacks`: runs the adversary catalogue against every example,
 * prints the scenario × example table, then switches each defence off in
 * turn to show which scenarios it stops, and writes docs/attacks.md.
 *
 *   npm run attacks                              # everything, writes docs/attacks.md
 *   npm run attacks -- --examples=shopping,rpc   # a part (printed, not written)
 *   npm run attacks -- --scenarios=duplicate --no-defences
 *
 * Exits non-zero if any scenario is delivered or refused otherwise than
 * planned, or if switching a defence off is not caught.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DEFENCE_CHECKS, delivered, runWithout } from "../examples/support/adversary/defence-checks.js";
import { markdownReport, summary, textTable, type DefenceOutcome } from "../examples/support/adversary/report.js";
import { problems, runCatalogue } from "../examples/support/adversary/runner.js";

const out = (line = "") => void process.stdout.write(`${line}\n`);
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3).split(",");
const examples = arg("examples");
const scenarios = arg("scenarios");
const partial = examples !== undefined || scenarios !== undefined;

const t0 = Date.now();
let done = 0;
const results = await runCatalogue({
  ...(examples === undefined ? {} : { examples }),
  ...(scenarios === undefined ? {} : { scenarios }),
  onResult: () => void (++done % 50 === 0 && process.stderr.write(`  ${done} scenario runs…\n`)),
});
const ms = Date.now() - t0;
out(textTable(results));
const s = summary(results);
out(`\n${s.refused} refused, ${s.delivered} delivered, ${s.unexpected.length} unexpected, ${s.na} not applicable — ${(ms / 1000).toFixed(1)} s`);
for (const r of s.unexpected) out(`  ${r.example} ${r.scenario}: ${problems(r).join("; ")}`);
let failed = s.unexpected.length > 0;

let outcomes: DefenceOutcome[] | undefined;
if (!process.argv.includes("--no-defences") && !partial) {
  out("\nEach defence switched off:");
  outcomes = [];
  for (const check of DEFENCE_CHECKS) {
    const o: DefenceOutcome = {
      check,
      delivered: delivered(await runWithout(check.off, check)),
      ...(check.partner === undefined
        ? {}
        : { firstAlone: delivered(await runWithout([check.off[0]!], check)), partnerAlone: delivered(await runWithout([check.partner], check)) }),
    };
    outcomes.push(o);
    const ok = o.delivered.length > 0 && (o.firstAlone ?? []).length === 0 && (o.partnerAlone ?? []).length === 0;
    failed ||= !ok;
    out(`  ${ok ? "caught " : "MISSED "} ${check.off.join(" + ").padEnd(26)} delivered: ${o.delivered.join(", ") || "none"}`);
  }
}

if (!partial) {
  const path = fileURLToPath(new URL("../docs/attacks.md", import.meta.url));
  writeFileSync(path, markdownReport(results, ms, outcomes));
  out(`\nwrote ${path}`);
}
out(`total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (failed) process.exitCode = 1;
