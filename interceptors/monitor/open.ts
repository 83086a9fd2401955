/**
 * Checks an incoming envelope against the receiving role's state and, only
 * if every check passes, computes the next state. Nothing here mutates: a
 * refused message leaves no trace but the verdict. The checks, in order, are
 * specified in docs/protocol.md ("Receiving a message").
 */
import { clone } from "@bufbuild/protobuf";
import { KeyUpdateSchema, type Envelope } from "../../gen/secsession/v1/envelope_pb.js";
import type { EdgeDescriptor } from "../descriptor/types.js";
import { constantTimeEqual } from "../keys/crypto/index.js";
import { refuse, type Verdict } from "../errors.js";
import { hex, type RoleBinding } from "../wire/encoding.js";
import { attestationInput, sessionIdOf, transcriptStep } from "../wire/transcript.js";
import type { MonitorContext } from "./context.js";
import { advance, type Segment } from "./advance.js";
import { Keying, UnknownPeerError } from "./keying.js";
import { KeyUpdateError } from "../keys/pair-channel.js";
import { openPayload } from "../wire/payload-crypto.js";
import { defences } from "./defences.js";
import { UNHASHED } from "./protection.js";
import { initialState, type SessionState, type SessionStartInfo } from "./state.js";

/** An accepted message: the next state and what the application receives. */
export interface Opened {
  readonly state: SessionState;
  readonly edge: EdgeDescriptor;
  /** The payload in the clear (decrypted when the edge has privacy). */
  readonly payload: Uint8Array;
  /** True when this message made the role join the session. */
  readonly joined: boolean;
  /** Key changes to retire at commit (or abandon). */
  readonly keying: Keying;
  /** The version of the sender's key for this message (receipts use it). */
  readonly keyVersion: number;
  /** The signatures (empty-target attestations) this check verified. */
  readonly signatures: ReadonlyArray<{ readonly role: string; readonly step: bigint; readonly tag: Uint8Array }>;
}

/** Upper bound on the unseen history one envelope may carry. */
export const MAX_SEGMENT = 100_000;

/**
 * Value checks that need the decoded payload (oneof case of a response
 * branch, principals bound from fields, `where`, `opens`); a reason refuses.
 */
export type ValueCheck = (
  edge: EdgeDescriptor,
  principals: Readonly<Record<string, string>>,
  state: SessionState,
  plaintext: Uint8Array,
) => { readonly kind: "malformed" | "value"; readonly reason: string } | undefined;

