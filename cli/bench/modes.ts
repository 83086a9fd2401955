/**
 * The protection modes `secsession bench` compares: the runtime with
 * protection off (every ratio's denominator among ours), with only the
 * replay checks, with MACs made but not verified, fully protected as the
 * session declares it, and three variants of the declared attributes.
 */
import { sessionCode, type DirectionSecurity, type SessionDescriptor, type SessionRuntimeOptions } from "../../interceptors/index.js";
import { SKIP_ATTESTATION_CHECKS } from "../../interceptors/api/options.js";

export interface ProtectionMode {
  readonly id: string;
  readonly label: string;
  /** Runtime options of every peer. */
  readonly runtime?: Partial<SessionRuntimeOptions>;
  /** The session's attributes in this mode (a variant of the declared descriptor). */
  readonly variant?: (d: SessionDescriptor) => SessionDescriptor;
}

/** A variant of `d` whose pairwise keys come from the principals' static keys: no Noise, no DH ratchet. */
export function staticKeys(d: SessionDescriptor): SessionDescriptor {
  const body: Omit<SessionDescriptor, "code"> = { ...d, security: { ...d.security, keyEstablishment: "static" } };
  return { ...body, code: sessionCode(body) };
}

/** A variant of `d` with `change` applied to the session's and every direction's attributes (session code recomputed). */
export function everyDirection(d: SessionDescriptor, change: Partial<DirectionSecurity>): SessionDescriptor {
  const body: Omit<SessionDescriptor, "code"> = {
    ...d,
    security: { ...d.security, ...change },
    edges: d.edges.map((e) => ({ ...e, security: { ...e.security, ...change } })),
  };
  return { ...body, code: sessionCode(body) };
}

export const PROTECTION_MODES: readonly ProtectionMode[] = [
  { id: "off", label: "unprotected (same runtime, protection off)", runtime: { protection: "off" } },
  { id: "replay", label: "replay-cache checks only", runtime: { protection: "replay-only" } },
  { id: "mac-noverify", label: "MAC, no verification", runtime: { [SKIP_ATTESTATION_CHECKS]: true } as Partial<SessionRuntimeOptions> },
  { id: "full", label: "as declared (fully protected)" },
  { id: "static", label: "as declared, static pairwise keys (no Noise, no DH ratchet)", variant: staticKeys },
  { id: "signatures", label: "as declared, Ed25519 signatures", variant: (d) => everyDirection(d, { authenticity: "ed25519" }) },
  { id: "privacy", label: "as declared, privacy on every direction (ChaCha20-Poly1305)", variant: (d) => everyDirection(d, { privacy: "chacha20-poly1305" }) },
];
