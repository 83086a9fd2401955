/**
 * Writes the overhead results: bench/overhead.json, bench/results.svg, and
 * the "Run-time overhead" section of bench/RESULTS.md (between its markers;
 * the file's other sections are kept as they are).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SEED_CONF_OVERHEAD } from "../seed.js";
import { chartSvg } from "./chart.js";
import { MODES, type ModeId } from "./modes.js";
import { CATEGORIES } from "./profile.js";
import type { Results, Row } from "./results.js";

export const BEGIN = "<!-- overhead:begin (written by npm run bench) -->";
export const END = "<!-- overhead:end -->";

const f = (x: number, d = 0) => x.toFixed(d);
const label = (m: ModeId) => MODES.find((x) => x.id === m)!.label;

function gRpcTable(rows: Row[], withSeed: boolean): string[] {
  const reps = rows[0]?.runsMs.length ?? 0;
  const head = withSeed
    ? ["| mode | time, median of " + reps + " (s) | µs / message | CPU µs / message | ratio to unprotected | gRPC calls / session | seed: time (s) | seed: ratio |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    : ["| mode | time, median of " + reps + " (s) | µs / message | CPU µs / message | ratio to unprotected | gRPC calls / session |", "| --- | --- | --- | --- | --- | --- |"];
  return [
    ...head,
    ...rows.map((r) => {
      const seed = MODES.find((m) => m.id === r.mode)!.seedRow;
      const s = seed === undefined ? undefined : SEED_CONF_OVERHEAD[seed];
      const base = `| ${label(r.mode)} | ${f(r.medianMs / 1000, 2)} | ${f(r.usPerMessage)} | ${r.cpuUsPerMessage === undefined ? "–" : f(r.cpuUsPerMessage)} | ${f(r.ratio, 2)}× | ${r.callsPerSession} |`;
      return withSeed ? `${base} ${s ? s.seconds : "–"} | ${s ? `${f(1 + s.overhead, 2)}×` : "–"} |` : base;
    }),
  ];
}

function breakdownTable(b: Results["breakdown"]["conf"], unit: string): string[] {
  const modes = Object.keys(b) as ModeId[];
  if (modes.length === 0) return [];
  const total = (m: ModeId) => Object.values(b[m] ?? {}).reduce((a, x) => a + (x ?? 0), 0);
  return [
    `| micro-protocol (${unit}) | ${modes.map((m) => `${m}`).join(" | ")} |`,
    `| --- | ${modes.map(() => "---").join(" | ")} |`,
    ...CATEGORIES.filter((c) => modes.some((m) => (b[m]?.[c] ?? 0) >= 0.05)).map((c) => `| ${c} | ${modes.map((m) => f(b[m]?.[c] ?? 0, 1)).join(" | ")} |`),
    `| **total** | ${modes.map((m) => `**${f(total(m), 1)}**`).join(" | ")} |`,
  ];
}

/** A few sentences on what the tables say, with this run's numbers. */
function reading(r: Results): string[] {
  const row = (m: ModeId) => r.conf.find((x) => x.mode === m);
  const [off, full, stat, plain] = [row("off"), row("full"), row("static"), row("grpc")];
  if (off === undefined || full === undefined) return [];
  const ka = r.breakdown.conf.full?.["key agreement (Noise, DH ratchet)"];
  return [
    "Reading. " +
      (plain ? `Unprotected, our runtime costs ${f(off.usPerMessage)} µs per message where plain grpc-js costs ${f(plain.usPerMessage)}: every message is an envelope encoded, decoded and checked against the session's state, through two interceptors and the typed API. ` : "") +
      `Fully protected costs ${f(full.ratio, 2)}× unprotected, against the seed's 1.35×: the seed had no key agreement to speak of, where we run a Noise handshake per pair and a DH ratchet at every pass of the token` +
      (ka !== undefined ? ` (${f(ka)} µs of the ${f(full.usPerMessage - off.usPerMessage)} µs extra per message)` : "") +
      "." +
      (stat ? ` Without the ratchet (static pairwise keys) the same MACs, history and replay checks cost ${f(stat.ratio, 2)}×.` : "") +
      " The changes that would move these figures are in the key code, outside the benchmark: X25519 keys generated natively (the primitives table shows what it saves), fewer ratchet steps (at most one per pair and round trip), and a pair channel's keys in one buffer (memory).",
    "",
  ];
}

