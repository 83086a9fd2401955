/**
 * The signatures of one session (docs/evidence.md, checks 2.8 and 2.9):
 * every recorded signature verifies over the recomputed transcript with the
 * key of the principal bound to its role at its step; every record carries
 * the signatures its runtime must have verified (a received record) or made
 * (a sent one); every message of an edge with non-repudiation is covered by
 * a signature of its speaker.
 */
import type { CryptoBackend } from "../keys/crypto/index.js";
import type { KeyResolver, PeerPublicKeys } from "../keys/identity.js";
import { hex } from "../wire/encoding.js";
import { attestationInput } from "../wire/transcript.js";
import { Fault } from "./fault.js";
import type { EvidenceLogLine } from "./read.js";
import { describeStep, type Step } from "./session-path.js";

/** What the verified signatures of a session cover. */
export interface Signed {
  /** Distinct signatures verified. */
  readonly count: number;
  /** `role|step` of each verified signature. */
  readonly at: ReadonlySet<string>;
  /** The latest step signed by each speaker, keyed `role\u0000principal`. */
  readonly latest: ReadonlyMap<string, bigint>;
}

/** Checks the signatures of every record of a session whose run is `steps`. */
export function checkSignatures(
  crypto: CryptoBackend,
  sessionId: Uint8Array,
  lines: readonly EvidenceLogLine[],
  steps: readonly Step[],
  resolver: KeyResolver,
  /** Called after each record (progress reports). */
  checked?: () => void,
): Signed {
  const verified = new Set<string>();
  const at = new Set<string>();
  const latest = new Map<string, bigint>();
  const keys = cachedResolver(resolver);
  const n = BigInt(steps.length);
  for (const l of lines) {
    const carried = new Set<string>();
    for (const s of l.record.entry.signatures) {
      const where = `${s.role}|${s.step}`;
      carried.add(where);
      const key = `${where}|${hex(s.tag)}`;
      if (verified.has(key)) continue;
      if (s.step < 1n || s.step > n) throw new Fault(l.line, `a signature of ${s.role} is for step ${s.step}, which the log does not have (steps 1 to ${n})`);
      const step = steps[Number(s.step) - 1]!;
      if (step.edge.sender !== s.role) throw new Fault(l.line, `a signature of ${s.role} is for step ${s.step}, which ${step.edge.sender} sent`);
      const principal = step.sender;
      const pub = keys(principal);
      if (pub === undefined) throw new Fault(l.line, `no public key for principal ${JSON.stringify(principal)} (role ${s.role}): add it to the keyring`);
      if (pub.ed25519.length !== 32) throw new Fault(l.line, `the keyring's Ed25519 key of ${JSON.stringify(principal)} is not 32 bytes`);
      if (!crypto.ed25519Verify(pub.ed25519, attestationInput(sessionId, s.role, "", s.step, step.h), s.tag)) {
        throw new Fault(l.line, `the signature of ${s.role} (${principal}) for step ${s.step} does not verify`);
      }
      verified.add(key);
      at.add(where);
      const speaker = `${s.role}\u0000${principal}`;
      if ((latest.get(speaker) ?? 0n) < s.step) latest.set(speaker, s.step);
    }
    checkRequired(l, steps, carried);
    checked?.();
  }
  return { count: verified.size, at, latest };
}

/**
 * The signatures a record must carry: a sent record of an Ed25519 edge, its
 * sender's own; a received one, every signature its runtime required of the
 * envelope on an Ed25519 edge. MAC attestations are not recorded, so for an
 * edge with HMAC nothing is required here.
 *
 * What a receiver requires follows the history mode of the received edge:
 * `none`, the sender's attestation of that message; `full`, one for every
 * authenticated message of the segment; `visibility`, one for the latest
 * *authenticated* message of each sender in the segment — a later message of
 * the same sender without authenticity does not supersede it (it carries no
 * attestation to stand in for the earlier one).
 */
function checkRequired(l: EvidenceLogLine, steps: readonly Step[], carried: ReadonlySet<string>): void {
  const e = l.record.entry;
  const first = Number(e.items[0]!.step) - 1;
  const segment = steps.slice(first, first + e.items.length);
  const current = segment[segment.length - 1]!;
  for (const s of e.direction === "sent" ? [current] : requiredOf(segment)) {
    if (s.edge.security.authenticity !== "ed25519" || carried.has(`${s.edge.sender}|${s.step}`)) continue;
    const whose = `the signature of ${s.edge.sender} (${s.sender}) for ${describeStep(s.step, s.edge)}`;
    throw new Fault(
      l.line,
      e.direction === "sent"
        ? `this record of sending ${describeStep(s.step, s.edge)} lacks ${whose}: the runtime signs every message of an Ed25519 edge`
        : `this record of receiving ${describeStep(current.step, current.edge)} lacks ${whose}, which its receiver must have verified (history ${current.edge.security.history})`,
    );
  }
}

/** The messages of a received segment whose attestation the receiver checks. */
function requiredOf(segment: readonly Step[]): Step[] {
  const current = segment[segment.length - 1]!;
  switch (current.edge.security.history) {
    case "none":
      return [current];
    case "full":
      return segment.filter((s) => s.edge.security.authenticity !== "none");
    case "visibility": {
      const latest = new Map<string, Step>();
      for (const s of segment) if (s.edge.security.authenticity !== "none") latest.set(s.edge.sender, s);
      return [...latest.values()];
    }
  }
}

/**
 * Non-repudiation: every message of an edge with `nonRepudiation` is covered
 * by a verified signature of its speaker (its sender's role and the
 * principal bound to it then) — at its step (`direct`), or at its step or
 * any later one (`transcript`: a signature over h_j commits to every message
 * up to j). Returns how many messages need it.
 */
export function checkNonRepudiation(steps: readonly Step[], signed: Signed, mode: "transcript" | "direct"): number {
  let count = 0;
  for (const s of steps) {
    if (!s.edge.security.nonRepudiation) continue;
    const role = s.edge.sender;
    const covered = mode === "direct" ? signed.at.has(`${role}|${s.step}`) : (signed.latest.get(`${role}\u0000${s.sender}`) ?? 0n) >= s.step;
    if (!covered) {
      throw new Fault(
        s.message.line,
        `step ${s.step} (edge ${s.edge.id}, ${s.edge.rpc} ${s.edge.kind}) requires non-repudiation, but no signature of its sender ${role} (${s.sender}) ${mode === "direct" ? "for it" : "for it or a later step"} is recorded`,
      );
    }
    count++;
  }
  return count;
}

/** One resolver call per principal (a resolver may be slow: a file, a directory service). */
function cachedResolver(resolver: KeyResolver): (principal: string) => PeerPublicKeys | undefined {
  const cache = new Map<string, PeerPublicKeys | undefined>();
  return (p) => {
    if (!cache.has(p)) cache.set(p, resolver(p));
    return cache.get(p);
  };
}
