/**
 * The messages of one session as its records tell them (docs/evidence.md,
 * checks 2.3 to 2.6): each role's records follow on from each other from
 * step 1, each ends with a message the role sent or received, the recorded
 * payload hashes to its message's hash, and a message recorded several
 * times is the same each time. The result is steps 1..n in order.
 */
import type { SessionDescriptor } from "../descriptor/types.js";
import type { CryptoBackend } from "../keys/crypto/index.js";
import { MAX_SEGMENT } from "../monitor/open.js";
import type { EvidenceItem } from "../runtime/evidence.js";
import { bindingsBytes, hex } from "../wire/encoding.js";
import { Fault } from "./fault.js";
import type { EvidenceLogLine } from "./read.js";
import { shortId } from "./session-start.js";

/** One message of the session, as the log knows it. */
export interface LoggedMessage {
  readonly item: EvidenceItem;
  /** Line of the first record that has it. */
  readonly line: number;
  /** The payload as it travelled, when a record of this log ends with this message (the others have only its hash). */
  payload: { readonly bytes: Uint8Array; readonly line: number } | undefined;
}

/**
 * Collects the messages of session `sid` from its records. Steps are 1..n
 * without a gap by construction: each role's records cover steps 1..m of
 * that role without a gap, and the union of such prefixes is a prefix.
 */
export function collectMessages(crypto: CryptoBackend, d: SessionDescriptor, sid: string, lines: readonly EvidenceLogLine[]): LoggedMessage[] {
  const messages: LoggedMessage[] = [];
  const progress = new Map<string, { step: bigint; line: number }>();
  const roles = new Set(d.roles.map((r) => r.name));
  for (const l of lines) {
    const e = l.record.entry;
    if (!roles.has(e.role)) throw new Fault(l.line, `role ${JSON.stringify(e.role)} is not a role of ${d.name}`);
    checkFollowsOn(l, progress.get(e.role), sid);
    const last = e.items[e.items.length - 1]!;
    progress.set(e.role, { step: last.step, line: l.line });
    checkRecorder(d, l);
    if (hex(crypto.sha256(e.payload)) !== hex(last.payloadHash)) throw new Fault(l.line, `the payload does not hash to the payloadHash of step ${last.step}`);
    for (const x of e.items) {
      // x.step - 1 <= messages.length: the role's own earlier records hold steps 1..x.step - 1.
      const i = Number(x.step - 1n);
      const known = messages[i];
      if (known === undefined) messages.push({ item: x, line: l.line, payload: undefined });
      else if (!sameItem(known.item, x)) throw new Fault(l.line, `step ${x.step} differs from step ${x.step} at line ${known.line}`);
    }
    const own = messages[Number(last.step - 1n)]!;
    if (own.payload === undefined) own.payload = { bytes: e.payload, line: l.line };
  }
  return messages;
}

/** A record's items are consecutive and start one step after the role's previous record ended (the first at step 1). */
function checkFollowsOn(l: EvidenceLogLine, before: { step: bigint; line: number } | undefined, sid: string): void {
  const e = l.record.entry;
  const firstStep = e.items[0]!.step;
  for (const [i, x] of e.items.entries()) {
    if (x.step !== firstStep + BigInt(i)) throw new Fault(l.line, `items must be consecutive steps, oldest first: items[${i}] is step ${x.step}`);
  }
  const expected = (before?.step ?? 0n) + 1n;
  if (firstStep !== expected) {
    throw new Fault(
      l.line,
      before === undefined
        ? `the first record of role ${e.role} in session ${shortId(sid)} starts at step ${firstStep}, not 1: earlier records are missing`
        : `this record of role ${e.role} starts at step ${firstStep}, but its previous record (line ${before.line}) ended at step ${before.step}: records are missing or out of order`,
    );
  }
}

/**
 * The recording role sent (one item) or received the record's last message,
 * and a received record's history is about other roles only, no longer than
 * a runtime accepts: the checks a receiving runtime makes of a segment.
 */
function checkRecorder(d: SessionDescriptor, l: EvidenceLogLine): void {
  const e = l.record.entry;
  const last = e.items[e.items.length - 1]!;
  const edge = d.edges[last.edge];
  if (edge === undefined) throw new Fault(l.line, `step ${last.step} names edge ${last.edge}, which ${d.name} does not have`);
  if (e.direction === "sent") {
    if (edge.sender !== e.role) throw new Fault(l.line, `role ${e.role} records sending step ${last.step}, but edge ${edge.id} is sent by ${edge.sender}`);
    if (e.items.length !== 1) throw new Fault(l.line, "a record of a sent message has exactly one item");
    return;
  }
  if (edge.receiver !== e.role) throw new Fault(l.line, `role ${e.role} records receiving step ${last.step}, but edge ${edge.id} is received by ${edge.receiver}`);
  if (e.items.length - 1 > MAX_SEGMENT) throw new Fault(l.line, `the envelope of step ${last.step} carries a history of ${e.items.length - 1} messages; a runtime refuses more than ${MAX_SEGMENT}`);
  for (const x of e.items.slice(0, -1)) {
    const h = d.edges[x.edge];
    if (h !== undefined && (h.sender === e.role || h.receiver === e.role)) {
      throw new Fault(l.line, `the history of step ${last.step} claims step ${x.step} (edge ${h.id}), which involves ${e.role} itself: its runtime refuses such a history`);
    }
  }
}

function sameItem(a: EvidenceItem, b: EvidenceItem): boolean {
  return a.edge === b.edge && a.step === b.step && hex(a.payloadHash) === hex(b.payloadHash) && hex(bindingsBytes(a.bindings)) === hex(bindingsBytes(b.bindings));
}
