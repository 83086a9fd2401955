/**
 * Fuzzing the evidence-log reader and the offline verifier (interceptors/evidence/read.ts and
 * verify.ts, what `secsession evidence verify` runs) on arbitrary bytes, arbitrary JSON lines, and
 * mutations of real logs: the logs three peers wrote over gRPC while playing Conf with Ed25519
 * signatures and non-repudiation on every edge (test/evidence/conf-signed.ts). Mutations are byte
 * edits, line edits (removed, duplicated, moved, logs of two peers mixed) and record edits (any
 * field changed), each with the hash chain kept as it is or recomputed as a forger would.
 *
 * - readEvidenceLog returns a log or throws an EvidenceLogError naming a line of the input, and a
 *   log it returns is in the exact record format (every line is what the writer writes for it);
 * - verifyEvidence never throws, and a failure names the line and the reason (never an internal
 *   error); it fails where the reader fails, with the same reason;
 * - a log that verifies claims nothing untrue: every session start, message, signature and
 *   record in it is one the peers really wrote (a log cut after any record, a redundant signature
 *   dropped or signatures reordered verify, and are true).
 */
import test from "ava";
import fc from "fast-check";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keyringResolver, type KeyResolver } from "../../interceptors/keys/identity.js";
import type { EvidenceEntry } from "../../interceptors/runtime/evidence.js";
import { hex } from "../../interceptors/wire/encoding.js";
import { decodeRecord, encodeRecord, EvidenceLogError, GENESIS_PREV, lineHash, readEvidenceLog, verifyEvidence, type EvidenceLog } from "../../interceptors/evidence/index.js";
import { runSignedConf, SignedConfPc } from "../evidence/conf-signed.js";
import { allowTime, fuzzChunks, mutatedBytes, runChunk } from "./arbitraries.js";

const SEED = 0x5e55_0005;

let resolver: KeyResolver;
/** Every line of every real log, decoded. */
let realEntries: EvidenceEntry[] = [];
/** Real logs and valid logs made from them (one session's records, rechained; prefixes). */
let corpus: Array<{ readonly name: string; readonly entries: readonly EvidenceEntry[] }> = [];
let truth: Truth;

test.before(async () => {
  const run = await runSignedConf(mkdtempSync(join(tmpdir(), "secsession-fuzz-evidence-")));
  resolver = keyringResolver(run.keyring);
  const logs = Object.entries(run.logs).map(([id, path]) => ({ id, entries: readEvidenceLog(readFileSync(path)).lines.map((l) => l.record.entry) }));
  realEntries = logs.flatMap((l) => l.entries);
  truth = truthOf(realEntries);
  for (const { id, entries } of logs) {
    corpus.push({ name: `${id}'s log`, entries });
    const sessions = [...new Set(entries.map((e) => hex(e.sessionId)))];
    for (const [k, sid] of sessions.entries()) {
      const own = entries.filter((e) => hex(e.sessionId) === sid);
      corpus.push({ name: `${id}'s session ${k + 1}`, entries: own });
      for (const n of [1, 2, 3]) corpus.push({ name: `${id}'s session ${k + 1}, first ${n} records`, entries: own.slice(0, n) });
    }
  }
});

// ---- logs as bytes ----

const utf8 = new TextEncoder();

/** A log of `entries`, chained from seq `first` (what the writer writes). */
function logOf(entries: readonly EvidenceEntry[], first = 1): string {
  let prev = GENESIS_PREV;
  return entries
    .map((e, i) => {
      const line = encodeRecord(i + first, prev, e);
      prev = lineHash(line);
      return `${line}\n`;
    })
    .join("");
}

/** Lines as they are, each with its own seq and prev (no chain recomputed). */
function rawLogOf(lines: readonly string[]): string {
  return lines.map((l) => `${l}\n`).join("");
}

// ---- what is true ----

interface Truth {
  readonly starts: Set<string>;
  readonly messages: Map<string, string>;
  readonly signatures: Set<string>;
  readonly records: Set<string>;
}

const itemKey = (x: EvidenceEntry["items"][number]) => JSON.stringify([x.edge, x.step.toString(), hex(x.payloadHash), [...x.bindings].map((b) => [b.role, b.principal]).sort()]);
const startKey = (e: EvidenceEntry) =>
  JSON.stringify([hex(e.sessionId), e.sessionCode, hex(e.start.nonce), hex(e.start.code), e.start.timeMs.toString(), [...e.start.bindings].map((b) => [b.role, b.principal]).sort()]);
