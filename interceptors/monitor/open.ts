/**
 * Checks an incoming envelope against the receiving role's state and, only
 * if every check passes, computes the next state. Nothing here mutates: a
 * refused message leaves no trace but the verdict. The checks, in order, are
 * specified in docs/protocol.md ("Receiving a message"): the cheap
 * structural ones first (no hashing), then the envelope MAC over the bytes,
 * and only then the transcript and the attestations that need it, so that
 * refusing a forged envelope costs less than accepting an honest one.
 */
import type { EdgeDescriptor } from "../descriptor/types.js";
import { constantTimeEqual } from "../keys/crypto/index.js";
import { refuse, type AlertKind, type Verdict } from "../errors.js";
import { hex, type RoleBinding } from "../wire/encoding.js";
import { ENVELOPE_VERSION, readLazyParts, type WireEnvelope, type WireHistoryEntry } from "../wire/envelope-codec.js";
import { sessionIdOf, transcriptStep } from "../wire/transcript.js";
import type { MonitorContext } from "./context.js";
import { advance, type Segment } from "./advance.js";
import { checkAttestations, checkEnvelopeMac, keptExtras, type AttestationProblem, type VerifiedSignature } from "./attestations.js";
import { Keying, UnknownPeerError } from "./keying.js";
import { KeyUpdateError } from "../keys/pair-channel.js";
import { openPayload } from "../wire/payload-crypto.js";
import { defences } from "./defences.js";
import { UNHASHED } from "./protection.js";
import { initialState, record, type SessionState, type SessionStartInfo } from "./state.js";

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
  readonly signatures: readonly VerifiedSignature[];
  /** The messages the role learnt, oldest first, ending with this one (as checked: the receiver's own step count). */
  readonly segment: readonly Segment[];
}

/** Upper bound on the unseen history one envelope may carry (the session's shape usually bounds it much lower). */
export const MAX_SEGMENT = 100_000;

/**
 * The largest step a message may carry: steps count messages, so no
 * session reaches it; a larger one is malformed (and would overflow the
 * counters that follow it).
 */
export const MAX_STEP = 2n ** 53n - 1n;

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

type Fail = (k: AlertKind, reason: string) => Verdict<never>;

/** Checks `env`, received on `rpc` as one of `kinds` of message, against `current` (undefined: no state for its session). */
export function openEnvelope(
  ctx: MonitorContext,
  env: WireEnvelope,
  rpc: string,
  kinds: readonly EdgeDescriptor["kind"][],
  current: SessionState | undefined,
  checkValues: ValueCheck,
  /** Hex of the envelope's session id, when the caller has it already. */
  sidHex: string = hex(env.sessionId),
): Verdict<Opened> {
  const sid = env.sessionId;
  if (env.version !== ENVELOPE_VERSION) return refuse("malformed", `unsupported envelope version ${env.version} (this runtime reads version ${ENVELOPE_VERSION})`, env.edge, sidHex);
  if (sid.length !== 32) return refuse("malformed", `session id must be 32 bytes, got ${sid.length}`, env.edge, sidHex);
  if (env.ack) return refuse("malformed", "a receipt cannot be sent as a message", env.edge, sidHex);
  const edge = ctx.plan.edges[env.edge];
  if (edge === undefined) return refuse("unknown-edge", `session ${ctx.plan.descriptor.name} has no edge ${env.edge}`, env.edge, sidHex);
  if (edge.rpc !== rpc || !kinds.includes(edge.kind)) {
    return refuse("unknown-edge", `edge ${edge.id} is a ${edge.kind} of ${edge.rpc}, not a ${kinds.join(" or ")} of ${rpc}`, edge.id, sidHex);
  }
  if (defences.addressing && edge.receiver !== ctx.role) return refuse("not-addressed", `edge ${edge.id} is addressed to ${edge.receiver}, this is ${ctx.role}`, edge.id, sidHex);

  let base = current;
  let joined = false;
  if (base === undefined) {
    const s = joinState(ctx, env, sidHex);
    if (!s.ok) return s;
    base = s.value;
    joined = true;
  }
  const fail: Fail = (k, reason) => refuse(k, reason, edge.id, sidHex);

  // The keys depend on the session and its pair channels, not on the segment's bindings.
  const keying = new Keying(ctx, base);
  let result: Verdict<Opened>;
  try {
    result = checkAndFinish(ctx, env, edge, base, keying, checkValues, fail, joined);
  } catch (e: unknown) {
    keying.abandon();
    throw e;
  }
  if (!result.ok) keying.abandon();
  return result;
}

