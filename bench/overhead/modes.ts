/**
 * The configurations the overhead benchmark compares, side by side in one
 * process: our runtime in six modes (the seed's four rows and two of ours),
 * plain grpc-js and grpc-js over mutual TLS.
 */
import { SKIP_ATTESTATION_CHECKS } from "../../interceptors/api/options.js";
import type { SessionDescriptor, SessionRuntimeOptions } from "../../interceptors/index.js";
import { everyDirection, staticKeys } from "../../cli/bench/modes.js";

export type ModeId = "off" | "replay" | "mac-noverify" | "full" | "static" | "signatures" | "privacy" | "grpc" | "mtls";

export interface Mode {
  readonly id: ModeId;
  readonly label: string;
  /** Our runtime, or plain grpc-js. */
  readonly kind: "secsession" | "plain";
  /** The seed's row this mode corresponds to (SEED_CONF_OVERHEAD index). */
  readonly seedRow?: number;
  /** Runtime options of every peer. */
  readonly runtime?: Partial<SessionRuntimeOptions>;
  /** The session's attributes in this mode (a variant of the generated descriptor). */
  readonly variant?: (d: SessionDescriptor) => SessionDescriptor;
}

export { everyDirection, staticKeys };

export const MODES: readonly Mode[] = [
  { id: "off", label: "unprotected (same stubs, protection off)", kind: "secsession", seedRow: 0, runtime: { protection: "off" } },
  { id: "replay", label: "replay-cache checks only", kind: "secsession", seedRow: 1, runtime: { protection: "replay-only" } },
  { id: "mac-noverify", label: "MAC, no verification", kind: "secsession", seedRow: 2, runtime: { [SKIP_ATTESTATION_CHECKS]: true } as Partial<SessionRuntimeOptions> },
  { id: "full", label: "fully protected (MAC, the default)", kind: "secsession", seedRow: 3 },
  { id: "static", label: "fully protected, static pairwise keys (no Noise, no DH ratchet)", kind: "secsession", variant: staticKeys },
  { id: "signatures", label: "fully protected, Ed25519 signatures", kind: "secsession", variant: (d) => everyDirection(d, { authenticity: "ed25519" }) },
  { id: "privacy", label: "fully protected, privacy on every direction (ChaCha20-Poly1305)", kind: "secsession", variant: (d) => everyDirection(d, { privacy: "chacha20-poly1305" }) },
  { id: "grpc", label: "plain grpc-js (no secsession code)", kind: "plain" },
  { id: "mtls", label: "plain grpc-js over mutual TLS", kind: "plain" },
];
