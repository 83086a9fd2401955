/**
 * Fuzzing decodeState: on any input it returns a state or throws a
 * StateCodecError — never another exception, never a hang or an allocation
 * sized by a length field — and whatever it accepts re-encodes to the same
 * bytes (the encoding is canonical).
 */
import test from "ava";
import fc from "fast-check";
import { decodeState, encodeState, StateCodecError } from "../../interceptors/index.js";
import { negotiate, send, shop } from "./shop.js";

const SEED = 0x5e55_0570;

/** Encodings of real states: the three roles mid-negotiation and at the end. */
async function corpus(): Promise<Uint8Array[]> {
  const s = shop();
  const out: Uint8Array[] = [];
  let sid = "";
  const grab = async () => {
    for (const p of Object.values(s.parties)) {
      const st = await p.state(sid);
      if (st !== undefined) out.push(encodeState(st));
    }
  };
  const start = s.parties.customer.start.bind(s.parties.customer);
  (s.parties.customer as { start: typeof start }).start = async (b) => {
    const st = await start(b);
    sid = st.key;
    return st;
  };
  await negotiate(s, 2, grab);
  await send(s.parties.customer, s.parties.warehouse, sid, "Accept");
  await send(s.parties.warehouse, s.parties.office, sid, "Confirm");
  await grab();
  return out;
}

/** decodeState's contract on one input; returns a problem or undefined. */
function problem(bytes: Uint8Array): string | undefined {
  let st;
  try {
    st = decodeState(bytes);
  } catch (e: unknown) {
    return e instanceof StateCodecError ? undefined : `threw ${String(e)}`;
  }
  const again = encodeState(st);
  return Buffer.from(again).equals(Buffer.from(bytes)) ? undefined : "accepted a non-canonical encoding";
}

type Mutation =
  | { op: "flip"; at: number; bit: number }
  | { op: "u32"; at: number; value: number }
  | { op: "truncate"; at: number }
  | { op: "insert"; at: number; bytes: Uint8Array }
  | { op: "delete"; at: number; n: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant("u32" as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(0, 1, 0x7fff_ffff, 0xffff_ffff, 0x0100_0000), fc.nat({ max: 0xffff_ffff })) }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
);

function apply(b: Uint8Array, m: Mutation): Uint8Array {
  const at = b.length === 0 ? 0 : m.at % b.length;
  switch (m.op) {
    case "flip": {
      const x = b.slice();
      if (x.length > 0) x[at]! ^= 1 << m.bit;
      return x;
    }
    case "u32": {
      const x = b.slice();
      if (at + 4 <= x.length) new DataView(x.buffer).setUint32(at, m.value, false);
      return x;
    }
    case "truncate":
      return b.slice(0, at);
    case "insert":
      return Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]);
    case "delete":
      return Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.n)]);
  }
}

test("decodeState refuses random bytes with a StateCodecError", (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4096 }), (b) => problem(b) === undefined),
    { seed: SEED, numRuns: 3000 },
  );
  // Random bytes behind a valid magic and version go further into the decoder.
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4096 }), (b) => problem(Uint8Array.from([0x53, 0x53, 0x53, 0x54, 3, ...b])) === undefined),
    { seed: SEED, numRuns: 3000 },
  );
  t.pass();
});

test("decodeState on mutated real states: StateCodecError or a canonical state", async (t) => {
  const states = await corpus();
  t.true(states.length >= 10);
  for (const b of states) t.is(problem(b), undefined, "the corpus decodes");
  const seen: string[] = [];
  fc.assert(
    fc.property(fc.constantFrom(...states), fc.array(mutation, { minLength: 1, maxLength: 4 }), (b, ms) => {
      const p = problem(ms.reduce(apply, b));
      if (p !== undefined) seen.push(p);
      return p === undefined;
    }),
    { seed: SEED, numRuns: 4000 },
  );
  t.deepEqual(seen, []);
});

test("no length or count field makes decodeState allocate or loop beyond its input", async (t) => {
  const states = await corpus();
  const b = states.reduce((a, x) => (x.length > a.length ? x : a));
  const before = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  for (let at = 0; at + 4 <= b.length; at++) {
    for (const v of [0xffff_ffff, 0x8000_0000, 0x00ff_ffff]) {
      const x = b.slice();
      new DataView(x.buffer).setUint32(at, v, false);
      t.is(problem(x), undefined, `u32 ${v.toString(16)} at ${at}`);
    }
  }
  const ms = performance.now() - t0;
  t.true(ms < 20_000, `${ms.toFixed(0)} ms for ${3 * b.length} decodes`);
  t.true(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024, "no large buffer was allocated");
  t.throws(() => decodeState(new Uint8Array(64 * 1024 * 1024 + 1)), { instanceOf: StateCodecError });
  t.throws(() => decodeState("SSST" as unknown as Uint8Array), { instanceOf: StateCodecError });
});
