/**
 * The offline verifier of evidence logs: with only the public keys of the
 * principals and the session descriptors, checks that a log is an intact
 * chain of records and that every session in it is a legal run of its
 * protocol whose recorded signatures verify over the recomputed transcript
 * (docs/evidence.md, "What `evidence verify` checks").
 */
import { verifySessionCode } from "../descriptor/code.js";
import type { EdgeDescriptor, SessionDescriptor } from "../descriptor/types.js";
import { defaultBackend, type CryptoBackend } from "../keys/crypto/index.js";
import type { KeyResolver } from "../keys/identity.js";
import type { EvidenceEntry, EvidenceItem } from "../runtime/evidence.js";
import { bindingsBytes, hex, type RoleBinding } from "../wire/encoding.js";
import { attestationInput, sessionIdOf, transcriptStart, transcriptStep } from "../wire/transcript.js";
import { GENESIS_PREV, lineHash } from "./format.js";
import { EvidenceLogError, readEvidenceLog, seqOrigin, type EvidenceLog, type EvidenceLogLine } from "./read.js";

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
   * - `"transcript"` (default): a verified signature of its sender's
   *   principal over the transcript hash at its step or at any later step.
   *   A signature over `h_j` commits to every message up to `j` (the
   *   transcript is a hash chain), so it cannot be repudiated either; this is
   *   what a role receives with history `visibility`, where older signatures
   *   of a sender are superseded by newer ones.
   * - `"direct"`: a verified signature of its sender at exactly its step.
   */
  readonly nonRepudiation?: "transcript" | "direct";
}

/** The outcome of a check: a fault at a line. */
class Fault extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/**
 * Verifies an evidence log (its bytes, text, or as read by readEvidenceLog)
 * against session descriptors (matched by session code) and public keys.
 * Never throws for bad input: the result says which line is at fault.
 */
