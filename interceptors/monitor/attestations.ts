/**
 * Attestations at the receiver (docs/protocol.md, "Attestations" and
 * "Receiving a message"): which messages of a segment must come with their
 * sender's attestation, checking them, checking the envelope MAC, and what
 * of an envelope's extras the role keeps for later receivers.
 *
 * A speaker is a (role, principal) pair: a message is attested by the
 * principal bound to its sender role at its step, with that principal's key.
 */
import type { EdgeDescriptor } from "../descriptor/types.js";
import { constantTimeEqual } from "../keys/crypto/index.js";
import type { WireEnvelope } from "../wire/envelope-codec.js";
import { attestationInput, envelopeMacInput } from "../wire/transcript.js";
import type { Segment } from "./advance.js";
import type { MonitorContext } from "./context.js";
import { defences } from "./defences.js";
import { UnknownPeerError, type Keying } from "./keying.js";
import type { CarriedAttestation, CarriedKeyUpdate, SessionState } from "./state.js";

/** A failed check: the kind of refusal and why. */
export interface AttestationProblem {
  readonly kind: "unknown-peer" | "bad-attestation" | "malformed";
  readonly reason: string;
}

/** A signature this check verified (kept as evidence). */
export interface VerifiedSignature {
  readonly role: string;
  readonly step: bigint;
  readonly tag: Uint8Array;
}

const authenticated = (e: EdgeDescriptor): boolean => e.security.authenticity !== "none";
const speaker = (s: Segment): string => (defences.speakers ? `${s.edge.sender}\u0000${s.principal}` : s.edge.sender);

/**
 * The history items of `segment` (its last item is the message itself)
 * whose sender's attestation the receiver checks:
 * - history `full`: every authenticated item;
 * - history `visibility`, or a message without authenticity (nothing else
 *   vouches for the history it carries): the latest authenticated item of
 *   each speaker — a later item on a direction without authenticity never
 *   hides an earlier authenticated one;
 * - history `none` on an authenticated message: none; the envelope MAC (or
 *   signature) of its sender covers the whole transcript it carries.
 * The message itself is covered by its envelope MAC or signature. The
 * attestation plan (monitor/plan.ts `attestTargets`) makes exactly these.
 */
export function requiredItems(segment: readonly Segment[]): Segment[] {
  const current = segment[segment.length - 1]!;
  const history = segment.slice(0, -1);
  const mode = current.edge.security.history;
  if (mode === "full") return history.filter((s) => authenticated(s.edge));
  if (mode === "none" && (authenticated(current.edge) || !defences.unvouchedHistory)) return [];
  const latest = new Map<string, Segment>();
  for (const s of history) if (authenticated(s.edge) || !defences.latestAuthenticated) latest.set(speaker(s), s);
  // The sender's own latest message is this one: covered by its envelope MAC or signature — unless it has no authenticity.
  if (authenticated(current.edge) || !defences.latestAuthenticated) latest.delete(speaker(current));
  return [...latest.values()].filter((s) => authenticated(s.edge));
}

/**
 * Checks the envelope MAC of the message (the last item of `segment`): on an
 * authenticated direction of a session with pairwise keys it must be there
 * and verify, over `label("envelope-mac") ‖ lp(sid) ‖ lps(sender) ‖
 * lps(receiver) ‖ lp(h) ‖ body`, where `h` is the transcript hash this role
 * knows (`base.h`, after its last action): the MAC binds the bytes to the
 * transcript both ends share, so the receiver's transcript after the
 * message is the sender's. Anywhere else it must be absent.
 */
export function checkEnvelopeMac(
  ctx: MonitorContext,
  env: WireEnvelope,
  e: EdgeDescriptor,
  principal: string,
  step: bigint,
  base: SessionState,
  keying: Keying,
): AttestationProblem | undefined {
  if (!defences.attestations) return undefined;
  if (!authenticated(e) || !ctx.plan.pairwise) {
    return env.mac === undefined ? undefined : { kind: "malformed", reason: `edge ${e.id} has no envelope MAC (no authenticity, or no pairwise keys), but the envelope carries one` };
  }
  if (env.mac === undefined) return { kind: "bad-attestation", reason: `the envelope of edge ${e.id} carries no MAC` };
  let keys;
  try {
    keys = keying.recvKeys(principal, env.macKeyVersion);
  } catch (err: unknown) {
    if (err instanceof UnknownPeerError) return { kind: "unknown-peer", reason: err.message };
    throw err;
  }
  if (keys === undefined) return { kind: "bad-attestation", reason: `no key of version ${env.macKeyVersion} from ${e.sender} (${principal})` };
  if (!ctx.verifyAttestations) return undefined;
  const want = ctx.crypto.hmacSha256(keys.mac, ...envelopeMacInput(base.sessionId, e.sender, e.receiver, base.h, env.body));
  if (!constantTimeEqual(want, env.mac)) return { kind: "bad-attestation", reason: `the envelope MAC of ${e.sender} for step ${step} does not verify` };
  return undefined;
}

/**
 * Checks the attestations the receiver requires: the sender's signature for
 * the message itself on an Ed25519 direction, and those of `requiredItems`
 * (a MAC addressed to this role, or a signature). Adds the signatures it
 * verified to `verified`.
 */
