/**
 * The hot path's byte builders against the definitions they stand for
 * (docs/protocol.md, "Transcript" and "The envelope MAC"): transcriptStep
 * writes its input into one buffer and hashes it in one call, envelopeMacInput
 * joins everything before the body into one part, hex reads short inputs byte
 * by byte. Each must give the bytes of the spelled-out formula, for names of
 * any length (the step buffer grows) and any number of bindings, in any order.
 */
import test from "ava";
import fc from "fast-check";
import { createNodeBackend, createNaclBackend } from "../../interceptors/keys/crypto/index.js";
import { bindingsBytes, concat, hex, label, lp, lps, u32, u64 } from "../../interceptors/wire/encoding.js";
import { envelopeMacInput, transcriptStep } from "../../interceptors/wire/transcript.js";
import { record } from "../../interceptors/monitor/state.js";

const backends = [createNodeBackend(), createNaclBackend()];
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const name = fc.oneof(fc.string({ maxLength: 8 }), fc.string({ unit: "grapheme", maxLength: 40 }), fc.string({ minLength: 200, maxLength: 400 }), fc.constantFrom("constructor", "__proto__", "c", "w"));
const binding = fc.record({ role: name, principal: name });

test("transcriptStep is SHA-256 of label(step) ‖ prev ‖ u32(edge) ‖ u64(step) ‖ lp(payload hash) ‖ bindings", (t) => {
  fc.assert(
    fc.property(bytes(32, 32), fc.nat({ max: 0xffff_ffff }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), bytes(0, 40), fc.array(binding, { maxLength: 5 }), (prev, edge, step, payloadHash, bindings) => {
      for (const c of backends) {
        const want = c.sha256(concat(label("step"), prev, u32(edge), u64(step), lp(payloadHash), bindingsBytes(bindings)));
        const got = transcriptStep(c, prev, { edge, step, payloadHash, bindings });
        if (hex(got) !== hex(want)) return false;
      }
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test("envelopeMacInput, joined, is label(envelope-mac) ‖ lp(sid) ‖ lps(sender) ‖ lps(receiver) ‖ lp(h) ‖ body", (t) => {
  fc.assert(
    fc.property(bytes(32, 32), name, name, bytes(32, 32), bytes(0, 300), (sid, sender, receiver, h, body) => {
      const want = concat(label("envelope-mac"), lp(sid), lps(sender), lps(receiver), lp(h), body);
      return hex(concat(...envelopeMacInput(sid, sender, receiver, h, body))) === hex(want);
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test("hex is Node's hex, for views and arrays of any length", (t) => {
  fc.assert(
    fc.property(bytes(0, 200), fc.nat({ max: 7 }), (b, skip) => {
      const view = b.subarray(Math.min(skip, b.length));
      return hex(b) === Buffer.from(b).toString("hex") && hex(view) === Buffer.from(view).toString("hex");
    }),
    { numRuns: 500 },
  );
  t.pass();
});

test("a record inherits nothing: constructor, toString and __proto__ are keys like any other", (t) => {
  const r = record<string>();
  for (const k of ["constructor", "toString", "__proto__", "valueOf", "hasOwnProperty"]) {
    t.is(r[k], undefined, k);
    t.false(k in r, k);
  }
  r["__proto__"] = "x";
  r["constructor"] = "y";
  t.deepEqual(Object.keys(r), ["__proto__", "constructor"]);
  const copy = record(r);
  t.is(copy["__proto__"], "x");
  t.deepEqual(Object.keys(copy), ["__proto__", "constructor"]);
  const keys: string[] = [];
  for (const k in record<string>()) keys.push(k);
  t.deepEqual(keys, []);
});