const recordKey = (e: EvidenceEntry) => JSON.stringify([hex(e.sessionId), e.role, e.direction, e.items.map((x) => x.step.toString()), hex(e.payload)]);

function truthOf(entries: readonly EvidenceEntry[]): Truth {
  const t: Truth = { starts: new Set(), messages: new Map(), signatures: new Set(), records: new Set() };
  for (const e of entries) {
    const sid = hex(e.sessionId);
    t.starts.add(startKey(e));
    for (const x of e.items) t.messages.set(`${sid}/${x.step}`, itemKey(x));
    for (const s of e.signatures) t.signatures.add(`${sid}/${s.role}/${s.step}/${hex(s.tag)}`);
    t.records.add(recordKey(e));
  }
  return t;
}

/** What a verified log claims that the peers did not write. */
function untrueClaims(log: EvidenceLog): string[] {
  const out: string[] = [];
  for (const { line, record } of log.lines) {
    const e = record.entry;
    const sid = hex(e.sessionId);
    if (!truth.starts.has(startKey(e))) out.push(`line ${line}: a session start no peer recorded`);
    for (const x of e.items) if (truth.messages.get(`${sid}/${x.step}`) !== itemKey(x)) out.push(`line ${line}: step ${x.step} is not the message of that step`);
    for (const s of e.signatures) if (!truth.signatures.has(`${sid}/${s.role}/${s.step}/${hex(s.tag)}`)) out.push(`line ${line}: a signature of ${s.role} for step ${s.step} no peer received`);
    if (!truth.records.has(recordKey(e))) out.push(`line ${line}: a record (${e.role} ${e.direction} steps ${e.items.map((x) => x.step).join(",")}) no peer wrote`);
  }
  return out;
}

/** A base log for a draw: short logs (a few records) three times as often as whole ones, which take longer to verify. */
let shortLogs: number[] | undefined;
const corpusText = new Map<number, string>();
/** The text of corpus log k (computed once). */
function textOf(k: number): string {
  let s = corpusText.get(k);
  if (s === undefined) corpusText.set(k, (s = logOf(corpus[k]!.entries)));
  return s;
}
function pickBase(k: number): number {
  const short = (shortLogs ??= corpus.flatMap((c, i) => (c.entries.length <= 3 ? [i] : [])));
  return k % 4 === 0 ? k % corpus.length : short[(k >> 2) % short.length]!;
}

// ---- mutations of records ----

type RecordEdit = (e: EvidenceEntry, pick: number, other: EvidenceEntry) => EvidenceEntry;

const flipByte = (b: Uint8Array, pick: number): Uint8Array => {
  if (b.length === 0) return Uint8Array.of(pick & 0xff);
  const c = b.slice();
  c[pick % c.length]! ^= 1 << (pick % 8);
  return c;
};
const bigMax = (a: bigint, b: bigint) => (a > b ? a : b);
const at = <T>(xs: readonly T[], pick: number): number => (xs.length === 0 ? 0 : pick % xs.length);
const ROLES = ["pc", "author", "confman", "intruder", ""];
const PRINCIPAL_NAMES = ["committee", "alice", "easychair", "mallory", ""];