export function checkAttestations(
  ctx: MonitorContext,
  env: WireEnvelope,
  sid: Uint8Array,
  segment: readonly Segment[],
  keying: Keying,
  verified: VerifiedSignature[],
): AttestationProblem | undefined {
  const current = segment[segment.length - 1]!;
  const required = requiredItems(segment);
  if (current.edge.security.authenticity === "ed25519") required.push(current);
  for (const s of required) {
    const problem = checkOne(ctx, env, sid, s, s === current, keying, verified);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function checkOne(ctx: MonitorContext, env: WireEnvelope, sid: Uint8Array, s: Segment, isCurrent: boolean, keying: Keying, verified: VerifiedSignature[]): AttestationProblem | undefined {
  const role = s.edge.sender;
  const { step, h } = s.item;
  const mac = isCurrent ? undefined : env.attestations.find((a) => a.role === role && a.step === step && a.target === ctx.role);
  if (mac !== undefined && s.edge.security.authenticity === "hmac-sha256") {
    let keys;
    try {
      keys = keying.recvKeys(s.principal, mac.keyVersion);
    } catch (e: unknown) {
      if (e instanceof UnknownPeerError) return { kind: "unknown-peer", reason: e.message };
      throw e;
    }
    if (keys === undefined) return { kind: "bad-attestation", reason: `no key of version ${mac.keyVersion} from ${role} (${s.principal})` };
    if (ctx.verifyAttestations && !constantTimeEqual(ctx.crypto.hmacSha256(keys.mac, attestationInput(sid, role, ctx.role, step, h)), mac.tag)) {
      return { kind: "bad-attestation", reason: `the MAC of ${role} for step ${step} does not verify` };
    }
    return undefined;
  }
  // A signature: the technique of Ed25519 edges, and the fallback of MAC edges whose sender could not address this role yet.
  const sig = env.attestations.find((a) => a.role === role && a.step === step && a.target === "");
  if (sig === undefined) return { kind: "bad-attestation", reason: `missing attestation of ${role} for step ${step}` };
  const keys = ctx.peerKeys(s.principal);
  if (keys === undefined) return { kind: "unknown-peer", reason: `no public key for principal ${JSON.stringify(s.principal)} of role ${role}` };
  if (ctx.verifyAttestations && !ctx.crypto.ed25519Verify(keys.ed25519, attestationInput(sid, role, "", step, h), sig.tag)) {
    return { kind: "bad-attestation", reason: `the signature of ${role} for step ${step} does not verify` };
  }
  if (ctx.verifyAttestations) verified.push({ role, step, tag: sig.tag });
  return undefined;
}

const MAC_BYTES = 32;
const SIGNATURE_BYTES = 64;
/** Longest first-contact message: e (32) ‖ AEAD(ratchet key 32 ‖ prekey id 4) with its 16-byte tag. */
const NOISE_MESSAGE_BYTES = 84;
const RATCHET_KEY_BYTES = 32;

/**
 * What of the envelope's extras this role keeps and carries on. Carried
 * attestations and key updates travel with the token (a sender hands them
 * all on and keeps none), so they may be about any message the role still
 * holds in its history, not only this segment's. It keeps only those that
 * belong to such a message — made by the speaker of the item at their step,
 * on an authenticated edge — and are addressed to a role or principal of the
 * session that may still need them; anything else on the wire (junk, or what
 * a compromised peer added) is dropped, so nothing unchecked rides on
 * forever. Copies: decoded fields are views into the whole envelope.
 */
export function keptExtras(
  ctx: MonitorContext,
  env: WireEnvelope,
  base: SessionState,
  segment: readonly Segment[],
  principals: Readonly<Record<string, string>>,
): { attestations: CarriedAttestation[]; updates: CarriedKeyUpdate[] } {
  // Most envelopes carry only what is addressed to this role (checked on arrival, never forwarded).
  if (env.keyUpdates.length === 0 && env.attestations.every((a) => a.target === ctx.role)) return { attestations: [], updates: [] };
  // The messages the role knows of after this one, by step: their edge and the principal that sent them.
  const known = new Map<bigint, { edge: EdgeDescriptor; principal: string | undefined }>();
  for (const x of base.history) {
    const e = ctx.plan.edges[x.edge];
    if (e !== undefined) known.set(x.step, { edge: e, principal: principals[e.sender] });
  }
  for (const s of segment) known.set(s.item.step, { edge: s.edge, principal: s.principal });
  const attestations: CarriedAttestation[] = [];
  const seen = new Set<string>();
  for (const a of env.attestations) {
    if (a.target === ctx.role) continue; // checked on arrival, not forwarded
    const m = known.get(a.step);
    if (m === undefined || m.edge.sender !== a.role || !authenticated(m.edge)) continue;
    if (a.target === "" ? a.tag.length !== SIGNATURE_BYTES : a.tag.length !== MAC_BYTES || !ctx.plan.attestFor[m.edge.id]!.includes(a.target)) continue;
    const key = `${a.role}>${a.target}@${a.step}`;
    if (seen.has(key)) continue;
    seen.add(key);
    attestations.push({ role: a.role, target: a.target, step: a.step, tag: a.tag.slice(), keyVersion: a.keyVersion });
  }
  const bound = new Set(Object.values(principals));
  const updates: CarriedKeyUpdate[] = [];
  const seenUpdates = new Set<string>();
  for (const u of env.keyUpdates) {
    if (u.to === ctx.self.id || u.body.case === undefined || !bound.has(u.to)) continue;
    if (known.get(u.step)?.principal !== u.from) continue; // made by the sender of the message at its step
    const size =
      u.body.case === "noise" ? u.body.value.length <= NOISE_MESSAGE_BYTES : u.body.value.length === (u.body.case === "ratchet" ? RATCHET_KEY_BYTES : 0) && u.tag.length === MAC_BYTES;
    if (!size) continue;
    const key = `${u.from}>${u.to}@${u.version}`;
    if (seenUpdates.has(key)) continue;
    seenUpdates.add(key);
    updates.push({ from: u.from, to: u.to, version: u.version, step: u.step, body: { case: u.body.case, value: u.body.value.slice() }, tag: u.tag.slice() });
  }
  return { attestations, updates };
}
