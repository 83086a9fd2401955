/**
 * Writes an evidence log for a run of messages exactly as a runtime would
 * record it — the same records, transcript hashes and Ed25519 signatures —
 * without running one: for traces a runtime refuses, which no honest runtime
 * can be made to write. The caller says which records the log holds and
 * which signatures each carries (those of the senders it holds keys of).
 */
import { defaultBackend } from "../../interceptors/keys/crypto/index.js";
import type { Identity } from "../../interceptors/keys/identity.js";
import type { SessionDescriptor } from "../../interceptors/descriptor/types.js";
import type { EvidenceEntry, EvidenceItem } from "../../interceptors/runtime/evidence.js";
import { encodeRecord, GENESIS_PREV, lineHash } from "../../interceptors/evidence/index.js";
import { unhex, type RoleBinding } from "../../interceptors/wire/encoding.js";
import { attestationInput, sessionIdOf, transcriptStart, transcriptStep } from "../../interceptors/wire/transcript.js";

const crypto = defaultBackend();

/** One message of the run (step = its index + 1). */
export interface ForgedMessage {
  readonly edge: number;
  readonly payload: Uint8Array;
  readonly bindings?: readonly RoleBinding[];
}

/** One record of the log. */
export interface ForgedRecord {
  readonly direction: "sent" | "received";
  readonly role: string;
  /** The step the record ends with; its items are the steps since the role's previous record. */
  readonly upTo: number;
  /** Steps whose sender's signature the record carries. */
  readonly signed: readonly number[];
}

/**
 * The log (its text) of `records` for the run `messages` of a session of `d`
 * started with `start` (role -> principal); `identities` by principal sign.
 * `nonceBytes`: the length of the start's nonce (32, as the runtime makes it).
 */
export function forgeLog(
  d: SessionDescriptor,
  start: Readonly<Record<string, string>>,
  identities: Readonly<Record<string, Identity>>,
  messages: readonly ForgedMessage[],
  records: readonly ForgedRecord[],
  options: { readonly nonceBytes?: number } = {},
): string {
  const info = { nonce: crypto.randomBytes(options.nonceBytes ?? 32), code: unhex(d.code), timeMs: 1_700_000_000_000n, bindings: Object.entries(start).map(([role, principal]) => ({ role, principal })) };
  const sid = sessionIdOf(crypto, info);
  const principals: Record<string, string> = { ...start };
  let h = transcriptStart(crypto, sid);
  const steps = messages.map((m, i) => {
    const item: EvidenceItem = { edge: m.edge, step: BigInt(i + 1), payloadHash: crypto.sha256(m.payload), bindings: m.bindings ?? [] };
    for (const b of item.bindings) principals[b.role] = b.principal;
    h = transcriptStep(crypto, h, item);
    return { item, h, sender: d.edges[m.edge]!.sender, principal: principals[d.edges[m.edge]!.sender]!, payload: m.payload };
  });
  const upTo = new Map<string, number>();
  let prev = GENESIS_PREV;
  const lines: string[] = [];
  for (const r of records) {
    const from = upTo.get(r.role) ?? 0;
    upTo.set(r.role, r.upTo);
    const entry: EvidenceEntry = {
      direction: r.direction,
      sessionCode: d.code,
      sessionId: sid,
      role: r.role,
      start: info,
      items: steps.slice(from, r.upTo).map((s) => s.item),
      signatures: r.signed.map((k) => {
        const s = steps[k - 1]!;
        return { role: s.sender, step: s.item.step, tag: crypto.ed25519Sign(identities[s.principal]!.ed25519.privateKey, attestationInput(sid, s.sender, "", s.item.step, s.h)) };
      }),
      payload: steps[r.upTo - 1]!.payload,
    };
    const line = encodeRecord(lines.length + 1, prev, entry);
    prev = lineHash(line);
    lines.push(line);
  }
  return lines.map((l) => `${l}\n`).join("");
}