/** Checks `env`, received on `rpc` as one of `kinds` of message, against `current` (undefined: no state for its session). */
export function openEnvelope(
  ctx: MonitorContext,
  env: Envelope,
  rpc: string,
  kinds: readonly EdgeDescriptor["kind"][],
  current: SessionState | undefined,
  checkValues: ValueCheck,
): Verdict<Opened> {
  const sid = env.sessionId;
  const sidHex = hex(sid);
  if (env.version !== 1) return refuse("malformed", `unsupported envelope version ${env.version}`, env.edge, sidHex);
  if (sid.length !== 32) return refuse("malformed", `session id must be 32 bytes, got ${sid.length}`, env.edge, sidHex);
  if (env.ack) return refuse("malformed", "a receipt cannot be sent as a message", env.edge, sidHex);
  const edge = ctx.plan.edges[env.edge];
  if (edge === undefined) return refuse("unknown-edge", `session ${ctx.plan.descriptor.name} has no edge ${env.edge}`, env.edge, sidHex);
  if (edge.rpc !== rpc || !kinds.includes(edge.kind)) {
    return refuse("unknown-edge", `edge ${edge.id} is a ${edge.kind} of ${edge.rpc}, not a ${kinds.join(" or ")} of ${rpc}`, edge.id, sidHex);
  }
  if (defences.addressing && edge.receiver !== ctx.role) return refuse("not-addressed", `edge ${edge.id} is addressed to ${edge.receiver}, this is ${ctx.role}`, edge.id, sidHex);
  if (env.history.length > MAX_SEGMENT) return refuse("malformed", `history of ${env.history.length} messages exceeds ${MAX_SEGMENT}`, edge.id, sidHex);

  let base = current;
  let joined = false;
  if (base === undefined) {
    const s = joinState(ctx, env, sidHex);
    if (!s.ok) return s;
    base = s.value;
    joined = true;
  }
  const fail = (k: Parameters<typeof refuse>[0], reason: string) => refuse(k, reason, edge.id, sidHex);

  // Replay and ordering: the segment must continue exactly where this role's knowledge ends.
  const replayChecked = edge.security.replayPrevention && defences.step;
  if (replayChecked && env.step <= base.step) {
    return fail("replay", `step ${env.step} is not after the last step ${base.step} this role accepted`);
  }
  const first = base.step + 1n;
  if (replayChecked && env.step !== first + BigInt(env.history.length)) {
    return fail("out-of-order", `step ${env.step} does not follow step ${base.step} with ${env.history.length} unseen messages`);
  }

  // Walk the claimed path through the global graph.
  const segment: Segment[] = [];
  let state = base.state;
  let h = base.h;
  const principals: Record<string, string> = { ...base.principals };
  const hashed = (ctx.protection ?? "full") === "full"; // a benchmark baseline keeps no transcript (monitor/protection.ts)
  // Byte fields the next state keeps are copied: decoded ones are views into the whole envelope, which they would keep alive.
  const items = [...env.history.map((x) => ({ edge: x.edge, step: x.step, payloadHash: x.payloadHash.slice(), bindings: x.bindings })), undefined];
  for (const [i, x] of items.entries()) {
    const e = x === undefined ? edge : ctx.plan.edges[x.edge];
    if (e === undefined) return fail("unknown-edge", `history names edge ${x?.edge}, which does not exist`);
    const step = x === undefined ? env.step : x.step;
    if (replayChecked && step !== first + BigInt(i)) return fail("out-of-order", `history step ${step} where ${first + BigInt(i)} was due`);
    if (defences.path && e.from !== state) return fail("out-of-order", `edge ${e.id} (${e.rpc} ${e.kind}) cannot follow global state ${state}`);
    if (defences.path && x !== undefined && (e.sender === ctx.role || e.receiver === ctx.role)) {
      return fail("out-of-order", `history claims edge ${e.id}, which involves ${ctx.role} itself`);
    }
    const bindings: RoleBinding[] = (x === undefined ? env.bindings : x.bindings).map((b) => ({ role: b.role, principal: b.principal }));
    const bad = checkBindings(e, bindings);
    if (bad !== undefined) return fail("value", bad);
    for (const b of bindings) principals[b.role] = b.principal;
    if (principals[e.sender] === undefined) return fail("out-of-order", `${e.sender} sent edge ${e.id} before it was bound`);
    const payloadHash = x !== undefined ? x.payloadHash : hashed ? ctx.crypto.sha256(env.payload) : UNHASHED;
    if (payloadHash.length !== 32) return fail("malformed", `payload hash of step ${step} must be 32 bytes`);
    if (hashed) h = transcriptStep(ctx.crypto, h, { edge: e.id, step, payloadHash, bindings });
    segment.push({ edge: e, item: { edge: e.id, step, payloadHash, bindings, h } });
    state = e.to;
  }
  if (defences.addressing && principals[ctx.role] !== ctx.self.id) {
    return fail("not-addressed", `role ${ctx.role} is bound to ${JSON.stringify(principals[ctx.role] ?? "")}, not to this peer ${JSON.stringify(ctx.self.id)}`);
  }

  const keying = new Keying(ctx, { ...base, principals });
  const result = finish(ctx, env, sid, segment, principals, base, keying, checkValues, fail, edge, joined);
  if (!result.ok) keying.abandon();
  return result;
}

