/**
 * The offline verifier of evidence logs: with only the public keys of the
 * principals and the sessions' descriptors and message types, checks that a
 * log is an intact chain of records and that every session in it is a run
 * its runtimes would have accepted — a legal path of its protocol, whose
 * recorded signatures verify over the recomputed transcript and whose
 * payloads pass the runtime's value checks wherever the log has them in the
 * clear (docs/evidence.md, "What `evidence verify` checks").
 *
 * Time is linear in the size of the log. Each line is read, decoded and
 * hashed once; records are grouped by session in one pass; within a session
 * every check is one pass over its records, items or steps with hash-map
 * lookups — a step is found by index (steps are 1..n), a signature verified
 * once however often it is carried, a speaker's coverage for
 * non-repudiation kept as the latest step it signed, and each earlier
 * message a `where` or `opens` names kept decoded per role as the latest one
 * that role handled. Nothing is searched or copied per record, so 4× the
 * records is 4× the time (bench/evidence-verify.ts).
 */
import type { SessionDescriptor } from "../descriptor/types.js";
import { defaultBackend, type CryptoBackend } from "../keys/crypto/index.js";
import type { KeyResolver } from "../keys/identity.js";
import { hex } from "../wire/encoding.js";
import { Fault } from "./fault.js";
import { GENESIS_PREV, lineHash } from "./format.js";
import { EvidenceLogError, readEvidenceLog, seqOrigin, type EvidenceLog, type EvidenceLogLine } from "./read.js";
import { collectMessages } from "./session-messages.js";
import { walkPath } from "./session-path.js";
import { checkNonRepudiation, checkSignatures } from "./session-signatures.js";
import { checkStart, pickSession } from "./session-start.js";
import { checkSessionValues } from "./session-values.js";
import { indexSessions, type KnownSession, type VerifiableSession } from "./sessions.js";

export type { VerifiableSession } from "./sessions.js";

/** What a verified session amounts to. */
export interface SessionSummary {
  /** Hex session id. */
  readonly sessionId: string;
  readonly name: string;
  readonly code: string;
  /** Line of its first record. */
  readonly firstLine: number;
  /** Records of this session in the log. */
  readonly records: number;
  /** Distinct messages (steps 1..messages). */
  readonly messages: number;
  /** Distinct signatures verified. */
  readonly signatures: number;
  /** Messages whose edge requires non-repudiation (each covered by a verified signature of its sender). */
  readonly nonRepudiable: number;
  /** Messages with value checks (response case, bound field, `where`, `opens`) checked in full against their decoded payload. */
  readonly valuesChecked: number;
  /**
   * Messages with value checks the log cannot support in full: their payload,
   * or that of the earlier message a clause compares with, is encrypted or
   * known here only by its hash (docs/evidence.md).
   */
  readonly valuesUnchecked: number;
  /** Principal of each role, as bound by the start and the messages. */
  readonly principals: Readonly<Record<string, string>>;
  /** Global state after the last message; `finished` when nobody acts there. */
  readonly state: number;
  readonly finished: boolean;
}

export type EvidenceVerification =
  | {
      readonly ok: true;
      /** Number of sessions in the log. */
      readonly sessions: number;
      /** Distinct messages over all sessions. */
      readonly messages: number;
      /** Distinct signatures verified over all sessions. */
      readonly signatures: number;
      readonly records: number;
      /** Hex SHA-256 of the last line: compare it with an anchored copy to detect truncation. */
      readonly head: string;
      readonly details: readonly SessionSummary[];
    }
  | {
      readonly ok: false;
      /** The line at fault (1-based); 0 when the fault is not at one line. */
      readonly line: number;
      readonly reason: string;
    };

export interface VerifyOptions {
  readonly crypto?: CryptoBackend;
  /**
   * How a message of an edge with `nonRepudiation` must be signed:
   * - `"transcript"` (default): a verified signature of its speaker (its
   *   sender's role and the principal bound to it) over the transcript hash
   *   at its step or at any later step. A signature over `h_j` commits to
   *   every message up to `j` (the transcript is a hash chain), so it cannot
   *   be repudiated either; this is what a role receives with history
   *   `visibility`, where older signatures of a sender are superseded by
   *   newer ones.
   * - `"direct"`: a verified signature of its sender at exactly its step.
   */
  readonly nonRepudiation?: "transcript" | "direct";
  /**
   * Called as records are checked, with how many are done and the total: at
   * least every 1,000 records and once at the end (for a progress display;
   * reading the log comes before the first call).
   */
  readonly onProgress?: (records: number, total: number) => void;
}

