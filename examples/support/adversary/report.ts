/**
 * Renders catalogue results: the scenario × example table (for a terminal
 * and for Markdown), and docs/attacks.md with a section per scenario — what
 * the attacker does, the defence that stops it, what it targeted on each
 * example and how it was refused, and why it does not apply elsewhere.
 */
import { CATALOGUE } from "./catalogue.js";
import type { DefenceCheck } from "./defence-checks.js";
import { EXAMPLES } from "./examples.js";
import { problems, statusName, type ScenarioResult } from "./runner.js";

/** One cell: refused (as expected), DELIVERED, n/a, or UNEXPECTED (refused, but not as planned) / ERROR. */
export function cell(r: ScenarioResult | undefined): string {
  if (r === undefined) return "";
  if (r.verdict === "n/a") return "n/a";
  if (r.verdict === "delivered") return "DELIVERED";
  if (r.verdict === "error") return "ERROR";
  return problems(r).length === 0 ? "refused" : "UNEXPECTED";
}

/** The results' grid: scenario ids down, example names across. */
function grid(results: readonly ScenarioResult[]) {
  const examples = EXAMPLES.map((e) => e.name).filter((n) => results.some((r) => r.example === n));
  const scenarios = CATALOGUE.map((s) => s.id).filter((id) => results.some((r) => r.scenario === id));
  const at = (s: string, e: string) => results.find((r) => r.scenario === s && r.example === e);
  return { examples, scenarios, at };
}

/** The table as fixed-width text. */
export function textTable(results: readonly ScenarioResult[]): string {
  const { examples, scenarios, at } = grid(results);
  const first = Math.max(...scenarios.map((s) => s.length), 8);
  const widths = examples.map((e) => Math.max(e.length, 10));
  const row = (head: string, cells: string[]) => `${head.padEnd(first)}  ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" ")}`.trimEnd();
  return [row("scenario", examples), ...scenarios.map((s) => row(s, examples.map((e) => cell(at(s, e)))))].join("\n");
}

/** The table in Markdown. */
export function markdownTable(results: readonly ScenarioResult[]): string {
  const { examples, scenarios, at } = grid(results);
  return [`| scenario | ${examples.join(" | ")} |`, `| --- |${examples.map(() => " --- |").join("")}`, ...scenarios.map((s) => `| ${s} | ${examples.map((e) => cell(at(s, e))).join(" | ")} |`)].join("\n");
}

/** Counts by verdict, and the results that are not as expected. */
export function summary(results: readonly ScenarioResult[]): { refused: number; delivered: number; na: number; unexpected: ScenarioResult[] } {
  return {
    refused: results.filter((r) => r.verdict === "refused" && problems(r).length === 0).length,
    delivered: results.filter((r) => r.verdict === "delivered").length,
    na: results.filter((r) => r.verdict === "n/a").length,
    unexpected: results.filter((r) => r.verdict !== "n/a" && problems(r).length > 0),
  };
}

/** How one applicable result was refused, in a few words. */
function outcome(r: ScenarioResult): string {
  const kinds = [...new Set(r.attempts.map((a) => `${statusName(a.status)} \`${a.kind ?? "no alert"}\``))].join(", ");
  const after = r.completed === true ? (r.after === "fresh" ? "a new session completed" : "the session completed") : "did not complete";
  const issues = problems(r);
  return `${kinds} | ${after}${issues.length > 0 ? ` | **${issues.join("; ")}**` : ""}`;
}

export interface DefenceOutcome {
  readonly check: DefenceCheck;
  readonly delivered: readonly string[];
  /** With only the partner off (overlapping defences): what was still delivered (must be none). */
  readonly partnerAlone?: readonly string[];
  /** With only the first defence off (overlapping defences): what was delivered (must be none). */
  readonly firstAlone?: readonly string[];
}

/**
 * The attacks that no example can host, each tested on an inline protocol of
 * its own, over loopback, with its defence switched off in the same file.
 */
const INLINE_ONLY: readonly string[] = [
  "### Attacks tested on protocols of their own",
  "",
  "These need a shape none of the fifteen examples has, so they are not rows of the table; each runs on an inline",
  "protocol over real gRPC on loopback (or the buffer API where a clock is moved), with a counterpart that switches its",
  "defence off and shows the attack succeeding. The randomized integrity property (`test/fuzz/integrity/`) also covers",
  "them over random protocols (docs/fuzzing.md).",
  "",
  "| attack | why no example hosts it | test | defence switched off |",
  "| --- | --- | --- | --- |",
  "| re-binding a dynamic role | needs a loop with `bind`, which the checker refuses | `test/attacks/integrity/rebinding.test.ts` | `rebinding`, `speakers` |",
  "| a relay's lie hidden behind a later unauthenticated message | needs an authenticated and an unauthenticated direction from one sender, then a relay | `test/attacks/integrity/mixed-authenticity.test.ts` | `latestAuthenticated` |",
  "| history smuggled in an unprotected envelope | needs a direction with protection off after an authenticated one | `test/attacks/integrity/mixed-authenticity.test.ts` | `unvouchedHistory` |",
  "| junk extras from a compromised sender | junk is accepted and dropped, not refused: the test checks it is not carried on | `test/attacks/integrity/extras.test.ts` | `extras` |",
  "| a flood of abandoned sessions | needs 1,000 sessions from one principal | `test/attacks/integrity/flood.test.ts` | `sessionCap`, `idleExpiry` |",
  "| routing on a shared path | needs a peer serving two roles, or a replicated role sharing a service | `test/attacks/integrity/dispatch.test.ts` | none: routing has no switch; the honest sessions in the test failed before the fix |",
  "| step rewind on a direction without authenticity | needs such a direction with a later authenticated one | `test/attacks/integrity/step-rewind.test.ts` | `ownSteps` |",
];

