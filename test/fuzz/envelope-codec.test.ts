/**
 * The runtime's envelope decoder (interceptors/wire/envelope-codec.ts)
 * against protobuf-es's `fromBinary`, on random bytes, mutated valid
 * envelopes and hand-made hostile encodings: it returns a value or throws
 * EnvelopeDecodeError, never anything else; what it accepts, `fromBinary`
 * accepts and decodes to the same values; where it refuses what `fromBinary`
 * accepts, the reason is one of its documented strict rules; and `body` is
 * exactly the bytes before the MAC field.
 */
import test from "ava";
import fc from "fast-check";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { EnvelopeSchema, type Envelope } from "../../gen/secsession/v1/envelope_pb.js";
import { decodeEnvelope, EnvelopeDecodeError, MAC_FIELD, readLazyParts, type WireEnvelope } from "../../interceptors/wire/envelope-codec.js";
import { allowTime, fuzzChunks, hostileBytes, messageArb, mutatedBytes, runChunk } from "./arbitraries.js";

const SEED = 0x5e55_0011;

const validEnvelope = messageArb(EnvelopeSchema, 3).map((e) => toBinary(EnvelopeSchema, e));
const input = fc.oneof(
  { arbitrary: validEnvelope, weight: 2 },
  { arbitrary: fc.uint8Array({ maxLength: 4096 }), weight: 1 },
  { arbitrary: mutatedBytes(validEnvelope).map((b) => b.subarray(0, 4096)), weight: 3 },
  { arbitrary: hostileBytes.map((b) => b.subarray(0, 4096)), weight: 1 },
);

/** The decoder's refusals of what protobuf would accept (docs/protocol.md, "Envelope fields"). */
const STRICTER = [/overruns its message/, /overflows 32 bits/, /truncated/, /varint longer than 10 bytes/, /a second session start/, /two bodies/, /not valid UTF-8/, /wire type/, /follows the envelope MAC/, /groups/, /^more than \d+/];

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const bindings = (x: ReadonlyArray<{ role: string; principal: string }>) => x.map((b) => `${b.role}=${b.principal}`).join(",");

/** Every difference between the two decodings (empty when they agree). */
function differences(w: WireEnvelope, p: Envelope): string[] {
  const out: string[] = [];
  const eq = (name: string, ok: boolean) => ok || out.push(name);
  eq("version", w.version === p.version);
  eq("sessionId", same(w.sessionId, p.sessionId));
  eq("edge", w.edge === p.edge);
  eq("step", w.step === p.step);
  eq("payload", same(w.payload, p.payload));
  eq("ack", w.ack === p.ack);
  eq("payloadKeyVersion", w.payloadKeyVersion === p.payloadKeyVersion);
  eq("macKeyVersion", w.macKeyVersion === p.macKeyVersion);
  eq("mac", same(w.mac ?? new Uint8Array(0), p.mac));
  eq("bindings", bindings(w.bindings) === bindings(p.bindings));
  eq("history", w.history.length === p.history.length && w.history.every((x, i) => x.edge === p.history[i]!.edge && x.step === p.history[i]!.step && same(x.payloadHash, p.history[i]!.payloadHash) && bindings(x.bindings) === bindings(p.history[i]!.bindings)));
  eq("attestations", w.attestations.length === p.attestations.length && w.attestations.every((a, i) => { const b = p.attestations[i]!; return a.role === b.role && a.target === b.target && a.step === b.step && a.keyVersion === b.keyVersion && same(a.tag, b.tag); }));
  eq("keyUpdates", w.keyUpdates.length === p.keyUpdates.length && w.keyUpdates.every((u, i) => { const v = p.keyUpdates[i]!; return u.from === v.from && u.to === v.to && u.version === v.version && u.step === v.step && u.body.case === v.body.case && same(u.body.value ?? new Uint8Array(0), (v.body.value as Uint8Array | undefined) ?? new Uint8Array(0)) && same(u.tag, v.tag); }));
  eq("start", (w.start === undefined) === (p.start === undefined) && (w.start === undefined || (same(w.start.nonce, p.start!.nonce) && same(w.start.sessionCode, p.start!.sessionCode) && w.start.timeMs === p.start!.timeMs && bindings(w.start.bindings) === bindings(p.start!.bindings))));
  return out;
}

for (const chunk of fuzzChunks(SEED, 30_000)) {
  test.serial(`decodeEnvelope agrees with fromBinary where it accepts, and refuses only by its strict rules${chunk.label}`, async (t) => {
    await allowTime(t, chunk.budgetMs + 30_000);
    const refusals = new Map<string, number>();
    let accepted = 0;
    const report = runChunk(
      chunk,
      fc.property(input, (b) => {
        let w: WireEnvelope | undefined;
        let refusal: string | undefined;
        try {
          w = decodeEnvelope(b);
          // The parts read when first used: what is malformed in them is a refusal of the same envelope.
          const lazy = readLazyParts(w);
          if (lazy !== undefined) {
            w = undefined;
            throw new EnvelopeDecodeError(lazy);
          }
        } catch (e: unknown) {
          if (!(e instanceof EnvelopeDecodeError)) throw new Error(`decodeEnvelope threw ${String(e)}, not an EnvelopeDecodeError`);
          refusal = e.message;
        }
        let p: Envelope | undefined;
        try {
          p = fromBinary(EnvelopeSchema, b, { readUnknownFields: false });
        } catch {
          p = undefined;
        }
        if (w !== undefined) {
          if (p === undefined) throw new Error("decodeEnvelope accepts what fromBinary refuses");
          const diff = differences(w, p);
          if (diff.length > 0) throw new Error(`the decodings differ in ${diff.join(", ")}`);
          // The body is everything before the MAC field, which is last.
          if (w.mac !== undefined) {
            if (b[w.body.length] !== ((MAC_FIELD << 3) | 2)) throw new Error("the body does not end where the MAC field starts");
          } else if (w.body.length !== b.length) throw new Error("without a MAC the body is not the whole encoding");
          accepted++;
          return;
        }
        if (p !== undefined) {
          const rule = STRICTER.find((r) => r.test(refusal!));
          if (rule === undefined) throw new Error(`decodeEnvelope refuses, for no strict rule, what fromBinary accepts: ${refusal}`);
          refusals.set(rule.source, (refusals.get(rule.source) ?? 0) + 1);
        }
      }),
    );
    t.log(report.report);
    t.log(`${accepted} accepted; refused where protobuf accepts: ${[...refusals].map(([k, n]) => `${n} × ${k}`).join("; ") || "none"}`);
    t.true(accepted > chunk.numRuns / 10, "a good share of the inputs are envelopes");
  });
}
