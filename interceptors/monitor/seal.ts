/**
 * Builds the envelope of an outgoing message and the sender's next state
 * (docs/protocol.md, "Sending a message"). Misuse — a message the protocol
 * does not allow here — throws: the typed API makes it unreachable.
 */
import type { EdgeDescriptor } from "../descriptor/types.js";
import { SecSessionError } from "../errors.js";
import type { RoleBinding } from "../wire/encoding.js";
import { attestationInput, envelopeMacInput, receiptInput, transcriptStep } from "../wire/transcript.js";
import { ENVELOPE_VERSION, encodeEnvelope } from "../wire/envelope-codec.js";
import type { EnvelopeFields, KeyUpdateFields } from "../wire/envelope-writer.js";
import { advance, type AttestationLike } from "./advance.js";
import { Keying } from "./keying.js";
import { defences } from "./defences.js";
import { sealPayload } from "../wire/payload-crypto.js";
import type { MonitorContext } from "./context.js";
import { lastActed, record, transcriptAt, type HistoryItem, type SessionState } from "./state.js";
import { UNHASHED } from "./protection.js";

/** An envelope ready to send, and the state to commit when it passes to the transport. */
export interface Sealed {
  /** The envelope as sent, without its MAC (tests and tools read it). */
  readonly envelope: EnvelopeFields;
  /** The bytes to send: the envelope with its MAC. */
  readonly bytes: Uint8Array;
  readonly state: SessionState;
  /** Key changes to retire at commit (or abandon). */
  readonly keying: Keying;
}

/** Seals `payload` as edge `edge` from `st`. */
export function sealMessage(
  ctx: MonitorContext,
  st: SessionState,
  edge: EdgeDescriptor,
  payload: Uint8Array,
  bindings: readonly RoleBinding[],
): Sealed {
  if (edge.sender !== ctx.role) throw misuse(`edge ${edge.id} is sent by ${edge.sender}, not by ${ctx.role}`);
  if (edge.from !== st.state) throw misuse(`edge ${edge.id} (${edge.rpc} ${edge.kind}) is not allowed in global state ${st.state}`);
  if (bindings.length !== 0 || edge.binds.length !== 0) {
    const want = ctx.plan.edgePlans[edge.id]!.bindRoles;
    if (bindings.map((b) => b.role).sort().join(",") !== want || bindings.some((b) => b.principal === "")) {
      throw misuse(`edge ${edge.id} must bind exactly [${want}] to non-empty principals`);
    }
  }
  // The principals change only when the message binds a role: otherwise the state's record is shared.
  let principals: Readonly<Record<string, string>> = st.principals;
  if (bindings.length !== 0) {
    const bound = record(st.principals);
    for (const b of bindings) {
      const prev = bound[b.role];
      if (prev !== undefined && prev !== b.principal) throw misuse(`role ${b.role} is bound to ${JSON.stringify(prev)} already: a role is bound once per session`);
      bound[b.role] = b.principal;
    }
    principals = bound;
  }
  const receiver = edge.receiver;
  if (principals[receiver] === undefined) throw misuse(`role ${receiver} is not bound yet`);

  const step = st.step + 1n;
  // The keys depend on the session and its pair channels, not on the principals.
  const keying = new Keying(ctx, st);
  try {
    return sealWith(ctx, st, edge, payload, bindings, principals, step, keying);
  } catch (e: unknown) {
    keying.abandon();
    throw e;
  }
}

