/**
 * What the monitor needs from its runtime to check and build envelopes:
 * the plan, the role's identity, keys and clocks. Checking is a pure
 * function of a context, a state and an envelope.
 */
import type { CryptoBackend } from "../keys/crypto/index.js";
import type { Identity, PeerPublicKeys } from "../keys/identity.js";
import type { DirectionKeys } from "../keys/pair-channel.js";
import type { SessionPlan } from "./plan.js";
import type { Protection } from "./protection.js";
import type { SessionState } from "./state.js";

export interface MonitorContext {
  readonly plan: SessionPlan;
  readonly role: string;
  readonly self: Identity;
  readonly crypto: CryptoBackend;
  /** Public keys of a principal, or undefined if unknown. */
  peerKeys(principal: string): PeerPublicKeys | undefined;
  /**
   * Static keys of the direction `from` -> `to` (one of them is this peer,
   * the other `peer`) in session `sid`; undefined when `peer` is unknown.
   */
  staticKeys(sid: Uint8Array, peer: string, from: string, to: string): DirectionKeys | undefined;
  /** Milliseconds since the epoch. */
  now(): bigint;
  /** How far ahead of this clock a session start may be (the initiator's clock runs ahead). */
  readonly maxClockSkewMs: number;
  /** Benchmark knob: compute but do not verify attestations (never in production). */
  readonly verifyAttestations: boolean;
  /** Benchmark knob (monitor/protection.ts): below "full", the plan is a baseline variant and no transcript is hashed. Unset: "full". */
  readonly protection?: Protection;
}
