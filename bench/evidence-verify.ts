/**
 * Evidence verifier benchmark: time of verifyEvidence (interceptors/evidence)
 * on logs of 1k, 4k, 16k and 64k records.
 *
 * The log is real: pc's evidence log of one Conf session with Ed25519
 * signatures and non-repudiation on every edge (test/evidence/conf-signed.ts),
 * played over the buffer API by three runtimes in this process, going round
 * the revision loop (Submit, Paper, ReqRevision, Revise) until pc has written
 * the largest size. pc records two lines per round: Paper received with the
 * history it did not see (Revise, Submit) and the signatures that came with
 * it, and ReqRevision sent. Each size is the prefix of that log with that many
 * records (a prefix of a log is a valid log: a session in progress). The
 * figures are medians of `--runs` runs after one warm-up, in CPU time (and
 * wall time); CPU time per record staying flat from 1k to 64k is what a
 * linear verifier shows.
 *
 *   npx tsx bench/evidence-verify.ts [--sizes 1000,4000,16000,64000] [--runs 3] [--log FILE] [--json bench/evidence-verify.json] [--md bench/evidence-verify.md]
 *
 * `--log FILE`: reuse (or write, when missing) the generated log there.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { create, type Message } from "@bufbuild/protobuf";
import { CfpRequestSchema, ReqRevisionRequestSchema, ReviseRequestSchema, PaperRequestSchema, SubmitRequestSchema, UploadRequestSchema, UploadResponseSchema } from "../gen/conf/conf_pb.js";
import type { EdgeDescriptor } from "../interceptors/descriptor/types.js";
import { createFileEvidenceLog, verifyEvidence } from "../interceptors/evidence/index.js";
import { keyringJson, keyringResolver, publicKeysOf } from "../interceptors/keys/identity.js";
import type { Party } from "../interceptors/runtime/party.js";
import { PRINCIPALS, SignedConfAuthor, SignedConfConfman, SignedConfPc } from "../test/evidence/conf-signed.js";
import { cluster } from "../test/support/parties.js";

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const positive = (what: string, x: string): number => {
  const n = Number(x);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what} must be a positive integer, got ${x}`);
  return n;
};
const sizes = opt("sizes", "1000,4000,16000,64000").split(",").map((x) => positive("--sizes", x));
const runs = positive("--runs", opt("runs", "3"));
const jsonPath = opt("json", "bench/evidence-verify.json");
const mdPath = opt("md", "bench/evidence-verify.md");
const largest = Math.max(...sizes);

function edgeOf(p: Party, rpc: string, kind: EdgeDescriptor["kind"], oneofCase?: string): EdgeDescriptor {
  const e = p.plan.edges.find((x) => x.rpc === rpc && x.kind === kind && (oneofCase === undefined || x.case?.field.name === oneofCase));
  if (e === undefined) throw new Error(`Conf has no ${kind} edge ${rpc} ${oneofCase ?? ""}`);
  return e;
}

/** Plays Conf until pc's log at `path` has at least `records` lines; writes the principals' keyring beside it. */
async function generate(records: number, path: string, keyring: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "secsession-bench-evidence-"));
  const c = cluster(Object.values(PRINCIPALS), (id) => ({ evidence: createFileEvidenceLog(id === PRINCIPALS.pc ? path : join(dir, `${id}.jsonl`)) }));
  const pc = c.peers[PRINCIPALS.pc]!.runtime.party(SignedConfPc);
  const author = c.peers[PRINCIPALS.author]!.runtime.party(SignedConfAuthor);
  const confman = c.peers[PRINCIPALS.confman]!.runtime.party(SignedConfConfman);
  const send = async (from: Party, to: Party, sid: string, edge: EdgeDescriptor, message: Message, peer: string): Promise<void> => {
    const sealed = await from.wrap(sid, edge, message);
    await to.unwrap(sealed.bytes, edge.rpc, [edge.kind], peer);
  };
  try {
    const sid = (await pc.start(PRINCIPALS)).key;
    await send(pc, author, sid, edgeOf(pc, "/conf.Author/Cfp", "oneway"), create(CfpRequestSchema, { call: "CSF 2026" }), PRINCIPALS.pc);
    await send(author, confman, sid, edgeOf(author, "/conf.ConferenceManager/Upload", "request"), create(UploadRequestSchema, { paper: "paper.pdf" }), PRINCIPALS.author);
    await send(confman, author, sid, edgeOf(confman, "/conf.ConferenceManager/Upload", "response", "ok"), create(UploadResponseSchema, { outcome: { case: "ok", value: {} } }), PRINCIPALS.confman);
    const submit = edgeOf(author, "/conf.ConferenceManager/Submit", "oneway");
    const paper = edgeOf(confman, "/conf.ProgramCommittee/Paper", "oneway");
    const reqRevision = edgeOf(pc, "/conf.ConferenceManager/ReqRevision", "oneway");
    const revise = edgeOf(confman, "/conf.Author/Revise", "oneway");
    // pc's log: Cfp sent, then two records a round.
    for (let round = 1; 1 + 2 * (round - 1) < records; round++) {
      await send(author, confman, sid, submit, create(SubmitRequestSchema, { paper: `paper v${round}` }), PRINCIPALS.author);
      await send(confman, pc, sid, paper, create(PaperRequestSchema, { paper: `paper v${round}` }), PRINCIPALS.confman);
      await send(pc, confman, sid, reqRevision, create(ReqRevisionRequestSchema, { comments: `round ${round}: shorten section 3` }), PRINCIPALS.pc);
      await send(confman, author, sid, revise, create(ReviseRequestSchema, {}), PRINCIPALS.confman);
      if (round % 4000 === 0) process.stderr.write(`  generating: ${1 + 2 * round} records\n`);
    }
  } finally {
    await c.close();
  }
  writeFileSync(keyring, keyringJson(Object.values(c.peers).map((p) => [p.id, publicKeysOf(p.identity)] as const)));
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** The first `n` lines of a log (each with its newline). */
function prefix(bytes: Buffer, n: number): Buffer {
  let end = 0;
  for (let i = 0; i < n; i++) {
    end = bytes.indexOf(0x0a, end) + 1;
    if (end === 0) throw new Error(`the log has fewer than ${n} records`);
  }
  return bytes.subarray(0, end);
}