const RECORD_EDITS: ReadonlyArray<readonly [string, RecordEdit]> = [
  ["direction", (e) => ({ ...e, direction: e.direction === "sent" ? "received" : "sent" })],
  ["role", (e, p) => ({ ...e, role: ROLES[p % ROLES.length]! })],
  ["sessionCode", (e, p) => ({ ...e, sessionCode: hex(flipByte(Buffer.from(e.sessionCode, "hex"), p)) })],
  ["sessionId", (e, p) => ({ ...e, sessionId: flipByte(e.sessionId, p) })],
  ["sessionId of another record", (e, _p, o) => ({ ...e, sessionId: o.sessionId })],
  ["start of another record", (e, _p, o) => ({ ...e, start: o.start, sessionId: o.sessionId, sessionCode: o.sessionCode })],
  ["start.nonce", (e, p) => ({ ...e, start: { ...e.start, nonce: flipByte(e.start.nonce, p) } })],
  ["start.timeMs", (e, p) => ({ ...e, start: { ...e.start, timeMs: e.start.timeMs + BigInt((p % 5) - 2 || 1) } })],
  ["start.bindings principal", (e, p) => ({ ...e, start: { ...e.start, bindings: e.start.bindings.map((b, i) => (i === at(e.start.bindings, p) ? { ...b, principal: PRINCIPAL_NAMES[p % PRINCIPAL_NAMES.length]! } : b)) } })],
  ["start.bindings dropped", (e, p) => ({ ...e, start: { ...e.start, bindings: e.start.bindings.filter((_, i) => i !== at(e.start.bindings, p)) } })],
  ["start.bindings reordered", (e) => ({ ...e, start: { ...e.start, bindings: [...e.start.bindings].reverse() } })],
  ["item edge", (e, p) => ({ ...e, items: e.items.map((x, i) => (i === at(e.items, p) ? { ...x, edge: Math.max(0, x.edge + (p % 7) - 3 || 1) } : x)) })],
  ["item step", (e, p) => ({ ...e, items: e.items.map((x, i) => (i === at(e.items, p) ? { ...x, step: bigMax(0n, x.step + BigInt((p % 5) - 2 || 1)) } : x)) })],
  ["item payloadHash", (e, p) => ({ ...e, items: e.items.map((x, i) => (i === at(e.items, p) ? { ...x, payloadHash: flipByte(x.payloadHash, p) } : x)) })],
  ["item binding added", (e, p) => ({ ...e, items: e.items.map((x, i) => (i === at(e.items, p) ? { ...x, bindings: [...x.bindings, { role: ROLES[p % 3]!, principal: PRINCIPAL_NAMES[p % 4]! }] } : x)) })],
  ["item dropped", (e, p) => (e.items.length > 1 ? { ...e, items: e.items.filter((_, i) => i !== at(e.items, p)) } : e)],
  ["item duplicated", (e, p) => ({ ...e, items: [...e.items.slice(0, at(e.items, p) + 1), e.items[at(e.items, p)]!, ...e.items.slice(at(e.items, p) + 1)] })],
  ["items reordered", (e) => ({ ...e, items: [...e.items].reverse() })],
  ["items of another record", (e, _p, o) => ({ ...e, items: o.items })],
  ["signature tag", (e, p) => ({ ...e, signatures: e.signatures.map((s, i) => (i === at(e.signatures, p) ? { ...s, tag: flipByte(s.tag, p) } : s)) })],
  ["signature step", (e, p) => ({ ...e, signatures: e.signatures.map((s, i) => (i === at(e.signatures, p) ? { ...s, step: s.step + 1n } : s)) })],
  ["signature role", (e, p) => ({ ...e, signatures: e.signatures.map((s, i) => (i === at(e.signatures, p) ? { ...s, role: ROLES[p % ROLES.length]! } : s)) })],
  ["signature dropped", (e, p) => ({ ...e, signatures: e.signatures.filter((_, i) => i !== at(e.signatures, p)) })],
  ["signatures reordered", (e) => ({ ...e, signatures: [...e.signatures].reverse() })],
  ["signature of another record", (e, p, o) => ({ ...e, signatures: [...e.signatures, ...o.signatures.slice(at(o.signatures, p), at(o.signatures, p) + 1)] })],
  ["payload", (e, p) => ({ ...e, payload: flipByte(e.payload, p) })],
  ["payload emptied", (e) => ({ ...e, payload: new Uint8Array(0) })],
  ["payload of another record", (e, _p, o) => ({ ...e, payload: o.payload })],
];

/** A base log, its records edited, lines moved, maybe rechained. */
const editedLog: fc.Arbitrary<string> = fc
  .record({
    base: fc.nat(),
    edits: fc.array(fc.record({ line: fc.nat(), edit: fc.nat(RECORD_EDITS.length - 1), pick: fc.nat(), other: fc.nat() }), { maxLength: 3 }),
    moves: fc.array(fc.record({ k: fc.constantFrom("delete", "duplicate", "swap", "move", "append-other"), line: fc.nat(), to: fc.nat() }), { maxLength: 2 }),
    rechain: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 }),
    firstSeq: fc.constantFrom(1, 1, 1, 0),
  })
  .filter((x) => x.edits.length + x.moves.length > 0)
  .map(({ base, edits, moves, rechain, firstSeq }) => {
    let entries = [...corpus[pickBase(base)]!.entries];
    for (const { line, edit, pick, other } of edits) {
      const i = at(entries, line);
      entries[i] = RECORD_EDITS[edit]![1](entries[i]!, pick, realEntries[other % realEntries.length]!);
    }
    for (const { k, line, to } of moves) {
      if (entries.length === 0) break;
      const i = at(entries, line);
      const j = entries.length === 0 ? 0 : to % entries.length;
      if (k === "delete") entries.splice(i, 1);
      else if (k === "duplicate") entries.splice(j, 0, entries[i]!);
      else if (k === "swap") [entries[i], entries[j]] = [entries[j]!, entries[i]!];
      else if (k === "move") entries.splice(j, 0, ...entries.splice(i, 1));
      else entries = [...entries, ...corpus[to % corpus.length]!.entries]; // another peer's records after these
    }
    if (rechain) return logOf(entries, firstSeq);
    // The edited records keep their seq and prev: the chain breaks where they are.
    const original = textOf(pickBase(base)).split("\n").slice(0, -1);
    return rawLogOf(entries.map((e, i) => encodeRecord(i + 1, JSON.parse(original[i] ?? `{"prev":"${GENESIS_PREV}"}`).prev as string, e)));
  });

