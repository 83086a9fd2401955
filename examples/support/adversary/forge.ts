/**
 * What a compromised peer can do with its own keys and our library: seal
 * messages the protocol does not allow it to send, over a history it made up.
 */
import type { EdgeDescriptor } from "../../../interceptors/descriptor/types.js";
import { advance } from "../../../interceptors/monitor/advance.js";
import { sealMessage } from "../../../interceptors/monitor/seal.js";
import type { SessionState } from "../../../interceptors/monitor/state.js";
import type { Party } from "../../../interceptors/runtime/party.js";
import { transcriptStart, transcriptStep } from "../../../interceptors/wire/transcript.js";
import type { RoleBinding } from "../../../interceptors/wire/encoding.js";
import { toBinary } from "@bufbuild/protobuf";
import { EnvelopeSchema } from "../../../gen/secsession/v1/envelope_pb.js";

/**
 * The state after `edges` happened, as `party` claims (payloads made up);
 * roles the edges bind are bound to the principals `st` already knows, else
 * to `principals`.
 */
export function pretend(party: Party, st: SessionState, edges: readonly EdgeDescriptor[], principals: Readonly<Record<string, string>> = {}): SessionState {
  let s = st;
  for (const e of edges) {
    const step = s.step + 1n;
    const payloadHash = party.core.crypto.sha256(new TextEncoder().encode(`made up ${e.id}`));
    const bindings = e.binds.map((b) => ({ role: b.role, principal: s.principals[b.role] ?? principals[b.role] ?? "" }));
    const h = transcriptStep(party.core.crypto, s.h, { edge: e.id, step, payloadHash, bindings });
    const known = { ...s.principals, ...Object.fromEntries(bindings.map((b) => [b.role, b.principal])) };
    s = advance({ ...party.ctx, role: e.sender }, s, [{ edge: e, item: { edge: e.id, step, payloadHash, bindings, h }, principal: known[e.sender] ?? "" }], known, new Uint8Array());
  }
  return s;
}

/**
 * Seals `payload` as `edge` from `st` with `party`'s keys, whatever the
 * protocol says: the sender claims to be `edge.sender` and to stand where the
 * edge starts; `bindings` are the roles the message binds (the edge's `binds`).
 */
export function forge(party: Party, st: SessionState, edge: EdgeDescriptor, payload: Uint8Array, bindings: readonly RoleBinding[] = []): Uint8Array {
  const ctx = { ...party.ctx, role: edge.sender };
  return sealMessage(ctx, { ...st, state: edge.from }, edge, payload, bindings).bytes;
}

/** `st` with the payload hash of its history item at `step` replaced, and the transcript recomputed. */
export function lieAbout(party: Party, st: SessionState, step: bigint, payload: Uint8Array): SessionState {
  const c = party.core.crypto;
  const items = [...st.history];
  const i = items.findIndex((x) => x.step === step);
  if (i < 0) throw new Error(`no history item at step ${step}`);
  let h = i > 0 ? items[i - 1]!.h : step === 1n ? transcriptStart(c, st.sessionId) : undefined;
  if (h === undefined) throw new Error("lieAbout needs the item before the lie in the history");
  for (let k = i; k < items.length; k++) {
    const x = items[k]!;
    const payloadHash = k === i ? c.sha256(payload) : x.payloadHash;
    h = transcriptStep(c, h, { edge: x.edge, step: x.step, payloadHash, bindings: x.bindings });
    items[k] = { ...x, payloadHash, h };
  }
  return { ...st, history: items, h: h! };
}