function checkAndFinish(
  ctx: MonitorContext,
  env: WireEnvelope,
  edge: EdgeDescriptor,
  base: SessionState,
  keying: Keying,
  checkValues: ValueCheck,
  fail: Fail,
  joined: boolean,
): Verdict<Opened> {
  // The envelope MAC before the segment is walked, when the sender is bound
  // already: one HMAC over the bytes, and the network's forged or padded
  // envelopes stop here, whatever history they claim (a role cannot be bound
  // again, so the segment cannot change who the sender is).
  const bad = header(ctx, env, edge, base, fail);
  if (bad !== undefined) return bad;
  // Who this role is, if the receiver knows it already or this message binds it (its own bindings, not the history's).
  const me = base.principals[ctx.role] ?? env.bindings.find((b) => b.role === ctx.role)?.principal;
  if (defences.addressing && me !== undefined && me !== ctx.self.id) {
    return fail("not-addressed", `role ${ctx.role} is bound to ${JSON.stringify(me)}, not to this peer ${JSON.stringify(ctx.self.id)}`);
  }
  const known = base.principals[edge.sender];
  let macBy: string | undefined;
  if (known !== undefined) {
    const early = applyKeyUpdates(keying, env, (from) => from === known, fail);
    if (early !== undefined) return early;
    const p = checkEnvelopeMac(ctx, env, edge, known, env.step, base, keying);
    if (p !== undefined) return fail(p.kind, p.reason);
    macBy = known;
  }

  // What the sender chose the size of is read only now (envelope-codec: read when first used).
  const malformed = readLazyParts(env);
  if (malformed !== undefined) return fail("malformed", `the envelope does not decode: ${malformed}`);
  const walked = walk(ctx, env, edge, base, fail);
  if (!walked.ok) return walked;
  const { principals } = walked.value;
  if (defences.addressing && principals[ctx.role] !== ctx.self.id) {
    return fail("not-addressed", `role ${ctx.role} is bound to ${JSON.stringify(principals[ctx.role] ?? "")}, not to this peer ${JSON.stringify(ctx.self.id)}`);
  }
  return finish(ctx, env, walked.value, base, keying, checkValues, fail, edge, joined, macBy);
}

/** Steps are checked on a direction with authenticity or replay prevention (else they are the receiver's own count). */
function stepsChecked(edge: EdgeDescriptor): boolean {
  return defences.step && (edge.security.replayPrevention || edge.security.authenticity !== "none");
}

/** The checks of the envelope's step and history length, in constant time: they come before anything costs more. */
function header(ctx: MonitorContext, env: WireEnvelope, edge: EdgeDescriptor, base: SessionState, fail: Fail): Verdict<never> | undefined {
  const checkSteps = stepsChecked(edge);
  if (env.step > MAX_STEP) return fail("malformed", `step ${env.step} exceeds ${MAX_STEP}`);
  if (checkSteps && env.step <= base.step) return fail("replay", `step ${env.step} is not after the last step ${base.step} this role accepted`);
  if (checkSteps && env.step !== base.step + 1n + BigInt(env.historyLength)) {
    return fail("out-of-order", `step ${env.step} does not follow step ${base.step} with ${env.historyLength} unseen messages`);
  }
  // The session's shape bounds the history (before anything of it is walked).
  const bound = Math.min(MAX_SEGMENT, ctx.plan.maxSegment(ctx.role, base.state));
  if (defences.path && env.historyLength > bound) {
    return fail("out-of-order", `the envelope carries ${env.historyLength} unseen messages; from global state ${base.state} at most ${bound} can come before a message to ${ctx.role}`);
  }
  return undefined;
}

/** Applies the envelope's key updates from the principals `from` admits (refused as a verdict, not thrown). */
function applyKeyUpdates(keying: Keying, env: WireEnvelope, from: (principal: string) => boolean, fail: Fail): Verdict<never> | undefined {
  if (env.keyUpdates.length === 0) return undefined;
  try {
    keying.applyUpdates(env.keyUpdates.filter((u) => from(u.from)));
  } catch (e: unknown) {
    if (e instanceof KeyUpdateError) return fail("bad-key-update", e.message);
    if (e instanceof UnknownPeerError) return fail("unknown-peer", e.message);
    throw e;
  }
  return undefined;
}

