/**
 * The session id, the transcript hash chain and the inputs of attestations
 * and receipts (docs/protocol.md, "Transcript").
 *
 *   sid  = SHA-256(label("session-id") || lp(nonce) || lp(code) || u64(time_ms) || bindings)
 *   h_0  = SHA-256(label("transcript") || lp(sid))
 *   h_k  = SHA-256(label("step") || h_{k-1} || u32(edge) || u64(k) || lp(SHA-256(payload)) || bindings_k)
 */
import type { CryptoBackend } from "../keys/crypto/index.js";
import { bindingsBytes, concat, label, lp, lps, u32, u64, type RoleBinding } from "./encoding.js";

/** The fields of a session start that the session id covers. */
export interface StartFields {
  readonly nonce: Uint8Array;
  readonly code: Uint8Array;
  readonly timeMs: bigint;
  readonly bindings: readonly RoleBinding[];
}

const STEP = label("step");

/** The session id of a start. */
export function sessionIdOf(c: CryptoBackend, s: StartFields): Uint8Array {
  return c.sha256(concat(label("session-id"), lp(s.nonce), lp(s.code), u64(s.timeMs), bindingsBytes(s.bindings)));
}

/** The transcript hash before the first message. */
export function transcriptStart(c: CryptoBackend, sid: Uint8Array): Uint8Array {
  return c.sha256(concat(label("transcript"), lp(sid)));
}

/** One message of the transcript. */
export interface StepFields {
  readonly edge: number;
  readonly step: bigint;
  readonly payloadHash: Uint8Array;
  readonly bindings: readonly RoleBinding[];
}

/** Extends the transcript hash with one message. */
export function transcriptStep(c: CryptoBackend, prev: Uint8Array, m: StepFields): Uint8Array {
  // The parts are hashed in order, without copying them into one buffer first (`lp` spelled out).
  return c.sha256(STEP, prev, u32(m.edge), u64(m.step), u32(m.payloadHash.length), m.payloadHash, bindingsBytes(m.bindings));
}

/** What an attestation of `role` for `target` ("" for a signature) at `step` covers. */
export function attestationInput(sid: Uint8Array, role: string, target: string, step: bigint, h: Uint8Array): Uint8Array {
  return concat(label("attest"), lp(sid), lps(role), lps(target), u64(step), lp(h));
}

const ENVELOPE_MAC = label("envelope-mac");

/**
 * What the envelope MAC covers, as parts to hash in order: the envelope's
 * bytes before the MAC field (`body`), bound to the session, the two roles
 * and the transcript hash `h` the receiver knows (after its last action).
 */
export function envelopeMacInput(sid: Uint8Array, sender: string, receiver: string, h: Uint8Array, body: Uint8Array): Uint8Array[] {
  return [ENVELOPE_MAC, lp(sid), lps(sender), lps(receiver), lp(h), body];
}

/** What the receipt of a one-way message covers: the receiver vouches it accepted `step` with transcript `h`. */
export function receiptInput(sid: Uint8Array, receiver: string, sender: string, edge: number, step: bigint, h: Uint8Array): Uint8Array {
  return concat(label("receipt"), lp(sid), lps(receiver), lps(sender), u32(edge), u64(step), lp(h));
}