/**
 * A line of a log rewritten as other JSON for the same record (spaces, escapes, a key twice, keys
 * reordered), the lines after it rechained.
 */
const respelledLog: fc.Arbitrary<string> = fc
  .record({ base: fc.nat(), line: fc.nat(), how: fc.constantFrom("space", "escape", "twice", "reorder"), pick: fc.nat() })
  .map(({ base, line, how, pick }) => {
    const lines = textOf(pickBase(base)).split("\n").slice(0, -1);
    const i = at(lines, line);
    const l = lines[i]!;
    if (how === "space") {
      const spots = [...l.matchAll(/[{}[\],:]/g)].map((m) => m.index!);
      const k = spots[pick % spots.length]! + 1;
      lines[i] = `${l.slice(0, k)} ${l.slice(k)}`;
    } else if (how === "escape") {
      const spots = [...l.matchAll(/"[a-z]+":"([0-9a-z])/g)].map((m) => m.index! + m[0].length - 1);
      const k = spots[pick % spots.length]!;
      lines[i] = `${l.slice(0, k)}\\u${l.charCodeAt(k).toString(16).padStart(4, "0")}${l.slice(k + 1)}`;
    } else if (how === "twice") {
      lines[i] = `${l.slice(0, -1)},"payload":"${pick % 2 === 0 ? "00" : JSON.parse(l).payload}"}`;
    } else {
      const o = JSON.parse(l) as Record<string, unknown>;
      lines[i] = JSON.stringify(Object.fromEntries(Object.entries(o).reverse()));
    }
    for (let j = i + 1; j < lines.length; j++) {
      const r = decodeRecord(JSON.parse(lines[j]!));
      lines[j] = encodeRecord(r.seq, lineHash(lines[j - 1]!), r.entry);
    }
    return rawLogOf(lines);
  });

/** Real and derived logs as bytes, to mutate. */
const baseLog: fc.Arbitrary<Uint8Array> = fc.nat().map((k) => utf8.encode(textOf(pickBase(k))));

/** JSON values, some shaped like records. */
const jsonLine: fc.Arbitrary<string> = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc.record({ seq: fc.oneof(fc.nat(3), fc.double(), fc.string()), prev: fc.constantFrom(GENESIS_PREV, "00", "AB".repeat(32)), direction: fc.constantFrom("sent", "received", "x"), items: fc.array(fc.json({ maxDepth: 1 }), { maxLength: 2 }) }).map((o) => JSON.stringify(o)),
);

/** An input, printed in fast-check's reports as its text (not as a list of byte values). */
const labelled = (kind: string, bytes: Uint8Array) => ({ kind, bytes, [fc.toStringMethod]: () => `${kind}: ${JSON.stringify(Buffer.from(bytes).toString("utf8"))}` });

const input: fc.Arbitrary<{ kind: string; bytes: Uint8Array }> = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 2048 }).map((bytes) => labelled("random bytes", bytes)), weight: 1 },
  { arbitrary: fc.array(jsonLine, { maxLength: 4 }).map((ls) => labelled("JSON lines", utf8.encode(rawLogOf(ls)))), weight: 1 },
  { arbitrary: mutatedBytes(baseLog).map((bytes) => labelled("bytes of a log mutated", bytes)), weight: 3 },
  { arbitrary: editedLog.map((s) => labelled("records of a log edited", utf8.encode(s))), weight: 4 },
  { arbitrary: respelledLog.map((s) => labelled("a record respelled", utf8.encode(s))), weight: 1 },
);

const LINE_ERROR = /^evidence log(?: line (\d+))?: \S/;

