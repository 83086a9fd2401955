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
import type { MonitorContext } from "./context.js";
import { lastActed, type SessionState } from "./state.js";

/** An envelope ready to send, and the state to commit when it passes to the transport. */
export interface Sealed {
  readonly envelope: Envelope;
  readonly state: SessionState;
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
  const payloadHash = ctx.crypto.sha256(payload);
  const h = transcriptStep(ctx.crypto, st.h, { edge: edge.id, step, payloadHash, bindings });
  const since = lastActed(st, receiver);
  const unseen = st.history.filter((x) => x.step > since);
  if (since >= 0n && unseen.length > 0 && unseen[0]!.step !== since + 1n) {
    throw new Error(`secsession: internal error: history since step ${since} was pruned`);
  }

  const own: AttestationLike[] = [];
  const attest = (target: string): void => {
    const p = target === "" ? undefined : principals[target];
    if (edge.security.authenticity === "hmac-sha256" && p !== undefined) {
      const key = ctx.macKey(st.sessionId, p);
      if (key === undefined) throw new SecSessionError("unknown-peer", `no key for principal ${JSON.stringify(p)} of role ${target}`);
      own.push({ role: ctx.role, target, step, tag: ctx.crypto.hmacSha256(key, attestationInput(st.sessionId, ctx.role, target, step, h)) });
    } else if (!own.some((a) => a.target === "")) {
      // Ed25519 edges sign once for everyone; MAC edges sign for roles not bound yet.
      own.push({ role: ctx.role, target: "", step, tag: ctx.crypto.ed25519Sign(ctx.self.ed25519.privateKey, attestationInput(st.sessionId, ctx.role, "", step, h)) });
    }
  };
  if (edge.security.authenticity !== "none") {
    attest(receiver);
    for (const t of ctx.plan.attestFor[edge.id]!) attest(t);
  }
  const carried = Object.values(st.carried);
  const envelope = create(EnvelopeSchema, {
    version: 1,
    sessionId: st.sessionId,
    edge: edge.id,
    step,
    payload,
    history: unseen.map((x) => ({ edge: x.edge, step: x.step, payloadHash: x.payloadHash, bindings: [...x.bindings] })),
    attestations: [...own, ...carried].map((a) => ({ role: a.role, target: a.target, step: a.step, tag: a.tag })),
    bindings: [...bindings],
    ...(since < 0n
      ? { start: { nonce: st.start.nonce, sessionCode: st.start.code, timeMs: st.start.timeMs, bindings: [...st.start.bindings] } }
      : {}),
  });
  const item = { edge: edge.id, step, payloadHash, bindings, h };
  const next = advance(ctx, { ...st, carried: {} }, [{ edge, item }], principals, payload, []);
  return { envelope, state: next };
}

/** The receipt a callee returns for an accepted one-way message. */
export function sealReceipt(ctx: MonitorContext, accepted: SessionState, edge: EdgeDescriptor): Envelope {
  const sender = edge.sender;
  const input = receiptInput(accepted.sessionId, ctx.role, sender, edge.id, accepted.step, accepted.h);
  let tag: Uint8Array = new Uint8Array(0);
  let target = sender;
  if (edge.security.authenticity === "hmac-sha256") {
    const key = ctx.macKey(accepted.sessionId, accepted.principals[sender]!);
    if (key === undefined) throw new SecSessionError("unknown-peer", `no key for the principal of ${sender}`);
    tag = ctx.crypto.hmacSha256(key, input);
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
    attestations: edge.security.authenticity === "none" ? [] : [{ role: ctx.role, target, step: accepted.step, tag }],
  });
}

function misuse(reason: string): Error {
  return new Error(`secsession: ${reason}`);
}
