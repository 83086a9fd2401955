/**
 * The session id, the transcript hash chain and the inputs of attestations
 * and receipts (docs/protocol.md, "Transcript").
 *
 *   sid  = SHA-256(label("session-id") || lp(nonce) || lp(code) || u64(time_ms) || bindings)
 *   h_0  = SHA-256(label("transcript") || lp(sid))
 *   h_k  = SHA-256(label("step") || h_{k-1} || u32(edge) || u64(k) || lp(SHA-256(payload)) || bindings_k)
 */
import type { CryptoBackend } from "../keys/crypto/index.js";
import { bindingsBytes, concat, label, lp, lps, lpsView, u32, u64, type RoleBinding } from "./encoding.js";

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

/** Where transcriptStep writes its input (grown when a message binds long names; read by the hash before it returns). */
let stepInput = new Uint8Array(256);

/** Extends the transcript hash with one message. */
export function transcriptStep(c: CryptoBackend, prev: Uint8Array, m: StepFields): Uint8Array {
  // The input written into one buffer and hashed in one call, the same bytes as
  // STEP ‖ prev ‖ u32(edge) ‖ u64(step) ‖ lp(payloadHash) ‖ bindingsBytes(bindings).
  const bindings = m.bindings.length === 0 ? NO_NAMES : bindingNames(m.bindings);
  let size = STEP.length + prev.length + 4 + 8 + 4 + m.payloadHash.length + 4;
  for (const b of bindings) size += b.length;
  if (stepInput.length < size) stepInput = new Uint8Array(Math.max(size, 2 * stepInput.length));
  const out = stepInput;
  let at = 0;
  out.set(STEP, at);
  at += STEP.length;
  out.set(prev, at);
  at += prev.length;
  at = writeU32(out, at, m.edge);
  const step = BigInt.asUintN(64, m.step);
  at = writeU32(out, at, Number(step >> 32n));
  at = writeU32(out, at, Number(step & 0xffffffffn));
  at = writeU32(out, at, m.payloadHash.length);
  out.set(m.payloadHash, at);
  at += m.payloadHash.length;
  at = writeU32(out, at, m.bindings.length);
  for (const b of bindings) {
    out.set(b, at);
    at += b.length;
  }
  return c.sha256(out.subarray(0, at));
}

const NO_NAMES: readonly Uint8Array[] = [];

/** The lps of each role and principal of `bs`, sorted by role (as bindingsBytes writes them after the count). */
function bindingNames(bs: readonly RoleBinding[]): Uint8Array[] {
  const sorted = bs.length === 1 ? bs : [...bs].sort((a, b) => (a.role < b.role ? -1 : a.role > b.role ? 1 : 0));
  const out: Uint8Array[] = [];
  for (const b of sorted) out.push(lpsView(b.role), lpsView(b.principal));
  return out;
}

function writeU32(out: Uint8Array, at: number, n: number): number {
  const v = n >>> 0;
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
  return at + 4;
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
  // Everything before the body in one buffer: two parts to MAC, not six.
  const s = lpsView(sender);
  const r = lpsView(receiver);
  const head = new Uint8Array(ENVELOPE_MAC.length + 4 + sid.length + s.length + r.length + 4 + h.length);
  let at = 0;
  head.set(ENVELOPE_MAC, at);
  at += ENVELOPE_MAC.length;
  at = writeU32(head, at, sid.length);
  head.set(sid, at);
  at += sid.length;
  head.set(s, at);
  at += s.length;
  head.set(r, at);
  at += r.length;
  at = writeU32(head, at, h.length);
  head.set(h, at);
  return [head, body];
}

/** What the receipt of a one-way message covers: the receiver vouches it accepted `step` with transcript `h`. */
export function receiptInput(sid: Uint8Array, receiver: string, sender: string, edge: number, step: bigint, h: Uint8Array): Uint8Array {
  return concat(label("receipt"), lp(sid), lps(receiver), lps(sender), u32(edge), u64(step), lp(h));
}