/** The Markdown section. */
export function markdown(r: Results): string {
  const reps = Number(r.config["reps"]);
  const shape = r.config["confShape"] as { uploads: number; revisions: number; shepherds: number };
  const started = r.memory.find((m) => m.kind === "started");
  const established = r.memory.filter((m) => m.kind === "established");
  const lines = [
    BEGIN,
    "## Run-time overhead",
    "",
    `Machine: ${r.machine.cpus} × ${r.machine.model}, ${r.machine.memoryGiB} GiB, ${r.machine.os}; load average ${f(r.machine.loadAverage.start, 1)} at the start and ${f(r.machine.loadAverage.end, 1)} at the end ` +
      `(other work shared the cores: absolute times are noisy, ratios less so). Node ${r.versions["node"]} (OpenSSL ${r.versions["openssl"]}), secsession ${r.versions["secsession"]}, ` +
      `@grpc/grpc-js ${r.versions["@grpc/grpc-js"]}, @bufbuild/protobuf ${r.versions["@bufbuild/protobuf"]}. One run of \`npm run bench\` on ${r.date.slice(0, 10)} (${f(r.seconds)} s), ` +
      `also written as JSON to \`bench/overhead.json\` and drawn in [results.svg](results.svg). Every mode runs in the same process, on loopback, ` +
      `all peers in this process; modes are interleaved in a rotating order, up to ${reps} repetitions, median. Ratios are to the unprotected run of the same process. See [docs/benchmarks.md](../docs/benchmarks.md).` +
      (r.skipped.length > 0 ? ` The time budget (${String(r.config["budget"])} s) skipped: ${r.skipped.join("; ")}.` : ""),
    "",
    "![overhead chart](results.svg)",
    "",
    `### Conf, ${r.config["confRunMessages"]} messages`,
    "",
    `${r.config["sessions"]} sessions per run, each carrying ${(r.config["confRunMessages"] as number) / (r.config["sessions"] as number)} messages through Conf's three loops ` +
      `(${shape.uploads} rounds of Upload/BadFormat, ${shape.revisions} of Submit/Paper/ReqRevision/Revise, ${shape.shepherds} of Shepherd/Rebuttal). ` +
      "A message is one envelope: a request, a response or a one-way message. The seed's figures are from its own machine (SESSIONS.md).",
    "",
    ...gRpcTable(r.conf, true),
    "",
    `### Wsne (two parties, one loop), ${r.config["wsneRunMessages"]} messages`,
    "",
    ...gRpcTable(r.wsne, false),
    "",
    ...reading(r),
    "### Targets",
    "",
    "| target | measured | met | why |",
    "| --- | --- | --- | --- |",
    ...r.targets.map((t) => `| ${t.target} | ${t.measured} | ${t.met === true ? "yes" : t.met === false ? "**no**" : "not run"} | ${t.note} |`),
    "",
    "### Where the time goes",
    "",
    "Each mode's timed µs per message, split by micro-protocol in the proportions the V8 sampling profiler measured over one Conf session on gRPC " +
      "(the profiler slows the work down; its proportions are what it measures). Idle is time waiting for the network. " +
      "How samples are attributed: [docs/benchmarks.md](../docs/benchmarks.md).",
    "",
    ...breakdownTable(r.breakdown.conf, "µs / message, Conf over gRPC"),
    "",
    "The same for the buffer API (Wsne, Extra of 64 B and its Reply, no transport):",
    "",
    ...breakdownTable(r.breakdown.buffer, "µs / message, buffer API"),
    "",
    "### Buffer API",
    "",
    "| mode | µs per wrap+unwrap (64 B Extra and its Reply, median) |",
    "| --- | --- |",
    ...r.buffer.map((b) => `| ${b.label} | ${f(b.usPerWrapUnwrap, 1)} |`),
    "",
    `### ${String(r.config["concurrency"])} concurrent sessions`,
    "",
    `${String(r.config["concurrency"])} Conf sessions at once, ${String(r.config["concurrentMessages"])} messages in all.`,
    "",
    "| mode | time (s) | messages / s |",
    "| --- | --- | --- |",
    ...r.concurrency.map((c) => `| ${label(c.mode)} | ${f(c.medianMs / 1000, 2)} | ${f(c.messagesPerSecond)} |`),
    "",
    "### Memory per open idle session",
    "",
    "| sessions | count | bytes / session | time to open (ms / session) |",
    "| --- | --- | --- | --- |",
    ...(started ? [`| started (typed API, initiator only) | ${started.sessions} | ${f(started.bytes / started.sessions)} | ${f(started.ms / started.sessions, 3)} |`] : []),
    ...established.map((e) => `| established, ${label(e.mode as ModeId)} (Request and Reply done; per end) | ${e.sessions} | ${f(e.bytes / e.sessions / 2)} | ${f(e.ms / e.sessions, 2)} |`),
    "",
    "### Primitives",
    "",
    "| operation | µs |",
    "| --- | --- |",
    ...Object.entries(r.primitives).map(([k, v]) => `| ${k} | ${f(v, 1)} |`),
    "",
    END,
  ];
  return lines.join("\n");
}

/** Writes the JSON, the chart and the RESULTS.md section under `root`. */
export function writeReport(root: string, r: Results): void {
  writeFileSync(join(root, "bench", "overhead.json"), `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(join(root, "bench", "results.svg"), chartSvg(r));
  const path = join(root, "bench", "RESULTS.md");
  // Read just before writing: other sections of this file have other writers.
  const text = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmark results\n";
  writeFileSync(path, withSection(text, markdown(r)));
}

/** `text` with its overhead section replaced by `section` (appended if it has none). */
export function withSection(text: string, section: string): string {
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  const updated = text.replace(
    "The run-time overhead benchmark against plain gRPC is not written yet (issue 7).",
    "The run-time overhead against plain gRPC is in its own section below (`npm run bench`).",
  );
  if (a >= 0 && b > a) {
    const a2 = updated.indexOf(BEGIN);
    const b2 = updated.indexOf(END);
    return `${updated.slice(0, a2)}${section}${updated.slice(b2 + END.length)}`;
  }
  return `${updated.trimEnd()}\n\n${section}\n`;
}