function sealWith(
  ctx: MonitorContext,
  st: SessionState,
  edge: EdgeDescriptor,
  plaintext: Uint8Array,
  bindings: readonly RoleBinding[],
  principals: Readonly<Record<string, string>>,
  step: bigint,
  keying: Keying,
): Sealed {
  const receiver = edge.receiver;
  const toReceiver = principals[receiver]!;
  // Privacy first at the sender (the receiver checks MACs over the ciphertext, then decrypts).
  let payload = plaintext;
  let payloadKeyVersion = 0;
  if (edge.security.privacy !== "none") {
    const keys = keying.sendKeys(toReceiver);
    payloadKeyVersion = keys.version;
    const header = { sid: st.sessionId, edge: edge.id, step, sender: ctx.role, receiver, keyVersion: keys.version };
    payload = sealPayload(ctx.crypto, edge.security.privacy, keys.enc, header, plaintext);
  }
  // The envelope MAC's key, made now: a first contact or a ratchet step rides in this envelope.
  const macKeys = edge.security.authenticity !== "none" && ctx.plan.pairwise ? keying.sendKeys(toReceiver) : undefined;
  // A benchmark baseline (monitor/protection.ts) keeps no transcript: nothing would check it.
  const hashed = (ctx.protection ?? "full") === "full";
  const payloadHash = hashed ? ctx.crypto.sha256(payload) : UNHASHED;
  const h = hashed ? transcriptStep(ctx.crypto, st.h, { edge: edge.id, step, payloadHash, bindings }) : st.h;
  const since = lastActed(st, receiver);
  const base = transcriptAt(ctx.crypto, st, since);
  // The history the receiver has not seen: the state's items after `since` (the writer reads their edge, step, hash and bindings).
  let unseen: readonly HistoryItem[] = NO_HISTORY;
  const hs = st.history;
  for (let i = 0; i < hs.length; i++) {
    if (hs[i]!.step > since) {
      unseen = i === 0 ? hs : hs.slice(i);
      break;
    }
  }
  if (base === undefined || (since >= 0n && unseen.length > 0 && unseen[0]!.step !== since + 1n)) {
    throw new Error(`secsession: internal error: history since step ${since} was pruned`);
  }

  // Attestations for the roles that will need this one later (the receiver checks the envelope MAC, or the signature).
  const own: AttestationLike[] = [];
  const authenticity = edge.security.authenticity;
  if (authenticity !== "none") {
    let signed = false;
    const sign = (): void => {
      if (signed) return;
      signed = true;
      own.push({ role: ctx.role, target: "", step, keyVersion: 0, tag: ctx.crypto.ed25519Sign(ctx.self.ed25519.privateKey, attestationInput(st.sessionId, ctx.role, "", step, h)) });
    };
    if (authenticity === "ed25519") sign(); // one signature for everyone, the receiver included
    for (const target of ctx.plan.attestFor[edge.id]!) {
      const p = principals[target];
      if (authenticity === "hmac-sha256" && p !== undefined) {
        const keys = keying.sendKeys(p);
        own.push({ role: ctx.role, target, step, keyVersion: keys.version, tag: ctx.crypto.hmacSha256(keys.mac, attestationInput(st.sessionId, ctx.role, target, step, h)) });
      } else sign(); // Ed25519 edges, and MAC edges toward roles not bound yet
    }
  }
  // What the state carried goes on with this message (a sender hands it all on and keeps none).
  const attestations: AttestationLike[] = own;
  for (const k in st.carried) attestations.push(st.carried[k]!);
  const updates: KeyUpdateFields[] = [];
  for (const u of keying.updates) updates.push({ from: ctx.self.id, to: u.to, version: u.version, step, body: u.body, tag: u.tag });
  for (const k in st.carriedUpdates) updates.push(st.carriedUpdates[k]!);
  const envelope: EnvelopeFields = {
    version: ENVELOPE_VERSION,
    sessionId: st.sessionId,
    edge: edge.id,
    step,
    payload,
    history: unseen,
    attestations,
    start: since < 0n ? { nonce: st.start.nonce, sessionCode: st.start.code, timeMs: st.start.timeMs, bindings: st.start.bindings } : undefined,
    keyUpdates: updates,
    bindings,
    ack: false,
    payloadKeyVersion,
    macKeyVersion: macKeys?.version ?? 0,
    mac: NO_BYTES,
  };
  const bytes = encodeEnvelope(envelope, macKeys === undefined ? undefined : (body) => ctx.crypto.hmacSha256(macKeys.mac, ...envelopeMacInput(st.sessionId, ctx.role, receiver, base, body)));
  const item: HistoryItem = { edge: edge.id, step, payloadHash, bindings, h };
  const next = advance(ctx, st, [{ edge, item, principal: ctx.self.id }], principals, plaintext, undefined, keying.result(), true);
  return { envelope, bytes, state: next, keying };
}

const NO_HISTORY: readonly HistoryItem[] = Object.freeze([]) as readonly HistoryItem[];
const NO_BYTES = new Uint8Array(0);

/**
 * The receipt a callee returns for an accepted one-way message, MACed with
 * the key the sender used for it (`keyVersion`): both ends hold it.
 */
export function sealReceipt(ctx: MonitorContext, accepted: SessionState, edge: EdgeDescriptor, keyVersion: number): EnvelopeFields {
  const sender = edge.sender;
  const input = receiptInput(accepted.sessionId, ctx.role, sender, edge.id, accepted.step, accepted.h);
  let tag: Uint8Array = new Uint8Array(0);
  let target = sender;
  if (edge.security.authenticity === "hmac-sha256") {
    const keys = new Keying(ctx, accepted).recvKeys(accepted.principals[sender]!, keyVersion);
    if (keys !== undefined) tag = ctx.crypto.hmacSha256(keys.mac, input);
    else if (defences.attestations) throw new SecSessionError("bad-attestation", `no key of version ${keyVersion} from ${sender} to vouch for its message`);
  } else if (edge.security.authenticity === "ed25519") {
    tag = ctx.crypto.ed25519Sign(ctx.self.ed25519.privateKey, input);
    target = "";
  }
  return {
    version: ENVELOPE_VERSION,
    sessionId: accepted.sessionId,
    edge: edge.id,
    step: accepted.step,
    payload: NO_BYTES,
    history: NO_HISTORY,
    attestations: edge.security.authenticity === "none" ? [] : [{ role: ctx.role, target, step: accepted.step, tag, keyVersion }],
    start: undefined,
    keyUpdates: [],
    bindings: [],
    ack: true,
    payloadKeyVersion: 0,
    macKeyVersion: 0,
    mac: NO_BYTES,
  };
}

function misuse(reason: string): Error {
  return new Error(`secsession: ${reason}`);
}