interface Row {
  records: number;
  bytes: number;
  messages: number;
  signatures: number;
  /** Wall time, median of the runs. */
  medianMs: number;
  /** CPU time of this process (user + system), median of the runs: the figure that does not depend on what else the machine runs. */
  medianCpuMs: number;
  runsMs: number[];
  runsCpuMs: number[];
  /** CPU µs per record. */
  usPerRecord: number;
}

const logPath = opt("log", join(mkdtempSync(join(tmpdir(), "secsession-bench-evidence-")), "pc.jsonl"));
const keyringPath = `${logPath}.keyring.json`;
if (!existsSync(logPath) || !existsSync(keyringPath)) {
  process.stderr.write(`generating a log of ${largest} records at ${logPath}\n`);
  await generate(largest, logPath, keyringPath);
}
const whole = readFileSync(logPath);
const resolver = keyringResolver(keyringPath);
const rows: Row[] = [];
for (const n of sizes) {
  const bytes = prefix(whole, n);
  const once = (): { ms: number; cpuMs: number; messages: number; signatures: number } => {
    const t = performance.now();
    const cpu = process.cpuUsage();
    const r = verifyEvidence(bytes, [SignedConfPc], resolver);
    const used = process.cpuUsage(cpu);
    const ms = performance.now() - t;
    if (!r.ok) throw new Error(`the log of ${n} records does not verify: line ${r.line}: ${r.reason}`);
    return { ms, cpuMs: (used.user + used.system) / 1000, messages: r.messages, signatures: r.signatures };
  };
  const warm = once();
  const measured = Array.from({ length: runs }, () => once());
  const runsMs = measured.map((m) => m.ms);
  const runsCpuMs = measured.map((m) => m.cpuMs);
  const medianMs = median(runsMs);
  const medianCpuMs = median(runsCpuMs);
  rows.push({ records: n, bytes: bytes.length, messages: warm.messages, signatures: warm.signatures, medianMs, medianCpuMs, runsMs, runsCpuMs, usPerRecord: (medianCpuMs * 1000) / n });
  process.stderr.write(`${n} records: ${medianCpuMs.toFixed(0)} ms CPU, ${medianMs.toFixed(0)} ms wall (${((medianCpuMs * 1000) / n).toFixed(1)} µs CPU / record)\n`);
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}`;
writeFileSync(jsonPath, `${JSON.stringify({ machine, runs, rows }, null, 2)}\n`);
const f = (x: number, d = 0) => x.toFixed(d);
writeFileSync(
  mdPath,
  [
    "# Evidence verifier: time against log size",
    "",
    `Written by \`npx tsx bench/evidence-verify.ts\` (${machine}; median of ${runs} runs after a warm-up). The log is pc's`,
    "evidence log of one signed Conf session going round its revision loop (every record carries Ed25519 signatures);",
    "each size is its prefix of that many records.",
    "",
    "CPU time is this process's (user + system); wall time also counts waiting for a core on a shared machine.",
    "",
    "| records | log size (MiB) | messages | signatures | CPU time (ms) | wall time (ms) | CPU µs / record |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows.map((r) => `| ${r.records} | ${f(r.bytes / 2 ** 20, 1)} | ${r.messages} | ${r.signatures} | ${f(r.medianCpuMs)} | ${f(r.medianMs)} | ${f(r.usPerRecord, 1)} |`),
    "",
  ].join("\n"),
);
