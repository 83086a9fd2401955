/**
 * Code-generation benchmark: per example session, its size (roles, protocol
 * lines, global and local graphs), the code generated per role, and the time
 * to check and compile it, beside the s2ml seed's table.
 *
 *   npm run bench:codegen [-- --filter Shop] [--runs 20] [--json out.json]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { SessionDescriptor } from "../interceptors/descriptor/types.js";
import { bufBuildRepo, ROOT, runPlugin } from "../test/support/plugin-run.js";
import { SEED_CODEGEN } from "./seed.js";

interface Row {
  session: string;
  roles: number;
  protocolLines: number;
  states: number;
  edges: number;
  localStates: number;
  localTransitions: number;
  generatedLines: number;
  linesPerRole: Record<string, number>;
  compileMs: number;
}

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const filter = new RegExp(opt("filter") ?? ".", "i");
const runs = Number(opt("runs") ?? "20");

const t0 = performance.now();
const files = bufBuildRepo();
const bufMs = performance.now() - t0;
const roots = [join(ROOT, "proto"), join(ROOT, "examples")];
const examples = files.map((f) => f.name ?? "").filter((n) => !n.startsWith("secsession/") && !n.startsWith("google/"));

// Lines of protocol text per session, read from the example sources.
const PROTOCOL_LINES = new Map<string, number>();
for (const name of examples) {
  const text = readFileSync(join(ROOT, "examples", name), "utf8");
  for (const block of text.matchAll(/name:\s*"(\w+)"[\s\S]*?protocol:\s*((?:\s*"(?:[^"\\]|\\.)*")+)/g)) {
    const literals = [...block[2]!.matchAll(/"(?:[^"\\]|\\.)*"/g)];
    PROTOCOL_LINES.set(block[1]!, literals.filter((l) => l[0] !== '""').length);
  }
}

const rows: Row[] = [];
for (const name of examples) {
  const probe = runPlugin(files, [name], roots);
  if (probe.error !== undefined) throw new Error(probe.error);
  const code = [...probe.files.values()].join("\n");
  for (const m of code.matchAll(/export const (\w+)Session: SessionDescriptor = (\{[\s\S]*?\n\});/g)) {
    const d = JSON.parse(m[2]!) as SessionDescriptor;
    if (!filter.test(d.name)) continue;
    process.stderr.write(`compiling ${d.name} x${runs}...\n`);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const s = performance.now();
      runPlugin(files, [name], roots);
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    rows.push(row(d, code, times[Math.floor(times.length / 2)]!));
  }
}
rows.sort((a, b) => SEED_ORDER(a.session) - SEED_ORDER(b.session));

function SEED_ORDER(s: string): number {
  const i = SEED_CODEGEN.findIndex((x) => x.session === s);
  return i < 0 ? 100 : i;
}

function row(d: SessionDescriptor, code: string, compileMs: number): Row {
  const lines = code.split("\n");
  const linesPerRole: Record<string, number> = {};
  for (const r of d.roles) {
    // The role's machine type and its role definition (`export type <S><R>Machine = {` … `};` and `export const <S><R> = …`).
    const start = lines.findIndex((l) => l.startsWith(`export type ${d.name}${r.name[0]!.toUpperCase()}${r.name.slice(1)}Machine = {`));
    const end = start < 0 ? -1 : lines.indexOf("};", start) + 4;
    linesPerRole[r.name] = start < 0 ? 0 : end - start + 1;
  }
  const projections = Object.values(d.projections);
  return {
    session: d.name,
    roles: d.roles.length,
    protocolLines: PROTOCOL_LINES.get(d.name) ?? 0,
    states: d.states.length,
    edges: d.edges.length,
    localStates: projections.reduce((n, p) => n + p.states.length, 0),
    localTransitions: projections.reduce((n, p) => n + p.transitions.length, 0),
    generatedLines: lines.length,
    linesPerRole,
    compileMs,
  };
}

const md: string[] = [
  "| session | roles | protocol lines | global graph (states/edges) | local graphs (states/transitions) | generated lines (per role) | compile ms | seed: .session | seed: graph | seed: local graph | seed: S.ml | seed: compile s |",
  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
];
for (const r of rows) {
  const s = SEED_CODEGEN.find((x) => x.session === r.session);
  const per = Object.entries(r.linesPerRole).map(([k, v]) => `${k} ${v}`).join(", ");
  md.push(
    `| ${r.session} | ${r.roles} | ${r.protocolLines} | ${r.states}/${r.edges} | ${r.localStates}/${r.localTransitions} | ${r.generatedLines} (${per}) | ${r.compileMs.toFixed(1)} | ${s?.sessionLines ?? "–"} | ${s?.graph ?? "–"} | ${s?.localGraph ?? "–"} | ${s?.sml ?? "–"} | ${s?.compileSeconds ?? "–"} |`,
  );
}
process.stdout.write(`${md.join("\n")}\n\nbuf build of the whole repository: ${bufMs.toFixed(0)} ms; compile = parse, check, project and emit one file in process (median of ${runs}).\n`);
const json = opt("json");
if (json !== undefined) writeFileSync(json, JSON.stringify({ bufBuildMs: bufMs, rows }, null, 2));
