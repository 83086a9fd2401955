/**
 * The decoder's location of repeated history entries and attestations
 * (interceptors/wire/envelope-codec.ts, Spans.locateRun): lengths written in
 * one, two, three and overlong varint bytes, runs broken by other fields and
 * resumed, a truncated or overrunning length, and the count limits, each
 * against protobuf-es's fromBinary.
 */
import test from "ava";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { EnvelopeSchema, HistoryEntrySchema, AttestationSchema } from "../../gen/secsession/v1/envelope_pb.js";
import { DECODE_LIMITS, decodeEnvelope, EnvelopeDecodeError, readLazyParts } from "../../interceptors/wire/envelope-codec.js";

const cat = (...parts: ArrayLike<number>[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
};
const varint = (n: number) => {
  const out: number[] = [];
  while (n > 0x7f) (out.push((n & 0x7f) | 0x80), (n >>>= 7));
  out.push(n);
  return out;
};
/** Field `no` (length-delimited) holding `body`, its length as `len` bytes (overlong when more than needed). */
const field = (no: number, body: Uint8Array, len?: number[]) => cat([(no << 3) | 2], len ?? varint(body.length), body);
const entry = (step: number, hashBytes: number, bindings = 0) =>
  toBinary(HistoryEntrySchema, create(HistoryEntrySchema, { edge: step % 3, step: BigInt(step), payloadHash: new Uint8Array(hashBytes).fill(step & 0xff), bindings: Array.from({ length: bindings }, (_, i) => ({ role: `r${i}`, principal: `p${step}` })) }));
const attestation = (step: number, tagBytes: number) => toBinary(AttestationSchema, create(AttestationSchema, { role: "a", target: "c", step: BigInt(step), tag: new Uint8Array(tagBytes).fill(7), keyVersion: 1 }));

function agrees(t: import("ava").ExecutionContext, bytes: Uint8Array) {
  const w = decodeEnvelope(bytes);
  t.is(readLazyParts(w), undefined);
  const p = fromBinary(EnvelopeSchema, bytes);
  t.is(w.historyLength, p.history.length);
  t.is(w.attestationCount, p.attestations.length);
  t.deepEqual(w.history.map((x) => [x.edge, x.step, [...x.payloadHash], x.bindings.map((b) => `${b.role}=${b.principal}`)]), p.history.map((x) => [x.edge, x.step, [...x.payloadHash], x.bindings.map((b) => `${b.role}=${b.principal}`)]));
  t.deepEqual(w.attestations.map((a) => [a.role, a.target, a.step, [...a.tag], a.keyVersion]), p.attestations.map((a) => [a.role, a.target, a.step, [...a.tag], a.keyVersion]));
}

test("entries of one-, two- and three-byte lengths, and overlong lengths, decode as protobuf does", (t) => {
  const small = entry(1, 32); // one-byte length
  const mid = entry(2, 120, 2); // over 127 bytes: two-byte length
  const big = entry(3, 20_000); // three-byte length
  t.true(small.length < 0x80 && mid.length >= 0x80 && mid.length < 0x4000 && big.length >= 0x4000);
  agrees(t, cat(field(6, small), field(6, mid), field(6, big), field(6, small), field(7, attestation(1, 32)), field(7, attestation(2, 300))));
  // The same lengths written in more bytes than they need (protobuf reads them alike).
  agrees(t, cat(field(6, small, [small.length | 0x80, 0x80, 0x00]), field(6, mid, [...varint(mid.length).map((b) => b | 0x80), 0x80, 0x80, 0x00]), field(6, small, [small.length | 0x80, 0x00])));
  // An empty entry and an empty attestation.
  agrees(t, cat(field(6, new Uint8Array(0)), field(6, small), field(7, new Uint8Array(0))));
});

test("a run broken by other fields resumes, in order", (t) => {
  const bytes = cat(field(6, entry(1, 32)), [0x08, 0x02], field(6, entry(2, 32)), field(7, attestation(1, 32)), field(6, entry(3, 32)), field(2, new Uint8Array(32)), field(7, attestation(2, 32)), field(6, entry(4, 32)));
  agrees(t, bytes);
  t.deepEqual(decodeEnvelope(bytes).history.map((x) => x.step), [1n, 2n, 3n, 4n]);
});

test("a length that overruns the envelope, or is cut short, is refused", (t) => {
  const e = entry(1, 32);
  for (const bad of [cat(field(6, e), [0x32, e.length + 1], e), cat(field(6, e), [0x32]), cat(field(6, e), [0x32, 0x80]), cat(field(6, e), [0x32, 0x80, 0x80])]) {
    t.throws(() => decodeEnvelope(bad), { instanceOf: EnvelopeDecodeError, message: /overruns|truncated/ });
  }
});

test("the decoder's count limits hold exactly: as many as allowed decode, one more is refused", (t) => {
  for (const [no, limit, what] of [[6, DECODE_LIMITS.history, "history entries"], [7, DECODE_LIMITS.attestations, "attestations"]] as const) {
    const one = field(no, new Uint8Array(0)); // two bytes each
    const run = (n: number) => {
      const out = new Uint8Array(n * one.length);
      for (let i = 0; i < n; i++) out.set(one, i * one.length);
      return out;
    };
    const w = decodeEnvelope(run(limit));
    t.is(no === 6 ? w.historyLength : w.attestationCount, limit);
    t.throws(() => decodeEnvelope(run(limit + 1)), { instanceOf: EnvelopeDecodeError, message: `more than ${limit} ${what}` });
    // Split in two runs by another field: the count carries over.
    t.throws(() => decodeEnvelope(cat(run(limit - 1), [0x08, 0x02], run(2))), { instanceOf: EnvelopeDecodeError, message: `more than ${limit} ${what}` });
  }
});