/** docs/attacks.md. */
export function markdownReport(results: readonly ScenarioResult[], ms: number, defenceOutcomes?: readonly DefenceOutcome[]): string {
  const s = summary(results);
  const lines: string[] = [
    "# Attacks",
    "",
    "<!-- Written by `npm run attacks` (scripts/attacks.ts); do not edit by hand. -->",
    "",
    "The adversary suite (`examples/support/adversary/`) runs a catalogue of attacks against every example session. For each",
    "example it starts the parties once on loopback, with a man in the middle in front of every principal (each runtime's",
    "peers map points at a proxy), a clock per principal the attacker can move, stores that keep every state a party",
    "committed (the memory of a compromised peer, keys included), an outsider principal (`mallory`) whose keys every",
    "resolver knows, and a spare honest peer serving one role. An honest session is run first; each scenario plans from",
    "its messages, then attacks a new session driven by the example's own parties.",
    "",
    "Each attempt is measured where it lands: the gRPC status and the alert kind (trailing metadata",
    "`secsession-alert-kind`, or the caller's alert for a response), whether the victim's runtime accepted anything or a",
    "handler ran, and whether the stored state of any honest party changed. While an attack runs the genuine message is",
    "held, so nothing else moves. Afterwards the honest session must run to its end with the same trace as the honest",
    "run — or, where the attack replaced or dropped the only copy of a message (which the network can always do), a new",
    "session must complete on the same parties.",
    "",
    `**${s.refused} refused, ${s.delivered} delivered, ${s.unexpected.length} unexpected, ${s.na} not applicable** (${CATALOGUE.length} scenarios × ${new Set(results.map((r) => r.example)).size} examples, ${(ms / 1000).toFixed(1)} s).`,
    "",
    "`refused`: every attempt refused with the expected status and alert kind, no application code reached, no honest",
    "state changed, and the honest session then completed. `n/a`: the scenario does not apply (the reason is below).",
    "",
    markdownTable(results),
    "",
    ...INLINE_ONLY,
    "",
    "## Scenarios",
  ];
  for (const sc of CATALOGUE) {
    const rs = results.filter((r) => r.scenario === sc.id);
    if (rs.length === 0) continue;
    lines.push("", `### ${sc.id}: ${sc.title}`, "", `*Attacker:* ${sc.attacker}. *Stopped by:* ${sc.defence}.`, "", sc.explanation, "");
    const applied = rs.filter((r) => r.verdict !== "n/a");
    if (applied.length > 0) {
      lines.push("| example | target | attempt | refusal | afterwards |", "| --- | --- | --- | --- | --- |");
      for (const r of applied) lines.push(`| ${r.example} | ${r.target ?? ""} | ${r.attempts.map((a) => a.what).join("; ") || r.reason} | ${outcome(r)} |`);
    }
    const na = new Map<string, string[]>();
    for (const r of rs.filter((x) => x.verdict === "n/a")) na.set(r.reason!, [...(na.get(r.reason!) ?? []), r.example]);
    for (const [reason, names] of na) lines.push("", `Not applicable to ${names.join(", ")}: ${reason}.`);
  }
  if (defenceOutcomes !== undefined) {
    lines.push(
      "",
      "## Each defence switched off",
      "",
      "`interceptors/monitor/defences.ts` switches each check off (tests only). With a defence off, the catalogue must",
      "report at least one scenario delivered (`test/attacks/defences-off.test.ts`). Where the MAC over the transcript",
      "also covers what a defence checks, the two are switched off together, and each alone still refuses.",
      "",
      "| switched off | scenarios run (examples) | delivered | with one of them alone |",
      "| --- | --- | --- | --- |",
    );
    for (const o of defenceOutcomes) {
      const alone = o.check.partner === undefined ? "" : `only ${o.check.off[0]}: ${o.firstAlone?.length === 0 ? "all refused" : o.firstAlone?.join(", ")}; only ${o.check.partner}: ${o.partnerAlone?.length === 0 ? "all refused" : o.partnerAlone?.join(", ")}`;
      lines.push(`| ${o.check.off.join(" + ")} | ${o.check.scenarios.join(", ")} (${o.check.examples.join(", ")}) | ${o.delivered.join(", ") || "**none**"} | ${alone} |`);
    }
  }
  lines.push("");
  return lines.join("\n");
}