/** A message of the segment after the structural walk: its edge, the receiver's own step count, and its sender's principal. */
interface Walked {
  readonly items: ReadonlyArray<{ readonly edge: EdgeDescriptor; readonly step: bigint; readonly payloadHash: Uint8Array | undefined; readonly bindings: readonly RoleBinding[]; readonly principal: string }>;
  readonly principals: Readonly<Record<string, string>>;
}

/**
 * The structural checks of the segment, without hashing anything: steps
 * continue exactly where this role's knowledge ends, the path is legal in
 * the global graph from the role's state, and each message binds exactly
 * its edge's roles, never re-binding one. Steps are the receiver's own
 * count: on a direction with neither authenticity nor replay prevention the
 * envelope's step fields are not checked, and not used either (a replay
 * there cannot rewind the receiver).
 */
function walk(ctx: MonitorContext, env: WireEnvelope, edge: EdgeDescriptor, base: SessionState, fail: Fail): Verdict<Walked> {
  const checkSteps = stepsChecked(edge);
  const first = base.step + 1n;
  const items: Array<Walked["items"][number]> = [];
  let state = base.state;
  // Copied when a message binds a role; otherwise the state's record is shared.
  let principals: Readonly<Record<string, string>> = base.principals;
  let copied = false;
  const n = env.history.length;
  for (let i = 0; i <= n; i++) {
    const x: WireHistoryEntry | undefined = i < n ? env.history[i] : undefined;
    const e = x === undefined ? edge : ctx.plan.edges[x.edge];
    if (e === undefined) return fail("unknown-edge", `history names edge ${x?.edge}, which does not exist`);
    const claimed = x === undefined ? env.step : x.step;
    if (claimed > MAX_STEP) return fail("malformed", `history step ${claimed} exceeds ${MAX_STEP}`);
    const own = defences.ownSteps ? first + BigInt(i) : claimed;
    if (checkSteps && claimed !== own) return fail("out-of-order", `history step ${claimed} where ${own} was due`);
    if (defences.path && e.from !== state) return fail("out-of-order", `edge ${e.id} (${e.rpc} ${e.kind}) cannot follow global state ${state}`);
    if (defences.path && x !== undefined && (e.sender === ctx.role || e.receiver === ctx.role)) {
      return fail("out-of-order", `history claims edge ${e.id}, which involves ${ctx.role} itself`);
    }
    if (x !== undefined && x.payloadHash.length !== 32) return fail("malformed", `payload hash of step ${own} must be 32 bytes`);
    // Decoded bindings are plain objects of strings (no views into the envelope): kept as they are.
    const bindings: readonly RoleBinding[] = x === undefined ? env.bindings : x.bindings;
    const bad = checkBindings(ctx, e, bindings);
    if (bad !== undefined) return fail("value", bad);
    const principal = principals[e.sender];
    if (principal === undefined) return fail("out-of-order", `${e.sender} sent edge ${e.id} before it was bound`);
    for (const b of bindings) {
      const prev = principals[b.role];
      if (defences.rebinding && prev !== undefined && prev !== b.principal) {
        return fail("value", `edge ${e.id} binds role ${b.role} to ${JSON.stringify(b.principal)}, but it is bound to ${JSON.stringify(prev)}: a role is bound once per session`);
      }
      if (prev === b.principal) continue;
      if (!copied) {
        principals = record(principals);
        copied = true;
      }
      (principals as Record<string, string>)[b.role] = b.principal;
    }
    items.push({ edge: e, step: own, payloadHash: x?.payloadHash, bindings, principal });
    state = e.to;
  }
  return { ok: true, value: { items, principals } };
}