export function verifyEvidence(
  log: EvidenceLog | Uint8Array | string,
  descriptors: SessionDescriptor | Iterable<SessionDescriptor>,
  resolver: KeyResolver,
  options: VerifyOptions = {},
): EvidenceVerification {
  const crypto = options.crypto ?? defaultBackend();
  try {
    const read = typeof log === "string" || log instanceof Uint8Array ? readEvidenceLog(log) : log;
    const head = checkChain(read);
    const byCode = new Map<string, SessionDescriptor[]>();
    for (const d of isDescriptor(descriptors) ? [descriptors] : descriptors) byCode.set(d.code, [...(byCode.get(d.code) ?? []), d]);
    const sessions = new Map<string, EvidenceLogLine[]>();
    for (const l of read.lines) {
      const sid = hex(l.record.entry.sessionId);
      sessions.set(sid, [...(sessions.get(sid) ?? []), l]);
    }
    const details: SessionSummary[] = [];
    for (const [sid, lines] of sessions) details.push(verifySession(crypto, sid, lines, byCode, resolver, options.nonRepudiation ?? "transcript"));
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

function isDescriptor(d: SessionDescriptor | Iterable<SessionDescriptor>): d is SessionDescriptor {
  return typeof (d as SessionDescriptor).code === "string" && typeof (d as SessionDescriptor).format === "string";
}

/** The chain, again (a log read with `checkChain: false` is checked too); returns the head. */
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

interface Known {
  readonly item: EvidenceItem;
  readonly line: number;
}

interface StepInfo {
  readonly edge: EdgeDescriptor;
  readonly h: Uint8Array;
  readonly principals: Readonly<Record<string, string>>;
  readonly line: number;
}

function verifySession(
  crypto: CryptoBackend,
  sid: string,
  lines: readonly EvidenceLogLine[],
  byCode: ReadonlyMap<string, readonly SessionDescriptor[]>,
  resolver: KeyResolver,
  nrMode: "transcript" | "direct",
): SessionSummary {
  const first = lines[0]!;
  const short = `${sid.slice(0, 16)}…`;
  const e0 = first.record.entry;

  // The start and the session id.
  for (const l of lines) {
    const e = l.record.entry;
    if (!sameStart(e.start, e0.start)) throw new Fault(l.line, `the session start of session ${short} differs from the one at line ${first.line}`);
    if (e.sessionCode !== hex(e.start.code)) throw new Fault(l.line, `sessionCode ${e.sessionCode} differs from the start's code ${hex(e.start.code)}`);
  }
  if (hex(sessionIdOf(crypto, e0.start)) !== sid) throw new Fault(first.line, `session id ${short} is not the hash of its start`);

  // The descriptor.
  const candidates = byCode.get(e0.sessionCode) ?? [];
  const d = candidates.find((x) => verifySessionCode(x));
  if (d === undefined) {
    if (candidates.length > 0) {
      throw new Fault(first.line, `the descriptor given for session code ${e0.sessionCode} (${candidates[0]!.name}) does not match its code: it was edited; regenerate it with buf generate`);
    }
    const given = [...byCode.values()].flat().map((x) => `${x.name} ${x.code.slice(0, 12)}…`);
    throw new Fault(
      first.line,
      `session ${short} has session code ${e0.sessionCode}, and no descriptor given has it (given: ${given.length === 0 ? "none" : given.join(", ")}): pass the descriptor of the session that wrote this log`,
    );
  }
  const roleNames = d.roles.map((r) => r.name);
  const staticRoles = d.roles.filter((r) => !r.dynamic).map((r) => r.name);
  const startRoles = e0.start.bindings.map((b) => b.role);
  if (new Set(startRoles).size !== startRoles.length || startRoles.length !== staticRoles.length || staticRoles.some((r) => !startRoles.includes(r))) {
    throw new Fault(first.line, `the start must bind each static role of ${d.name} (${staticRoles.join(", ")}) exactly once; it binds ${startRoles.join(", ") || "none"}`);
  }
  if (e0.start.bindings.some((b) => b.principal === "")) throw new Fault(first.line, "the start binds a role to an empty principal");

  // The messages: each record's items, deduplicated; each role's records follow on from each other.
  const messages = new Map<bigint, Known>();
  const progress = new Map<string, { step: bigint; line: number }>();
  for (const l of lines) {
    const e = l.record.entry;
    if (!roleNames.includes(e.role)) throw new Fault(l.line, `role ${JSON.stringify(e.role)} is not a role of ${d.name}`);
    const firstStep = e.items[0]!.step;
    for (const [i, x] of e.items.entries()) {
      if (x.step !== firstStep + BigInt(i)) throw new Fault(l.line, `items must be consecutive steps, oldest first: items[${i}] is step ${x.step}`);
    }
    const before = progress.get(e.role);
    const expected = (before?.step ?? 0n) + 1n;
    if (firstStep !== expected) {
      throw new Fault(
        l.line,
        before === undefined
          ? `the first record of role ${e.role} in session ${short} starts at step ${firstStep}, not 1: earlier records are missing`
          : `this record of role ${e.role} starts at step ${firstStep}, but its previous record (line ${before.line}) ended at step ${before.step}: records are missing or out of order`,
      );
    }
    const last = e.items[e.items.length - 1]!;
    progress.set(e.role, { step: last.step, line: l.line });
    const edge = d.edges[last.edge];
    if (edge === undefined) throw new Fault(l.line, `step ${last.step} names edge ${last.edge}, which ${d.name} does not have`);
    if (e.direction === "sent" && edge.sender !== e.role) throw new Fault(l.line, `role ${e.role} records sending step ${last.step}, but edge ${edge.id} is sent by ${edge.sender}`);
    if (e.direction === "received" && edge.receiver !== e.role) throw new Fault(l.line, `role ${e.role} records receiving step ${last.step}, but edge ${edge.id} is received by ${edge.receiver}`);
    if (e.direction === "sent" && e.items.length !== 1) throw new Fault(l.line, "a record of a sent message has exactly one item");
    if (hex(crypto.sha256(e.payload)) !== hex(last.payloadHash)) throw new Fault(l.line, `the payload does not hash to the payloadHash of step ${last.step}`);
    for (const x of e.items) {
      const known = messages.get(x.step);
      if (known === undefined) messages.set(x.step, { item: x, line: l.line });
      else if (!sameItem(known.item, x)) throw new Fault(l.line, `step ${x.step} differs from step ${x.step} at line ${known.line}`);
    }
  }
  const n = BigInt(messages.size);
  for (let k = 1n; k <= n; k++) {
    if (!messages.has(k)) {
      const after = [...messages.entries()].filter(([s]) => s > k).sort(([a], [b]) => (a < b ? -1 : 1))[0]!;
      throw new Fault(after[1].line, `step ${k} of session ${short} is missing: no record has it`);
    }
  }

  // The path through the global graph, the bindings and the transcript.
  const steps: StepInfo[] = [];
  let state = d.initial;
  let h = transcriptStart(crypto, e0.sessionId);
  const principals: Record<string, string> = Object.fromEntries(e0.start.bindings.map((b) => [b.role, b.principal]));
  for (let k = 1n; k <= n; k++) {
    const { item, line } = messages.get(k)!;
    const edge = d.edges[item.edge];
    if (edge === undefined) throw new Fault(line, `step ${k} names edge ${item.edge}, which ${d.name} does not have`);
    const what = `step ${k} (edge ${edge.id}, ${edge.rpc} ${edge.kind}${edge.case === null ? "" : ` ${edge.case.field.name}`})`;
    if (edge.from !== state) throw new Fault(line, `${what} cannot follow global state ${state}: it leaves state ${edge.from}`);
    const want = edge.binds.map((b) => b.role).sort();
    const got = item.bindings.map((b) => b.role).sort();
    if (want.join("\u0000") !== got.join("\u0000")) throw new Fault(line, `${what} must bind [${want.join(", ")}], it binds [${got.join(", ")}]`);
    if (item.bindings.some((b) => b.principal === "")) throw new Fault(line, `${what} binds a role to an empty principal`);
    for (const b of item.bindings) principals[b.role] = b.principal;
    if (principals[edge.sender] === undefined) throw new Fault(line, `${what} is sent by ${edge.sender}, which is not bound yet`);
    if (principals[edge.receiver] === undefined) throw new Fault(line, `${what} is received by ${edge.receiver}, which is not bound yet`);
    h = transcriptStep(crypto, h, item);
    steps.push({ edge, h, principals: { ...principals }, line });
    state = edge.to;
  }

  // The signatures.
  const verified = new Set<string>();
  const signedAt = new Map<string, bigint[]>(); // role -> steps with a verified signature
  for (const l of lines) {
    for (const s of l.record.entry.signatures) {
      const key = `${s.role}|${s.step}|${hex(s.tag)}`;
      if (verified.has(key)) continue;
      if (s.step < 1n || s.step > n) throw new Fault(l.line, `a signature of ${s.role} is for step ${s.step}, which the log does not have (steps 1 to ${n})`);
      const at = steps[Number(s.step) - 1]!;
      if (at.edge.sender !== s.role) throw new Fault(l.line, `a signature of ${s.role} is for step ${s.step}, which ${at.edge.sender} sent`);
      const principal = at.principals[s.role]!;
      const keys = resolver(principal);
      if (keys === undefined) throw new Fault(l.line, `no public key for principal ${JSON.stringify(principal)} (role ${s.role}): add it to the keyring`);
      if (keys.ed25519.length !== 32) throw new Fault(l.line, `the keyring's Ed25519 key of ${JSON.stringify(principal)} is not 32 bytes`);
      const input = attestationInput(e0.sessionId, s.role, "", s.step, at.h);
      if (!crypto.ed25519Verify(keys.ed25519, input, s.tag)) throw new Fault(l.line, `the signature of ${s.role} (${principal}) for step ${s.step} does not verify`);
      verified.add(key);
      signedAt.set(s.role, [...(signedAt.get(s.role) ?? []), s.step]);
    }
  }

  // Non-repudiation: every message of an edge that requires it is signed by its sender.
  let nonRepudiable = 0;
  for (const [i, at] of steps.entries()) {
    if (!at.edge.security.nonRepudiation) continue;
    const k = BigInt(i + 1);
    const role = at.edge.sender;
    const principal = at.principals[role]!;
    const signed = (signedAt.get(role) ?? []).some((j) => (nrMode === "direct" ? j === k : j >= k && steps[Number(j) - 1]!.principals[role] === principal));
    if (!signed) {
      throw new Fault(
        at.line,
        `step ${k} (edge ${at.edge.id}, ${at.edge.rpc} ${at.edge.kind}) requires non-repudiation, but no signature of its sender ${role} (${principal}) ${nrMode === "direct" ? "for it" : "for it or a later step"} is recorded`,
      );
    }
    nonRepudiable++;
  }

  return {
    sessionId: sid,
    name: d.name,
    code: d.code,
    firstLine: first.line,
    records: lines.length,
    messages: steps.length,
    signatures: verified.size,
    nonRepudiable,
    principals: { ...principals },
    state,
    finished: d.states[state]?.holder === null,
  };
}

function sameStart(a: EvidenceEntry["start"], b: EvidenceEntry["start"]): boolean {
  return hex(a.nonce) === hex(b.nonce) && hex(a.code) === hex(b.code) && a.timeMs === b.timeMs && sameBindings(a.bindings, b.bindings);
}

function sameItem(a: EvidenceItem, b: EvidenceItem): boolean {
  return a.edge === b.edge && a.step === b.step && hex(a.payloadHash) === hex(b.payloadHash) && sameBindings(a.bindings, b.bindings);
}

/** Equal as the transcript sees them (sorted by role). */
function sameBindings(a: readonly RoleBinding[], b: readonly RoleBinding[]): boolean {
  return hex(bindingsBytes(a)) === hex(bindingsBytes(b));
}
