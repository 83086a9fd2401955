/**
 * Running the integrity property: in chunks of fast-check runs until a number
 * of cases (schedules) is reached, each chunk from its own seed (seed + k),
 * shrinking a failure to a minimal session and schedule; and, for the
 * defence-off tests and INTEGRITY_DEFENCE_OFF, a plain search that counts
 * the cases until the first violation.
 */
import fc from "fast-check";
import { defences, type Defence } from "../../../interceptors/monitor/defences.js";
import type { OracleStats } from "./oracle.js";
import { newStats, type Stats } from "./play.js";
import { caseArb, caseArbWith, describe, runCase, type CaseSpec, type Focus } from "./run.js";
import { runGrpcCase } from "./grpc.js";

export interface PropertyRun {
  readonly cases: number;
  readonly runs: number;
  readonly rejected: number;
  readonly ms: number;
  readonly stats: Stats;
  readonly oracle: OracleStats;
  /** fast-check's report of the shrunk counterexample, with its seed and path. */
  readonly failure?: string;
  readonly seed: number;
}

const RUNS_PER_CHUNK = 500;

/** Runs the property until `cases` schedules were played (or a failure). */
export async function runProperty(seed: number, cases: number, path?: string): Promise<PropertyRun> {
  const stats = newStats();
  const oracle: OracleStats = { checked: 0, unvouched: 0 };
  const start = performance.now();
  let played = 0;
  let runs = 0;
  let rejected = 0;
  for (let k = 0; played < cases; k++) {
    const chunkSeed = seed + k;
    const prop = fc.asyncProperty(caseArb, async (spec) => {
      const r = await runCase(spec, stats, oracle);
      if (r.rejected !== undefined) rejected++;
      fc.pre(r.rejected === undefined);
      played += r.schedules;
      runs++;
      if (r.violations.length > 0) throw new Error(`integrity violated:\n${describe(spec, r)}\ncase spec: ${JSON.stringify(spec)}`);
    });
    const out = await fc.check(prop, { seed: chunkSeed, numRuns: RUNS_PER_CHUNK, maxSkipsPerRun: 100, ...(path !== undefined && k === 0 ? { path } : {}) });
    if (out.failed) {
      return { cases: played, runs, rejected, ms: performance.now() - start, stats, oracle, seed: chunkSeed, failure: fc.defaultReportMessage(out) ?? "failed" };
    }
  }
  return { cases: played, runs, rejected, ms: performance.now() - start, stats, oracle, seed };
}

/** Switches the named defences off (a comma-separated list) for the duration of `f`. */
export async function withoutAll<T>(names: readonly Defence[], f: () => Promise<T>): Promise<T> {
  for (const n of names) if (!(n in defences)) throw new Error(`no defence ${n}`);
  for (const n of names) defences[n] = false;
  try {
    return await f();
  } finally {
    for (const n of names) defences[n] = true;
  }
}

export interface Search {
  /** Cases (schedules) played up to and including the one that failed, or all of them. */
  readonly cases: number;
  readonly found: boolean;
  readonly report: string;
}

/** Plays generated cases from `seed` until one violates the property (at most `limit` cases): no shrinking. */
export async function searchViolation(seed: number, limit: number, grpc = false, focus: Focus = {}): Promise<Search> {
  const arb = caseArbWith(focus);
  let cases = 0;
  const batch = 200;
  for (let k = 0; cases < limit; k++) {
    for (const spec of fc.sample(arb, { seed: seed + k, numRuns: batch })) {
      const r = grpc ? await runGrpcCase(spec) : await runCase(spec);
      if (r.rejected !== undefined) continue;
      cases += grpc ? 1 : (r as { schedules: number }).schedules;
      if (r.violations.length > 0) return { cases, found: true, report: `${grpc ? "" : describe(spec, r as never)}\n${r.violations.slice(0, 3).join("\n")}` };
      if (cases >= limit) break;
    }
  }
  return { cases, found: false, report: "" };
}

export type { CaseSpec };