function finish(
  ctx: MonitorContext,
  env: Envelope,
  sid: Uint8Array,
  segment: readonly Segment[],
  principals: Record<string, string>,
  base: SessionState,
  keying: Keying,
  checkValues: ValueCheck,
  fail: (k: Parameters<typeof refuse>[0], reason: string) => Verdict<never>,
  edge: EdgeDescriptor,
  joined: boolean,
): Verdict<Opened> {
  try {
    keying.applyUpdates(env.keyUpdates.map((u) => clone(KeyUpdateSchema, u)));
  } catch (e: unknown) {
    if (e instanceof KeyUpdateError) return fail("bad-key-update", e.message);
    if (e instanceof UnknownPeerError) return fail("unknown-peer", e.message);
    throw e;
  }
  const verified: Array<{ role: string; step: bigint; tag: Uint8Array }> = [];
  const att = defences.attestations ? checkAttestations(ctx, env, sid, segment, principals, keying, verified) : undefined;
  if (att !== undefined) return att.kind === "unknown-peer" ? fail("unknown-peer", att.reason) : fail("bad-attestation", att.reason);

  let plaintext = env.payload;
  const sender = principals[edge.sender]!;
  if (edge.security.privacy !== "none" && (defences.privacy || env.payloadKeyVersion !== 0)) {
    const keys = keying.recvKeys(sender, env.payloadKeyVersion);
    const header = { sid, edge: edge.id, step: env.step, sender: edge.sender, receiver: edge.receiver, keyVersion: env.payloadKeyVersion };
    const opened = keys === undefined ? undefined : openPayload(ctx.crypto, edge.security.privacy, keys.enc, header, env.payload);
    if (opened === undefined) return fail("bad-attestation", `the payload of edge ${edge.id} does not decrypt with ${edge.sender}'s key version ${env.payloadKeyVersion}`);
    plaintext = opened;
  } else if (env.payloadKeyVersion !== 0) {
    return fail("malformed", `edge ${edge.id} carries its payload in the clear, but the envelope claims key version ${env.payloadKeyVersion}`);
  }

  // The check also decodes the payload: switched off, it still refuses what does not decode.
  const checked = checkValues(edge, principals, base, plaintext);
  const valueProblem = checked?.kind === "malformed" || defences.values ? checked : undefined;
  if (valueProblem !== undefined) return fail(valueProblem.kind, valueProblem.reason);

  const own = env.attestations.find((a) => a.role === edge.sender && a.step === env.step && a.target === ctx.role);
  // Carried key updates are copies (advance copies carried tags): decoded fields are views into the whole envelope.
  const carryUpdates = env.keyUpdates.map((u) => ({ ...u, body: { case: u.body.case, value: u.body.value?.slice() as Uint8Array | undefined }, tag: u.tag.slice() }));
  const next = advance(ctx, { ...base, pairs: keying.result() }, segment, principals, plaintext, env.attestations, carryUpdates);
  return { ok: true, value: { state: next, edge, payload: plaintext, joined, keying, keyVersion: own?.keyVersion ?? 0, signatures: verified } };
}

/** The state of a role that joins a session with this envelope (checks the start). */
function joinState(ctx: MonitorContext, env: Envelope, sidHex: string): Verdict<SessionState> {
  const start = env.start;
  if (start === undefined) return refuse("unknown-session", "no session with this id, and the envelope carries no session start", env.edge, sidHex);
  if (defences.sessionCode && !constantTimeEqual(start.sessionCode, ctx.plan.code)) {
    return refuse("wrong-session-code", `the session start is for session code ${hex(start.sessionCode)}, this role runs ${ctx.plan.descriptor.code}`, env.edge, sidHex);
  }
  if (start.nonce.length !== 32) return refuse("bad-start", `start nonce must be 32 bytes, got ${start.nonce.length}`, env.edge, sidHex);
  const bindings = start.bindings.map((b) => ({ role: b.role, principal: b.principal }));
  const roles = new Set(bindings.map((b) => b.role));
  for (const r of ctx.plan.staticRoles) if (!roles.has(r)) return refuse("bad-start", `the start does not bind role ${r}`, env.edge, sidHex);
  if (roles.size !== bindings.length || bindings.some((b) => !ctx.plan.staticRoles.includes(b.role) || b.principal === "")) {
    return refuse("bad-start", "the start binds a role twice, a dynamic or unknown role, or an empty principal", env.edge, sidHex);
  }
  // Decoded fields are views into the whole envelope: keep copies, or the plan's code when it is the same.
  const code = constantTimeEqual(start.sessionCode, ctx.plan.code) ? ctx.plan.code : start.sessionCode.slice();
  const info: SessionStartInfo = { nonce: start.nonce.slice(), code, timeMs: start.timeMs, bindings };
  const sid = sessionIdOf(ctx.crypto, info);
  if (!constantTimeEqual(sid, env.sessionId)) return refuse("bad-start", "the session id is not the hash of the session start", env.edge, sidHex);
  const skew = ctx.now() - start.timeMs;
  const window = BigInt(ctx.plan.descriptor.replayWindowMs);
  if (defences.startWindow && (skew > window || -skew > window)) {
    return refuse("stale-start", `the session started ${skew} ms from now, outside the ${window} ms window`, env.edge, sidHex);
  }
  return { ok: true, value: initialState(ctx.crypto, sid, ctx.role, info, ctx.plan.descriptor.initial) };
}