/**
 * Verifies an evidence log (its bytes, text, or as read by readEvidenceLog)
 * against sessions — each a descriptor with its message types, such as a
 * generated role definition (`ConfPc`); matched by session code — and
 * public keys. Never throws for a bad log: the result says which line is at
 * fault. Throws a TypeError when `sessions` holds a bare descriptor.
 *
 * @example
 * const r = verifyEvidence(readFileSync("evidence.jsonl"), [ConfPc], keyringResolver("keyring.json"));
 * if (!r.ok) console.error(`line ${r.line}: ${r.reason}`);
 */
export function verifyEvidence(
  log: EvidenceLog | Uint8Array | string,
  sessions: VerifiableSession | Iterable<VerifiableSession>,
  resolver: KeyResolver,
  options: VerifyOptions = {},
): EvidenceVerification {
  const crypto = options.crypto ?? defaultBackend();
  const byCode = indexSessions(sessions);
  try {
    // Read here, the chain is checked while reading; a log read elsewhere (maybe without the check) is checked again.
    const read = typeof log === "string" || log instanceof Uint8Array ? readEvidenceLog(log) : log;
    const head = read === log ? checkChain(read) : read.head;
    const bySession = new Map<string, EvidenceLogLine[]>();
    for (const l of read.lines) {
      const sid = hex(l.record.entry.sessionId);
      const lines = bySession.get(sid);
      if (lines === undefined) bySession.set(sid, [l]);
      else lines.push(l);
    }
    const details: SessionSummary[] = [];
    const progress = progressOf(read.lines.length, options.onProgress);
    for (const [sid, lines] of bySession) details.push(verifySession(crypto, sid, lines, byCode, resolver, options.nonRepudiation ?? "transcript", progress));
    options.onProgress?.(read.lines.length, read.lines.length);
    return {
      ok: true,
      sessions: details.length,
      messages: details.reduce((n, s) => n + s.messages, 0),
      signatures: details.reduce((n, s) => n + s.signatures, 0),
      records: read.lines.length,
      head,
      details,
    };
  } catch (e: unknown) {
    if (e instanceof Fault || e instanceof EvidenceLogError) return { ok: false, line: e.line, reason: e.reason };
    return { ok: false, line: 0, reason: `internal error while verifying: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** The chain of a log read elsewhere (perhaps with `checkChain: false`); returns the head. */
function checkChain(log: EvidenceLog): string {
  let prev = GENESIS_PREV;
  const origin = log.lines.length === 0 ? 1 : seqOrigin(log.lines[0]!.record.seq);
  if (origin === undefined) throw new Fault(log.lines[0]!.line, `seq is ${log.lines[0]!.record.seq}, expected 1: records before it were removed`);
  for (const [i, l] of log.lines.entries()) {
    const n = i + 1;
    const due = i + origin;
    if (l.line !== n || l.record.seq !== due) throw new Fault(l.line, `seq is ${l.record.seq}, expected ${due}: a record was removed, inserted or moved`);
    if (l.record.prev !== prev) throw new Fault(n, n === 1 ? "prev of the first record must be 64 zeros: records before it were removed" : `prev does not match line ${n - 1} (one of the two lines was altered)`);
    prev = lineHash(l.bytes);
  }
  return prev;
}

/** Every check of one session, in the order docs/evidence.md lists them. */
function verifySession(
  crypto: CryptoBackend,
  sid: string,
  lines: readonly EvidenceLogLine[],
  byCode: ReadonlyMap<string, readonly KnownSession[]>,
  resolver: KeyResolver,
  nrMode: "transcript" | "direct",
  progress: (() => void) | undefined,
): SessionSummary {
  const first = lines[0]!;
  const e0 = first.record.entry;
  checkStart(crypto, sid, lines);
  const session = pickSession(sid, first, byCode);
  const d: SessionDescriptor = session.descriptor;
  const messages = collectMessages(crypto, d, sid, lines);
  const run = walkPath(crypto, d, e0.sessionId, e0.start.bindings, messages);
  const signed = checkSignatures(crypto, e0.sessionId, lines, run.steps, resolver, progress);
  const nonRepudiable = checkNonRepudiation(run.steps, signed, nrMode);
  const values = checkSessionValues(crypto, d, session.schemas, e0.start.bindings, run.steps);
  return {
    sessionId: sid,
    name: d.name,
    code: d.code,
    firstLine: first.line,
    records: lines.length,
    messages: run.steps.length,
    signatures: signed.count,
    nonRepudiable,
    valuesChecked: values.checked,
    valuesUnchecked: values.unchecked,
    principals: run.principals,
    state: run.state,
    finished: d.states[run.state]?.holder === null,
  };
}

/** Counts checked records (the signature check, the costly part, counts them) and reports every 1,000. */
function progressOf(total: number, report: VerifyOptions["onProgress"]): (() => void) | undefined {
  if (report === undefined) return undefined;
  let done = 0;
  return () => {
    done++;
    if (done % 1000 === 0 && done < total) report(done, total);
  };
}