/** Every broken promise of the reader and the verifier on one input. */
function problems(bytes: Uint8Array, stats: Map<string, number>): string[] {
  const out: string[] = [];
  const lineCount = bytes.reduce((n, b) => n + (b === 0x0a ? 1 : 0), 0) + 1;
  let read: EvidenceLog | undefined;
  let readError: EvidenceLogError | undefined;
  try {
    read = readEvidenceLog(bytes);
  } catch (e: unknown) {
    if (!(e instanceof EvidenceLogError)) return [`readEvidenceLog threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`];
    readError = e;
    const m = LINE_ERROR.exec(e.message);
    if (m === null || e.reason.trim() === "") out.push(`unclear reader error: ${JSON.stringify(e.message)}`);
    // The reader wraps what the record decoder did not expect (a crash) in this reason.
    if (e.reason.startsWith("the record does not decode")) out.push(`a crash in the record decoder: ${e.reason}`);
    if (e.line < 0 || e.line > lineCount) out.push(`reader error at line ${e.line} of ${lineCount}`);
  }
  if (read !== undefined) {
    for (const l of read.lines) {
      const canonical = encodeRecord(l.record.seq, l.record.prev, l.record.entry);
      if (Buffer.from(l.bytes).toString("utf8") !== canonical) out.push(`line ${l.line} reads, but is not the record format: ${Buffer.from(l.bytes).toString("utf8").slice(0, 200)}`);
    }
  }
  let v: ReturnType<typeof verifyEvidence>;
  try {
    // From the bytes where the reader refuses them (the same error is due); else from what it read (not twice).
    v = verifyEvidence(read ?? bytes, [SignedConfPc], resolver);
  } catch (e: unknown) {
    return [...out, `verifyEvidence threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`];
  }
  if (v.ok) {
    stats.set("verified", (stats.get("verified") ?? 0) + 1);
    if (read === undefined) out.push("verified what the reader refuses");
    else out.push(...untrueClaims(read));
  } else {
    const key = readError !== undefined ? "refused by the reader" : `refused: ${v.reason.replace(/[0-9a-f]{12,}…?/g, "H").replace(/\d+/g, "N").slice(0, 70)}`;
    stats.set(key, (stats.get(key) ?? 0) + 1);
    if (v.reason.trim() === "" || /internal error/.test(v.reason)) out.push(`unclear verifier failure: line ${v.line}: ${v.reason}`);
    if (v.line < 0 || v.line > lineCount) out.push(`verifier failure at line ${v.line} of ${lineCount}`);
    if (readError !== undefined && (v.line !== readError.line || v.reason !== readError.reason)) out.push(`the verifier says line ${v.line}: ${v.reason}; the reader line ${readError.line}: ${readError.reason}`);
  }
  return out;
}

test.serial("the real logs verify and claim only what is true (the oracle's control)", (t) => {
  t.true(corpus.length >= 20);
  for (const c of corpus) {
    const bytes = utf8.encode(logOf(c.entries));
    const v = verifyEvidence(bytes, [SignedConfPc], resolver);
    t.true(v.ok, `${c.name}: ${v.ok ? "" : v.reason}`);
    t.deepEqual(problems(bytes, new Map()), [], c.name);
  }
  // The oracle sees a forged claim: a record edited and the chain recomputed, checked without the verifier.
  const e = corpus[0]!.entries[1]!;
  const forged = readEvidenceLog(logOf([corpus[0]!.entries[0]!, { ...e, payload: Uint8Array.of(1, 2, 3) }]));
  t.true(untrueClaims(forged).length > 0);
});

for (const chunk of fuzzChunks(SEED)) {
  test.serial(`the evidence reader and verifier: a clear error or a true log, never a crash${chunk.label}`, async (t) => {
    await allowTime(t, chunk.budgetMs + 30_000);
    const stats = new Map<string, number>();
    const kinds = new Map<string, number>();
    const report = runChunk(
      chunk,
      fc.property(input, ({ kind, bytes }) => {
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        const p = problems(bytes, stats);
        if (p.length > 0) throw new Error(`${kind} (${bytes.length} bytes): ${p.slice(0, 5).join("\n")}`);
      }),
    );
    t.log(report.report);
    t.log([...kinds].map(([k, n]) => `${n} × ${k}`).join(", "));
    for (const [k, n] of [...stats].sort((a, b) => b[1] - a[1]).slice(0, 14)) t.log(`${n} × ${k}`);
    t.true((stats.get("verified") ?? 0) > 0, "no input verified: the mutations never keep a log valid, the oracle is idle");
  });
}
