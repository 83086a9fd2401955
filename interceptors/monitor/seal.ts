/**
 * Builds the envelope of an outgoing message and the sender's next state
 * (docs/protocol.md, "Sending a message"). Misuse — a message the protocol
 * does not allow here — throws: the typed API makes it unreachable.
 */
import { create } from "@bufbuild/protobuf";
import { EnvelopeSchema, type Envelope } from "../../gen/secsession/v1/envelope_pb.js";
import type { EdgeDescriptor } from "../descriptor/types.js";
import { SecSessionError } from "../errors.js";
import type { RoleBinding } from "../wire/encoding.js";
import { attestationInput, receiptInput, transcriptStep } from "../wire/transcript.js";
import { advance, type AttestationLike } from "./advance.js";
import { Keying } from "./keying.js";
import { defences } from "./defences.js";
import { sealPayload } from "../wire/payload-crypto.js";
import type { MonitorContext } from "./context.js";
import { lastActed, type SessionState } from "./state.js";
import { UNHASHED } from "./protection.js";

/** An envelope ready to send, and the state to commit when it passes to the transport. */
export interface Sealed {
  readonly envelope: Envelope;
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
  const want = edge.binds.map((b) => b.role).sort().join(",");
  if (bindings.map((b) => b.role).sort().join(",") !== want || bindings.some((b) => b.principal === "")) {
    throw misuse(`edge ${edge.id} must bind exactly [${want}] to non-empty principals`);
  }
  const principals: Record<string, string> = { ...st.principals };
  for (const b of bindings) principals[b.role] = b.principal;
  const receiver = edge.receiver;
  if (principals[receiver] === undefined) throw misuse(`role ${receiver} is not bound yet`);

  const step = st.step + 1n;
  const keying = new Keying(ctx, { ...st, principals });
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
  principals: Record<string, string>,
  step: bigint,
  keying: Keying,
): Sealed {
  const receiver = edge.receiver;
  // Privacy first at the sender (the receiver checks MACs over the ciphertext, then decrypts).
  let payload = plaintext;
  let payloadKeyVersion = 0;
  if (edge.security.privacy !== "none") {
    const keys = keying.sendKeys(principals[receiver]!);
    payloadKeyVersion = keys.version;
    const header = { sid: st.sessionId, edge: edge.id, step, sender: ctx.role, receiver, keyVersion: keys.version };
    payload = sealPayload(ctx.crypto, edge.security.privacy, keys.enc, header, plaintext);
  }
  // A benchmark baseline (monitor/protection.ts) keeps no transcript: nothing would check it.
  const hashed = (ctx.protection ?? "full") === "full";
  const payloadHash = hashed ? ctx.crypto.sha256(payload) : UNHASHED;
  const h = hashed ? transcriptStep(ctx.crypto, st.h, { edge: edge.id, step, payloadHash, bindings }) : st.h;
  const since = lastActed(st, receiver);
  const unseen = st.history.filter((x) => x.step > since);
  if (since >= 0n && unseen.length > 0 && unseen[0]!.step !== since + 1n) {
    throw new Error(`secsession: internal error: history since step ${since} was pruned`);
  }

  const own: AttestationLike[] = [];
  const attest = (target: string): void => {
    const p = target === "" ? undefined : principals[target];
    if (edge.security.authenticity === "hmac-sha256" && p !== undefined) {
      const keys = keying.sendKeys(p);
      own.push({ role: ctx.role, target, step, keyVersion: keys.version, tag: ctx.crypto.hmacSha256(keys.mac, attestationInput(st.sessionId, ctx.role, target, step, h)) });
    } else if (!own.some((a) => a.target === "")) {
      // Ed25519 edges sign once for everyone; MAC edges sign for roles not bound yet.
      own.push({ role: ctx.role, target: "", step, keyVersion: 0, tag: ctx.crypto.ed25519Sign(ctx.self.ed25519.privateKey, attestationInput(st.sessionId, ctx.role, "", step, h)) });
    }
  };
  if (edge.security.authenticity !== "none") {
    attest(receiver);
    for (const t of ctx.plan.attestFor[edge.id]!) attest(t);
  }
  const carried = Object.values(st.carried);
  const updates = [
    ...keying.updates.map((u) => ({ from: ctx.self.id, to: u.to, version: u.version, step, body: u.body, tag: u.tag })),
    ...Object.values(st.carriedUpdates).map((u) => ({ ...u, body: { case: u.body.case, value: u.body.value } as { case: "noise" | "ratchet"; value: Uint8Array } })),
  ];
  const envelope = create(EnvelopeSchema, {
    version: 1,
    sessionId: st.sessionId,
    edge: edge.id,
    step,
    payload,
    payloadKeyVersion,
    history: unseen.map((x) => ({ edge: x.edge, step: x.step, payloadHash: x.payloadHash, bindings: [...x.bindings] })),
    attestations: [...own, ...carried].map((a) => ({ role: a.role, target: a.target, step: a.step, tag: a.tag, keyVersion: a.keyVersion })),
    keyUpdates: updates,
    bindings: [...bindings],
    ...(since < 0n
      ? { start: { nonce: st.start.nonce, sessionCode: st.start.code, timeMs: st.start.timeMs, bindings: [...st.start.bindings] } }
      : {}),
  });
  const item = { edge: edge.id, step, payloadHash, bindings, h };
  const next = advance(ctx, { ...st, carried: {}, carriedUpdates: {}, pairs: keying.result() }, [{ edge, item }], principals, plaintext, []);
  return { envelope, state: next, keying };
}

/**
 * The receipt a callee returns for an accepted one-way message, MACed with
 * the key the sender used for it (`keyVersion`): both ends hold it.
 */
export function sealReceipt(ctx: MonitorContext, accepted: SessionState, edge: EdgeDescriptor, keyVersion: number): Envelope {
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
  return create(EnvelopeSchema, {
    version: 1,
    sessionId: accepted.sessionId,
    edge: edge.id,
    step: accepted.step,
    ack: true,
    attestations: edge.security.authenticity === "none" ? [] : [{ role: ctx.role, target, step: accepted.step, tag, keyVersion }],
  });
}

function misuse(reason: string): Error {
  return new Error(`secsession: ${reason}`);
}
