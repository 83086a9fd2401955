/**
 * The work of `secsession bench` (cli/commands/bench.ts holds its help):
 * compile the file, set up each protection mode and the plain baseline,
 * play the runs, print the table.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { formatDiagnostic } from "../../plugin/language/diagnostic.js";
import { createDriver, unplayable, type Driver, type Trace } from "./driver.js";
import { PROTECTION_MODES } from "./modes.js";
import { createPlainReplay, type PlainReplay } from "./plain.js";
import { EXIT, parse, UsageError, type Io } from "../command.js";
import { chooseSession, compileProtosOrReport } from "../proto-compile.js";

const positive = (name: string, v: string | undefined, fallback: number): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} needs a positive integer, got ${JSON.stringify(v)}`);
  return n;
};

/** Runs `secsession bench` with the arguments after its name; returns the exit code. */
export async function runBench(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      session: { type: "string" },
      sessions: { type: "string" },
      reps: { type: "string" },
      modes: { type: "string" },
      seed: { type: "string" },
      json: { type: "string" },
      "proto-path": { type: "string", short: "I", multiple: true },
    },
    { min: 1, max: 1, names: "<file.proto>" },
  );
  const sessions = positive("sessions", values.sessions, 20);
  const reps = positive("reps", values.reps, 3);
  const seed = positive("seed", values.seed, 1);
  const wanted = values.modes === undefined ? undefined : new Set(values.modes.split(",").map((m) => m.trim()));
  for (const m of wanted ?? []) if (!PROTECTION_MODES.some((p) => p.id === m)) throw new UsageError(`unknown mode ${JSON.stringify(m)}: the modes are ${PROTECTION_MODES.map((p) => p.id).join(", ")}`);
  const modes = PROTECTION_MODES.filter((m) => m.id === "off" || wanted === undefined || wanted.has(m.id));

  const compiled = compileProtosOrReport(positionals, values["proto-path"] ?? [], io);
  if (compiled === undefined) return EXIT.failed;
  if (compiled.diagnostics.length > 0) {
    io.err(`${compiled.diagnostics.map(formatDiagnostic).join("\n")}\nnot measured: fix the problems above\n`);
    return EXIT.failed;
  }
  const d = chooseSession(compiled.descriptors, values.session, positionals[0]!);
  const why = unplayable(d);
  if (why !== undefined) throw new UsageError(`session ${d.name} cannot be benchmarked: ${why}`);
  const file = compiled.registry.getFile(d.file);
  if (file === undefined) throw new Error(`internal error: no compiled file ${d.file}`);

  io.err(`bench: session ${d.name} (${d.roles.length} roles, ${d.edges.length} edges): ${modes.length} modes and plain grpc-js, ${reps} × ${sessions} sessions each\n`);
  const drivers = new Map<string, Driver>();
  let plain: PlainReplay | undefined;
  const times = new Map<string, number[]>([...modes.map((m) => [m.id, []] as [string, number[]]), ["grpc", []]]);
  let traces: Trace[] = [];
  try {
    for (const m of modes) drivers.set(m.id, await createDriver(m.variant ? m.variant(d) : d, file, compiled.registry, m.runtime === undefined ? {} : { runtime: m.runtime }));
    plain = await createPlainReplay(d, compiled.registry);
    // Warm-up (connections, handshakes, JIT), then the measured runs.
    for (const drv of drivers.values()) for (let i = 0; i < 3; i++) await drv.play(seed + sessions + i);
    for (let rep = 0; rep < reps; rep++) {
      for (const m of modes) {
        const drv = drivers.get(m.id)!;
        const runs: Trace[] = [];
        const t0 = performance.now();
        for (let i = 0; i < sessions; i++) runs.push(await drv.play(seed + i));
        times.get(m.id)!.push(performance.now() - t0);
        if (traces.length === 0) traces = runs;
        else if (runs.some((t, i) => t.join() !== traces[i]!.join())) throw new Error(`internal error: mode ${m.id} played other runs than mode off`);
      }
      const t0 = performance.now();
      for (const t of traces) await plain.play(t);
      times.get("grpc")!.push(performance.now() - t0);
      io.err(`bench: repetition ${rep + 1} of ${reps} done\n`);
    }
    const refused = [...drivers.values()].reduce((n, x) => n + x.refused(), 0);
    if (refused > 0) throw new Error(`${refused} honest messages were refused during the runs`);
  } finally {
    for (const x of drivers.values()) x.close();
    plain?.close();
  }

  const messages = traces.reduce((n, t) => n + t.length, 0);
  const calls = traces.reduce((n, t) => n + t.filter((id) => d.edges[id]!.kind !== "response").length, 0);
  const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const grpcMs = median(times.get("grpc")!);
  const offMs = median(times.get("off")!);
  const rows = [
    { id: "grpc", label: "plain grpc-js (no secsession code)", ms: grpcMs },
    ...modes.map((m) => ({ id: m.id, label: m.label, ms: median(times.get(m.id)!) })),
  ];
  io.out(
    `secsession bench: session ${d.name}, ${sessions} random runs (${messages} messages, ${calls} gRPC calls), median of ${reps}, node ${process.version}\n\n` +
      `| mode | ms per session | µs per message | × plain grpc-js | × protection off |\n| --- | --- | --- | --- | --- |\n` +
      rows.map((r) => `| ${r.id}: ${r.label} | ${(r.ms / sessions).toFixed(2)} | ${((r.ms * 1000) / messages).toFixed(0)} | ${(r.ms / grpcMs).toFixed(2)} | ${r.id === "grpc" ? "–" : (r.ms / offMs).toFixed(2)} |`).join("\n") +
      "\n",
  );
  if (values.json !== undefined) {
    const path = resolve(io.cwd, values.json);
    writeFileSync(path, `${JSON.stringify({ session: d.name, code: d.code, sessions, reps, seed, messages, calls, node: process.version, rows, samplesMs: Object.fromEntries(times) }, null, 2)}\n`);
    io.err(`bench: wrote ${path}\n`);
  }
  return EXIT.ok;
}
