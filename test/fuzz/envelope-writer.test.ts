/**
 * The hot path's envelope writer (interceptors/wire/envelope-writer.ts)
 * against protobuf-es's `toBinary` on random envelopes (every field, any
 * size, empty and unicode strings, 64-bit steps): the same bytes; with a MAC,
 * those bytes followed by field 15, and the MAC function sees exactly them.
 */
import test from "ava";
import fc from "fast-check";
import { create, toBinary } from "@bufbuild/protobuf";
import { EnvelopeSchema } from "../../gen/secsession/v1/envelope_pb.js";
import { writeEnvelope } from "../../interceptors/wire/envelope-writer.js";
import { decodeEnvelope } from "../../interceptors/wire/envelope-codec.js";
import { messageArb } from "./arbitraries.js";

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
// Random envelopes as the runtime seals them: no MAC yet, no unknown fields.
const envelope = messageArb(EnvelopeSchema, 3).map((e) => create(EnvelopeSchema, { ...e, mac: new Uint8Array(0), $unknown: undefined } as never));

test("writeEnvelope writes the bytes toBinary writes, for every envelope", (t) => {
  fc.assert(
    fc.property(envelope, (e) => same(writeEnvelope(e), toBinary(EnvelopeSchema, e))),
    { seed: 0x5e55_0017, numRuns: 3_000 },
  );
  t.pass();
});

test("with a MAC, the body is toBinary's bytes and field 15 follows with the MAC", (t) => {
  fc.assert(
    fc.property(envelope, fc.uint8Array({ minLength: 32, maxLength: 32 }), (e, mac) => {
      let seen: Uint8Array | undefined;
      const out = writeEnvelope(e, (body) => ((seen = body.slice()), mac));
      const body = toBinary(EnvelopeSchema, e);
      const decoded = decodeEnvelope(out);
      return same(seen!, body) && same(out.subarray(0, body.length), body) && same(decoded.mac!, mac) && same(decoded.body, body);
    }),
    { seed: 0x5e55_0018, numRuns: 1_000 },
  );
  t.pass();
});

test("edge cases: 64-bit steps, empty bodies of a key update, an empty start, large lengths", (t) => {
  const e = create(EnvelopeSchema, {
    version: 1,
    sessionId: new Uint8Array(32).fill(7),
    edge: 2 ** 32 - 1,
    step: 2n ** 64n - 1n,
    payload: new Uint8Array(70_000).fill(1),
    start: {},
    keyUpdates: [{ from: "é", to: "", body: { case: "noise", value: new Uint8Array(0) } }, { body: { case: "ratchet", value: new Uint8Array(1) }, step: 2n ** 35n }],
    history: [{ step: 2n ** 32n, bindings: [{}] }],
    attestations: [{ role: "\u{1F600}", step: 127n, keyVersion: 128 }],
    ack: true,
    macKeyVersion: 16_384,
  });
  t.true(same(writeEnvelope(e), toBinary(EnvelopeSchema, e)));
  t.throws(() => writeEnvelope(create(EnvelopeSchema, { mac: new Uint8Array(1) })), { message: /already carries its MAC/ });
});
