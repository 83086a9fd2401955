/**
 * Run-time overhead benchmark: the seed's Conf workload (10,000 messages
 * carried by the session's loops) and the two-party loop Wsne, over gRPC on
 * loopback, in every protection mode side by side in one process, beside
 * plain grpc-js and grpc-js over mutual TLS; then the buffer API, 64
 * concurrent sessions, memory per idle session, and where the time goes.
 * Ratios are to the unprotected run of the same process (median of the
 * repetitions, modes interleaved). Writes bench/overhead.json,
 * bench/results.svg and the overhead section of bench/RESULTS.md.
 *
 *   npm run bench [-- --reps 3] [--messages 10000] [--filter full|off] [--budget 540] [--quick] [--no-write]
 *   npm run bench -- --report-only      (rewrite RESULTS.md and the chart from bench/overhead.json)
 *
 * On a busy machine, repetitions after the first are skipped when they would
 * not end within their share of the time budget (the log says so; the
 * results record how many ran).
 */
import { arch, cpus, loadavg, totalmem, type as osType, release } from "node:os";
import { performance } from "node:perf_hooks";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bufferLoop } from "./overhead/buffer-api.js";
import { confMessages, confShape, type ConfShape } from "./overhead/conf.js";
import { measureMemory, type MemoryResult } from "./overhead/memory.js";
import { MODES, type Mode, type ModeId } from "./overhead/modes.js";
import { countingBackend, measurePrimitives, type OpCounts } from "./overhead/primitives.js";
import { profiled, scaled } from "./overhead/profile.js";
import { median } from "./overhead/stats.js";
import { confSubject, wsneSubject, type Subject } from "./overhead/subjects.js";
import { mutualTls } from "./overhead/tls.js";
import { wsneMessages, type WsneShape } from "./overhead/wsne.js";
import { QUERY_64B } from "./overhead/buffer-api.js";
import { evaluateTargets, type Results, type Row } from "./overhead/results.js";
import { writeReport } from "./overhead/report.js";

