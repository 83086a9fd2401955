/**
 * The first checks of a session in an evidence log: every record has the same
 * start, the session id is the hash of it, a descriptor given has its code,
 * and the start binds the descriptor's static roles as a joining runtime
 * requires (docs/evidence.md, checks 2.1 and 2.2).
 */
import type { CryptoBackend } from "../keys/crypto/index.js";
import type { EvidenceEntry } from "../runtime/evidence.js";
import { bindingsBytes, hex } from "../wire/encoding.js";
import { sessionIdOf } from "../wire/transcript.js";
import { Fault } from "./fault.js";
import type { EvidenceLogLine } from "./read.js";
import type { KnownSession } from "./sessions.js";

/** Nonce length of a session start: a joining runtime refuses any other. */
const NONCE_BYTES = 32;

/** Checks the start of the session `sid` in its records `lines`. */
export function checkStart(crypto: CryptoBackend, sid: string, lines: readonly EvidenceLogLine[]): void {
  const first = lines[0]!;
  const start = first.record.entry.start;
  const short = shortId(sid);
  for (const l of lines) {
    const e = l.record.entry;
    if (!sameStart(e.start, start)) throw new Fault(l.line, `the session start of session ${short} differs from the one at line ${first.line}`);
    if (e.sessionCode !== hex(e.start.code)) throw new Fault(l.line, `sessionCode ${e.sessionCode} differs from the start's code ${hex(e.start.code)}`);
  }
  if (start.nonce.length !== NONCE_BYTES) throw new Fault(first.line, `the start's nonce is ${start.nonce.length} bytes; a runtime joining the session refuses any but ${NONCE_BYTES}`);
  if (hex(sessionIdOf(crypto, start)) !== sid) throw new Fault(first.line, `session id ${short} is not the hash of its start`);
}

/** The intact descriptor given for the session's code, whose static roles its start binds. */
export function pickSession(sid: string, first: EvidenceLogLine, byCode: ReadonlyMap<string, readonly KnownSession[]>): KnownSession {
  const e0 = first.record.entry;
  const candidates = byCode.get(e0.sessionCode) ?? [];
  const s = candidates.find((x) => x.intact);
  if (s === undefined) {
    if (candidates.length > 0) {
      throw new Fault(first.line, `the descriptor given for session code ${e0.sessionCode} (${candidates[0]!.descriptor.name}) does not match its code: it was edited; regenerate it with buf generate`);
    }
    const given = [...byCode.values()].flat().map((x) => `${x.descriptor.name} ${x.descriptor.code.slice(0, 12)}…`);
    throw new Fault(
      first.line,
      `session ${shortId(sid)} has session code ${e0.sessionCode}, and no descriptor given has it (given: ${given.length === 0 ? "none" : given.join(", ")}): pass the descriptor of the session that wrote this log`,
    );
  }
  const d = s.descriptor;
  const staticRoles = d.roles.filter((r) => !r.dynamic).map((r) => r.name);
  const startRoles = e0.start.bindings.map((b) => b.role);
  if (new Set(startRoles).size !== startRoles.length || startRoles.length !== staticRoles.length || staticRoles.some((r) => !startRoles.includes(r))) {
    throw new Fault(first.line, `the start must bind each static role of ${d.name} (${staticRoles.join(", ")}) exactly once; it binds ${startRoles.join(", ") || "none"}`);
  }
  if (e0.start.bindings.some((b) => b.principal === "")) throw new Fault(first.line, "the start binds a role to an empty principal");
  return s;
}

/** A session id as the verifier's reasons name it. */
export function shortId(sid: string): string {
  return `${sid.slice(0, 16)}…`;
}

function sameStart(a: EvidenceEntry["start"], b: EvidenceEntry["start"]): boolean {
  return a === b || (hex(a.nonce) === hex(b.nonce) && hex(a.code) === hex(b.code) && a.timeMs === b.timeMs && hex(bindingsBytes(a.bindings)) === hex(bindingsBytes(b.bindings)));
}
