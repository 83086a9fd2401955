/**
 * The signatures of one session (docs/evidence.md, checks 2.8 and 2.9):
 * every recorded signature verifies over the recomputed transcript with the
 * key of the principal bound to its role at its step; every message of an
 * edge with non-repudiation is covered by a signature of its speaker.
 */
import type { CryptoBackend } from "../keys/crypto/index.js";
import type { KeyResolver, PeerPublicKeys } from "../keys/identity.js";
import { hex } from "../wire/encoding.js";
import { attestationInput } from "../wire/transcript.js";
import { Fault } from "./fault.js";
import type { EvidenceLogLine } from "./read.js";
import type { Step } from "./session-path.js";

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
): Signed {
  const verified = new Set<string>();
  const at = new Set<string>();
  const latest = new Map<string, bigint>();
  const keys = cachedResolver(resolver);
  const n = BigInt(steps.length);
  for (const l of lines) {
    for (const s of l.record.entry.signatures) {
      const where = `${s.role}|${s.step}`;
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
  }
  return { count: verified.size, at, latest };
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
