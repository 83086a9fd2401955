/**
 * Checks of each record that a receiving runtime makes and the verifier now
 * repeats — the signatures it carries, its payload's decoding, a history
 * that claims the recorder's own messages, the start's nonce — on logs
 * written by forgeLog for the Latest session (test/evidence/refused-traces.ts):
 * each refused log differs from one that verifies in exactly the point at
 * stake.
 */
import test from "ava";
import { create, toBinary } from "@bufbuild/protobuf";
import { RequestRequestSchema } from "../../gen/single/single_pb.js";
import { verifyEvidence, type EvidenceVerification } from "../../interceptors/evidence/index.js";
import { generateIdentity, publicKeysOf, staticResolver } from "../../interceptors/keys/identity.js";
import { forgeLog, type ForgedMessage, type ForgedRecord } from "./forge-log.js";
import { LATEST } from "./refused-traces.js";

const ids = ["alice", "bob", "carol"].map((id) => generateIdentity(id));
const keys = Object.fromEntries(ids.map((i) => [i.id, i]));
const resolver = staticResolver(ids.map((i) => [i.id, publicKeysOf(i)] as const));
const start = { a: "alice", b: "bob", c: "carol" };
const text = (s: string) => toBinary(RequestRequestSchema, create(RequestRequestSchema, { query: s }));
const run: ForgedMessage[] = [
  { edge: 0, payload: text("order") },
  { edge: 1, payload: text("noted") },
  { edge: 2, payload: text("by the way") },
  { edge: 3, payload: text("forwarded") },
];
/** b's log: Order received, Note sent, Plain received (no authenticity: no signature), Forward sent. */
const bob: ForgedRecord[] = [
  { direction: "received", role: "b", upTo: 1, signed: [1] },
  { direction: "sent", role: "b", upTo: 2, signed: [2] },
  { direction: "received", role: "b", upTo: 3, signed: [] },
  { direction: "sent", role: "b", upTo: 4, signed: [4] },
];
const verify = (log: string): EvidenceVerification => verifyEvidence(log, [LATEST], resolver);

function fails(t: import("ava").ExecutionContext, r: EvidenceVerification, line: number, reason: RegExp): void {
  if (r.ok) return void t.fail("the log verified");
  t.is(r.line, line, r.reason);
  t.regex(r.reason, reason);
}

test("the log as a runtime writes it verifies", (t) => {
  const r = verify(forgeLog(LATEST.descriptor, start, keys, run, bob));
  t.true(r.ok, r.ok ? "" : r.reason);
  if (r.ok) t.like(r.details[0], { messages: 4, signatures: 3, valuesChecked: 0, valuesUnchecked: 0 });
});

test("a payload in the clear that does not decode as its edge's message type: refused, as its receiver refuses it", (t) => {
  const bad = run.map((m, i) => (i === 1 ? { ...m, payload: new Uint8Array([0xff, 0xff]) } : m));
  fails(t, verify(forgeLog(LATEST.descriptor, start, keys, bad, bob)), 2, /the payload of step 2 \(edge 1, \/latest\.A\/Note oneway\) does not decode as single\.RequestRequest: its receiver refuses it as malformed/);
});

test("a sent record of an Ed25519 edge without its sender's signature: refused (the runtime signs every such message)", (t) => {
  const unsigned = bob.map((r) => (r.upTo === 2 ? { ...r, signed: [] } : r));
  fails(t, verify(forgeLog(LATEST.descriptor, start, keys, run, unsigned)), 2, /this record of sending step 2 \(edge 1, \/latest\.A\/Note oneway\) lacks the signature of b \(bob\) for step 2/);
});

test("a received record without the signature of the message itself: refused", (t) => {
  const unsigned = bob.map((r) => (r.upTo === 1 ? { ...r, signed: [] } : r));
  fails(t, verify(forgeLog(LATEST.descriptor, start, keys, run, unsigned)), 1, /this record of receiving step 1 \(edge 0, \/latest\.B\/Order oneway\) lacks the signature of a \(alice\) for step 1/);
});

test("a received history that claims a message of the recording role itself: refused, as its runtime refuses it", (t) => {
  // b's Note is missing from b's records, and comes back as history of Plain.
  const records: ForgedRecord[] = [bob[0]!, { direction: "received", role: "b", upTo: 3, signed: [] }, bob[3]!];
  fails(t, verify(forgeLog(LATEST.descriptor, start, keys, run, records)), 2, /the history of step 3 claims step 2 \(edge 1\), which involves b itself/);
});

test("a session start whose nonce is not 32 bytes: refused, as a joining runtime refuses it", (t) => {
  fails(t, verify(forgeLog(LATEST.descriptor, start, keys, run, bob, { nonceBytes: 16 })), 1, /the start's nonce is 16 bytes; a runtime joining the session refuses any but 32/);
});