function finish(
  ctx: MonitorContext,
  env: WireEnvelope,
  walked: Walked,
  base: SessionState,
  keying: Keying,
  checkValues: ValueCheck,
  fail: Fail,
  edge: EdgeDescriptor,
  joined: boolean,
  macBy: string | undefined,
): Verdict<Opened> {
  const { principals } = walked;
  const sid = base.sessionId;
  // Updates already applied (those of the sender, for the early MAC) are skipped by their version.
  if (env.keyUpdates.length !== 0) {
    const sessionPrincipals = new Set(Object.values(principals));
    const updated = applyKeyUpdates(keying, env, (from) => sessionPrincipals.has(from), fail);
    if (updated !== undefined) return updated;
  }
  const current = walked.items[walked.items.length - 1]!;
  const problem = (p: AttestationProblem | undefined) => (p === undefined ? undefined : fail(p.kind, p.reason));
  // The envelope MAC, unless it was checked before the walk for the same sender.
  if (macBy !== current.principal) {
    const macProblem = problem(checkEnvelopeMac(ctx, env, edge, current.principal, current.step, base, keying));
    if (macProblem !== undefined) return macProblem;
  }

  // The transcript: a benchmark baseline keeps none (monitor/protection.ts).
  const hashed = (ctx.protection ?? "full") === "full";
  const segment: Segment[] = [];
  let h = base.h;
  for (const x of walked.items) {
    const payloadHash = x.payloadHash !== undefined ? x.payloadHash.slice() : hashed ? ctx.crypto.sha256(env.payload) : UNHASHED;
    if (hashed) h = transcriptStep(ctx.crypto, h, { edge: x.edge.id, step: x.step, payloadHash, bindings: x.bindings });
    segment.push({ edge: x.edge, item: { edge: x.edge.id, step: x.step, payloadHash, bindings: x.bindings, h }, principal: x.principal });
  }

  const verified: VerifiedSignature[] = [];
  if (defences.attestations) {
    const p = problem(checkAttestations(ctx, env, sid, segment, keying, verified));
    if (p !== undefined) return p;
  }

  let plaintext = env.payload;
  if (edge.security.privacy !== "none" && (defences.privacy || env.payloadKeyVersion !== 0)) {
    const keys = keying.recvKeys(current.principal, env.payloadKeyVersion);
    const header = { sid, edge: edge.id, step: current.step, sender: edge.sender, receiver: edge.receiver, keyVersion: env.payloadKeyVersion };
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

  const kept = defences.extras ? keptExtras(ctx, env, base, segment, principals) : everyExtra(env);
  const next = advance(ctx, base, segment, principals, plaintext, kept, keying.result());
  return { ok: true, value: { state: next, edge, payload: plaintext, joined, keying, keyVersion: env.macKeyVersion, signatures: verified, segment } };
}

/** The defence switched off (tests only): every extra of the envelope is kept, as before it existed. */
function everyExtra(env: WireEnvelope): ReturnType<typeof keptExtras> {
  return {
    attestations: env.attestations.map((a) => ({ role: a.role, target: a.target, step: a.step, tag: a.tag.slice(), keyVersion: a.keyVersion })),
    updates: env.keyUpdates.flatMap((u) => (u.body.case === undefined ? [] : [{ from: u.from, to: u.to, version: u.version, step: u.step, body: { case: u.body.case, value: u.body.value.slice() }, tag: u.tag.slice() }])),
  };
}

/** The state of a role that joins a session with this envelope (checks the start). */
function joinState(ctx: MonitorContext, env: WireEnvelope, sidHex: string): Verdict<SessionState> {
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
  // A start is accepted from `window` ago up to `maxSkew` ahead of this clock; the replay cache keeps it until the window passed its own time.
  const now = ctx.now();
  const window = BigInt(ctx.plan.descriptor.replayWindowMs);
  const ahead = BigInt(defences.startMemory ? ctx.maxClockSkewMs : ctx.plan.descriptor.replayWindowMs);
  if (defences.startWindow && (start.timeMs < now - window || start.timeMs > now + ahead)) {
    return refuse("stale-start", `the session started ${now - start.timeMs} ms before this clock; starts are accepted from ${window} ms before to ${ahead} ms after it`, env.edge, sidHex);
  }
  return { ok: true, value: initialState(ctx.crypto, sid, ctx.role, info, ctx.plan.descriptor.initial) };
}

function checkBindings(ctx: MonitorContext, e: EdgeDescriptor, bindings: readonly RoleBinding[]): string | undefined {
  if (bindings.length === 0 && e.binds.length === 0) return undefined;
  const want = ctx.plan.edgePlans[e.id]!.bindRoles;
  const got = bindings.map((b) => b.role).sort().join(",");
  if (want !== got) return `edge ${e.id} binds [${want}] but the message binds [${got}]`;
  if (bindings.some((b) => b.principal === "")) return `edge ${e.id} binds a role to an empty principal`;
  if (bindings.some((b) => b.role === e.sender)) return `edge ${e.id} binds its own sender ${e.sender}`;
  return undefined;
}