/** The checkout: `..` from the sources, `../..` from the compiled benchmark in build/ (npm run bench). */
const ROOT = ((): string => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, "bench", "RESULTS.md"))) return dir;
  throw new Error("bench/overhead: cannot find the checkout (no bench/RESULTS.md above this file)");
})();
const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(`--${name}`);
const opt = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number, got ${JSON.stringify(args[i + 1])}`);
  return v;
};
const known = new Set(["report-only", "budget", "reps", "messages", "sessions", "wsne-messages", "concurrency", "memory-sessions", "established-sessions", "filter", "quick", "no-write", "help"]);
for (const a of args) if (a.startsWith("--") && !known.has(a.slice(2))) throw new Error(`unknown option ${a}: see the comment at the top of bench/overhead.ts`);
if (flag("help")) {
  process.stdout.write(readFileSync(fileURLToPath(import.meta.url), "utf8").split("*/")[0]!.replace(/^\/\*\*?\s?|^ \* ?/gm, "") + "\n");
  process.exit(0);
}

// Rewrites RESULTS.md and the chart from bench/overhead.json without measuring (after a change of the report only).
if (flag("report-only")) {
  const saved = JSON.parse(readFileSync(join(ROOT, "bench", "overhead.json"), "utf8"), (_k, v: unknown) => v) as Results;
  saved.targets = evaluateTargets(saved);
  writeReport(ROOT, saved);
  process.stderr.write("rewrote bench/results.svg and the overhead section of bench/RESULTS.md from bench/overhead.json\n");
  process.exit(0);
}

const quick = flag("quick");
const cfg = {
  reps: opt("reps", quick ? 1 : 3),
  messages: opt("messages", quick ? 1000 : 10_000),
  sessions: opt("sessions", quick ? 2 : 20),
  wsneMessages: opt("wsne-messages", quick ? 403 : 2003),
  concurrency: opt("concurrency", 64),
  memorySessions: opt("memory-sessions", quick ? 5000 : 100_000),
  establishedSessions: opt("established-sessions", quick ? 500 : 5000),
  /** Seconds the whole run should take at most: later repetitions are skipped when they would not fit. */
  budget: opt("budget", 540),
};
const filterIndex = args.indexOf("--filter");
const filter = filterIndex < 0 ? undefined : new RegExp(args[filterIndex + 1] ?? ".");
// The unprotected run is every ratio's denominator: it always runs.
const modes = MODES.filter((m) => m.id === "off" || filter === undefined || filter.test(m.id));

const t0 = performance.now();
const skipped: string[] = [];
/** True when one more step of `lastMs` still ends before `share` of the budget; else logs what is skipped. */
function fits(lastMs: number, share: number, what: string): boolean {
  if (performance.now() - t0 + lastMs <= share * cfg.budget * 1000) return true;
  skipped.push(what);
  log(`time budget: skipping ${what} (${((performance.now() - t0) / 1000).toFixed(0)} s of ${cfg.budget} s used)`);
  return false;
}
const log = (line: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
const load0 = loadavg()[0]!;

// -------------------------------------------------------------- primitives
log("primitives: raw cost of SHA-256, HMAC, AEAD, Ed25519 and X25519");
const primitives = measurePrimitives(quick ? 2 : 5);

// -------------------------------------------------------------- Conf and Wsne over gRPC
const confPer = confShape(Math.floor(cfg.messages / cfg.sessions));
const confRunMessages = cfg.sessions * confMessages(confPer);
const wsneShape: WsneShape = { extras: Math.max(0, Math.floor((cfg.wsneMessages - 3) / 2)), query: "LHR-CDG" };
const tls = modes.some((m) => m.id === "mtls") ? mutualTls() : undefined;

async function compare<S>(
  name: string,
  make: (m: Mode) => Promise<Subject<S>>,
  warm: S,
  play: (s: Subject<S>) => Promise<void>,
  messagesPerRun: number,
  sessionsPerRun: number,
  /** Fraction of the budget by which this comparison must be over. */
  share: number,
): Promise<Row[]> {
  log(`${name}: setting up ${modes.length} modes, warming up`);
  const subjects: Subject<S>[] = [];
  for (const m of modes) {
    const s = await make(m);
    await s.play(warm);
    subjects.push(s);
  }
  const runs = new Map<ModeId, number[]>(modes.map((m) => [m.id, []]));
  const cpu = new Map<ModeId, number[]>(modes.map((m) => [m.id, []]));
  const calls = new Map<ModeId, number>();
  let repStart = performance.now();
  for (let rep = 0; rep < cfg.reps; rep++) {
    if (rep > 0 && !fits(performance.now() - repStart, share, `${name} repetitions after ${rep}`)) break;
    repStart = performance.now();
    // Interleaved, in a rotating order: background load falls on every mode alike.
    const order = subjects.map((_, i) => subjects[(i + rep) % subjects.length]!);
    for (const s of order) {
      const c0 = s.calls();
      const t = performance.now();
      const u = process.cpuUsage();
      await play(s);
      const ms = performance.now() - t;
      const used = process.cpuUsage(u);
      runs.get(s.mode.id)!.push(ms);
      cpu.get(s.mode.id)!.push((used.user + used.system) / messagesPerRun);
      calls.set(s.mode.id, (s.calls() - c0) / sessionsPerRun);
      log(`${name} rep ${rep + 1}/${cfg.reps} ${s.mode.id.padEnd(12)} ${ms.toFixed(0).padStart(6)} ms  ${((ms * 1000) / messagesPerRun).toFixed(0).padStart(5)} µs/message  ${((used.user + used.system) / messagesPerRun).toFixed(0).padStart(5)} µs CPU`);
    }
  }
  for (const s of subjects) {
    if (s.refused() !== 0) throw new Error(`${name} ${s.mode.id}: ${s.refused()} messages refused in an honest run`);
    await s.close();
  }
  const base = median(runs.get("off")!);
  return modes.map((m) => {
    const r = runs.get(m.id)!;
    const med = median(r);
    return { mode: m.id, label: m.label, runsMs: r, medianMs: med, usPerMessage: (med * 1000) / messagesPerRun, cpuUsPerMessage: median(cpu.get(m.id)!), ratio: med / base, callsPerSession: calls.get(m.id)! };
  });
}

log(`Conf: ${cfg.sessions} sessions of ${confMessages(confPer)} messages per run (${confRunMessages} messages), ${cfg.reps} repetitions`);
const conf = await compare<ConfShape>(
  "Conf",
  (m) => confSubject(m, m.id === "mtls" ? tls : undefined),
  confShape(200),
  async (s) => {
    for (let i = 0; i < cfg.sessions; i++) await s.play(confPer);
  },
  confRunMessages,
  cfg.sessions,
  0.5,
);
const wsne = await compare<WsneShape>("Wsne", (m) => wsneSubject(m, m.id === "mtls" ? tls : undefined), { extras: 50, query: "LHR-CDG" }, (s) => s.play(wsneShape), wsneMessages(wsneShape), 1, 0.6);

// -------------------------------------------------------------- 64 concurrent sessions
const concurrentShape = confShape(Math.max(8, Math.floor(cfg.messages / 2 / cfg.concurrency)));
const concurrentMessages = cfg.concurrency * confMessages(concurrentShape);
log(`concurrency: ${cfg.concurrency} concurrent Conf sessions of ${confMessages(concurrentShape)} messages (${concurrentMessages} messages)`);
const concurrencyModes = modes.filter((m) => m.id === "off" || m.id === "full");
const concurrentSubjects = await Promise.all(concurrencyModes.map((m) => confSubject(m)));
for (const s of concurrentSubjects) await s.play(confShape(100));
const concurrentRuns = new Map<ModeId, number[]>(concurrencyModes.map((m) => [m.id, []]));
let concurrentStart = performance.now();
for (let rep = 0; rep < cfg.reps; rep++) {
  if (rep > 0 && !fits(performance.now() - concurrentStart, 0.72, `concurrency repetitions after ${rep}`)) break;
  concurrentStart = performance.now();
  for (const s of rep % 2 === 0 ? concurrentSubjects : [...concurrentSubjects].reverse()) {
    const t = performance.now();
    await Promise.all(Array.from({ length: cfg.concurrency }, () => s.play(concurrentShape)));
    const ms = performance.now() - t;
    concurrentRuns.get(s.mode.id)!.push(ms);
    log(`concurrency rep ${rep + 1}/${cfg.reps} ${s.mode.id.padEnd(12)} ${ms.toFixed(0).padStart(6)} ms  ${((concurrentMessages / ms) * 1000).toFixed(0)} messages/s`);
  }
}
for (const s of concurrentSubjects) {
  if (s.refused() !== 0) throw new Error(`concurrency ${s.mode.id}: ${s.refused()} messages refused`);
  await s.close();
}
const concurrency = concurrencyModes.map((m) => {
  const med = median(concurrentRuns.get(m.id)!);
  return { mode: m.id, runsMs: concurrentRuns.get(m.id)!, medianMs: med, messagesPerSecond: (concurrentMessages / med) * 1000 };
});

// -------------------------------------------------------------- buffer API
const bufferRounds = quick ? 300 : 1500;
log(`buffer API: Wsne wrap+unwrap, ${bufferRounds * 2} per mode and repetition (Extra of 64 B and its Reply)`);
const bufferModes = modes.filter((m) => m.kind === "secsession");
const loops = [];
for (const m of bufferModes) {
  const l = await bufferLoop(m);
  await l.run(100);
  loops.push({ mode: m, loop: l, runs: [] as number[] });
}
for (let rep = 0; rep < cfg.reps; rep++) {
  for (const l of loops) l.runs.push(((await l.loop.run(bufferRounds)) * 1000) / (2 * bufferRounds));
}
const buffer = loops.map((l) => ({ mode: l.mode.id, label: l.mode.label, runsUs: l.runs, usPerWrapUnwrap: median(l.runs) }));
for (const l of loops) await l.loop.close();
log(`buffer API: ${buffer.map((b) => `${b.mode} ${b.usPerWrapUnwrap.toFixed(1)} µs`).join(", ")}`);

// -------------------------------------------------------------- signatures: operations per message
async function countOps(mode: Mode): Promise<OpCounts & { messages: number }> {
  const { backend, counts } = countingBackend();
  const s = await confSubject(mode, undefined, { crypto: backend });
  const shape = confShape(500);
  for (const k of Object.keys(counts) as (keyof OpCounts)[]) counts[k] = 0;
  await s.play(shape);
  await s.close();
  return { ...counts, messages: confMessages(shape) };
}
const opModes = modes.filter((m) => ["off", "full", "signatures", "privacy", "static"].includes(m.id));
const ops: Partial<Record<ModeId, OpCounts & { messages: number }>> = {};
for (const m of opModes) ops[m.id] = await countOps(m);
log(`operation counts per Conf session of 500 messages: ${Object.entries(ops).map(([k, v]) => `${k}: sign ${v.ed25519Sign}, verify ${v.ed25519Verify}, x25519 ${v.x25519 + v.x25519KeyPair}, hmac ${v.hmacSha256}`).join("; ")}`);

// -------------------------------------------------------------- where the time goes
// Proportions from the sampling profiler, applied to each mode's timed (unprofiled) µs per message.
const profileModes = modes.filter((m) => ["off", "full", "signatures", "static"].includes(m.id));
const breakdown: Results["breakdown"] = { conf: {}, buffer: {} };
const profileShape = confShape(quick ? 400 : 1000);
for (const m of profileModes) {
  log(`profile: Conf ${m.id}, ${confMessages(profileShape)} messages, and the buffer API, under the sampling profiler`);
  const s = await confSubject(m);
  await s.play(confShape(200));
  breakdown.conf[m.id] = scaled(await profiled(() => s.play(profileShape)), conf.find((r) => r.mode === m.id)!.usPerMessage);
  await s.close();
  const l = await bufferLoop(m);
  await l.run(100);
  breakdown.buffer[m.id] = scaled(await profiled(async () => void (await l.run(quick ? 200 : 600))), buffer.find((b) => b.mode === m.id)!.usPerWrapUnwrap);
  await l.close();
}

// -------------------------------------------------------------- memory
log(`memory: ${cfg.memorySessions} started sessions, then ${cfg.establishedSessions} established ones, each in a fresh process`);
const memory: MemoryResult[] = [await measureMemory("started", cfg.memorySessions), await measureMemory("established", cfg.establishedSessions)];
// The same established sessions without keys, and with static keys only: what the pair channels weigh.
for (const m of ["off", "static"]) memory.push(await measureMemory("established", cfg.establishedSessions, m));
log(`memory: ${memory.map((m) => `${m.kind} ${m.mode} ${(m.bytes / m.sessions).toFixed(0)} B/session`).join(", ")}`);

// -------------------------------------------------------------- results
const pkg = (name: string): string => (JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
const results: Results = {
  date: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    model: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${osType()} ${release()} ${arch()}`,
    loadAverage: { start: load0, end: loadavg()[0]! },
  },
  versions: {
    node: process.version,
    secsession: (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version,
    "@grpc/grpc-js": pkg("@grpc/grpc-js"),
    "@bufbuild/protobuf": pkg("@bufbuild/protobuf"),
    openssl: process.versions.openssl ?? "unknown",
  },
  config: { ...cfg, confShape: confPer, confRunMessages, wsneShape: { extras: wsneShape.extras }, wsneRunMessages: wsneMessages(wsneShape), concurrentShape, concurrentMessages, query64: QUERY_64B.length + 2 },
  conf,
  wsne,
  concurrency,
  buffer,
  primitives,
  ops,
  breakdown,
  memory,
  skipped,
  seconds: 0,
  targets: [],
};
results.targets = evaluateTargets(results);
results.seconds = (performance.now() - t0) / 1000;
for (const t of results.targets) log(`target ${t.met === true ? "MET   " : t.met === false ? "MISSED" : "n/a   "} ${t.target}: ${t.measured}`);
if (!flag("no-write")) {
  writeReport(ROOT, results);
  log("wrote bench/overhead.json, bench/results.svg and the overhead section of bench/RESULTS.md");
}
log(`done in ${results.seconds.toFixed(0)} s`);