function checkBindings(e: EdgeDescriptor, bindings: readonly RoleBinding[]): string | undefined {
  const want = e.binds.map((b) => b.role).sort().join(",");
  const got = bindings.map((b) => b.role).sort().join(",");
  if (want !== got) return `edge ${e.id} binds [${want}] but the message binds [${got}]`;
  if (bindings.some((b) => b.principal === "")) return `edge ${e.id} binds a role to an empty principal`;
  return undefined;
}

/**
 * The attestations the receiver requires: the sender's for this message, and
 * with history on, the latest of each other role that sent in the segment
 * (visibility) or every one (full).
 */
function checkAttestations(
  ctx: MonitorContext,
  env: Envelope,
  sid: Uint8Array,
  segment: readonly Segment[],
  principals: Readonly<Record<string, string>>,
  keying: Keying,
  verified: Array<{ role: string; step: bigint; tag: Uint8Array }>,
): { kind: "unknown-peer" | "bad-attestation"; reason: string } | undefined {
  const current = segment[segment.length - 1]!;
  const mode = current.edge.security.history;
  const required: Segment[] = [];
  if (mode === "full") required.push(...segment);
  else if (mode === "visibility") {
    const latest = new Map<string, Segment>();
    for (const s of segment) latest.set(s.edge.sender, s);
    required.push(...latest.values());
  } else required.push(current);
  for (const s of required) {
    if (s.edge.security.authenticity === "none") continue;
    const role = s.edge.sender;
    const principal = principals[role]!;
    const step = s.item.step;
    const mac = env.attestations.find((a) => a.role === role && a.step === step && a.target === ctx.role);
    if (mac !== undefined && s.edge.security.authenticity === "hmac-sha256") {
      const input = attestationInput(sid, role, ctx.role, step, s.item.h);
      let keys;
      try {
        keys = keying.recvKeys(principal, mac.keyVersion);
      } catch (e: unknown) {
        if (e instanceof UnknownPeerError) return { kind: "unknown-peer", reason: e.message };
        throw e;
      }
      if (keys === undefined) return { kind: "bad-attestation", reason: `no key of version ${mac.keyVersion} from ${role} (${principal})` };
      if (ctx.verifyAttestations && !constantTimeEqual(ctx.crypto.hmacSha256(keys.mac, input), mac.tag)) {
        return { kind: "bad-attestation", reason: `the MAC of ${role} for step ${step} does not verify` };
      }
      continue;
    }
    // A signature: the technique of Ed25519 edges, and the fallback of MAC edges whose sender could not address this role yet.
    const sig = env.attestations.find((a) => a.role === role && a.step === step && a.target === "");
    if (sig === undefined) return { kind: "bad-attestation", reason: `missing attestation of ${role} for step ${step}` };
    const keys = ctx.peerKeys(principal);
    if (keys === undefined) return { kind: "unknown-peer", reason: `no public key for principal ${JSON.stringify(principal)} of role ${role}` };
    const signed = attestationInput(sid, role, "", step, s.item.h);
    if (ctx.verifyAttestations && !ctx.crypto.ed25519Verify(keys.ed25519, signed, sig.tag)) {
      return { kind: "bad-attestation", reason: `the signature of ${role} for step ${step} does not verify` };
    }
    if (ctx.verifyAttestations) verified.push({ role, step, tag: sig.tag });
  }
  return undefined;
}
