/**
 * Fuzzing the import of a sealed session export (interceptors/store/export.ts) and the decoding of
 * the unsealed state (state-codec.ts), with real states: Shopping played by three runtimes through
 * the Party API (test/store/shop.ts), each role's state exported mid-negotiation.
 *
 * - importSession, on arbitrary bytes, bytes behind a valid header, byte mutations of real exports
 *   and exports spliced from the parts of others, always refuses with an ImportRefusedError saying
 *   why (malformed, unauthentic, wrong party), never anything else, never accepts, and changes
 *   nothing: no state, no high-water mark, no key in the vault;
 * - decodeState, on arbitrary bytes, mutations of real encodings and length or count fields set to
 *   huge values, returns a state whose encoding is the input (the encoding is canonical) or throws
 *   a StateCodecError, never anything else, and never allocates more than its input's size.
 */
import test from "ava";
import fc from "fast-check";
import { randomBytes } from "node:crypto";
import { getHeapStatistics } from "node:v8";
import {
  decodeState,
  encodeState,
  exportSession,
  highWaterKey,
  highWaterMarksOf,
  importSession,
  ImportRefusedError,
  StateCodecError,
  type Party,
  type SessionRuntime,
} from "../../interceptors/index.js";
import { allowTime, fuzzChunks, mutatedBytes, runAsyncChunk, runChunk } from "./arbitraries.js";
import { negotiate, send, shop, type Principal, type Shop } from "../store/shop.js";

const SEED = 0x5e55_0006;
const PRINCIPALS: readonly Principal[] = ["customer", "office", "warehouse"];

interface Target {
  readonly who: Principal;
  readonly runtime: SessionRuntime;
  readonly party: Party;
}

const storageKey = new Uint8Array(randomBytes(32));
const otherKey = Uint8Array.from(storageKey, (b, i) => (i === 0 ? b ^ 1 : b));
/** Sealed exports of real states (each role, at two points of the session). */
const exports: Array<{ readonly who: Principal; readonly bytes: Uint8Array }> = [];
/** encodeState of real states. */
const states: Uint8Array[] = [];
/** For each principal, a runtime with an empty store that the imports are tried on. */
const targets = new Map<Principal, Target>();
let sessionKeys: string[] = [];
let shopOf: Shop;

test.before(async () => {
  const s = (shopOf = shop());
  const grab = async (sid: string) => {
    for (const who of PRINCIPALS) {
      const st = await s.parties[who].state(sid);
      if (st === undefined) continue;
      exports.push({ who, bytes: await exportSession(s.parties[who], sid, storageKey) });
      states.push(encodeState(st));
    }
  };
  const sid = await negotiate(s, 1);
  await grab(sid);
  await send(s.parties.customer, s.parties.warehouse, sid, "Accept");
  await send(s.parties.warehouse, s.parties.office, sid, "Confirm");
  await grab(sid);
  const sid2 = await negotiate(s, 0);
  await grab(sid2);
  sessionKeys = [sid, sid2];
  for (const who of PRINCIPALS) targets.set(who, { who, ...s.fresh(who) });
});

// ---- inputs ----

const MAGIC_V1 = Uint8Array.of(0x53, 0x53, 0x45, 0x58, 1);
const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

/** The fields of an export: magic+version, code, role length, role, sid, nonce, ciphertext. */
function parts(b: Uint8Array): Uint8Array[] {
  const roleLength = new DataView(b.buffer, b.byteOffset + 37, 4).getUint32(0, false);
  const cuts = [0, 5, 37, 41, 41 + roleLength, 73 + roleLength, 85 + roleLength, b.length];
  return cuts.slice(1).map((end, i) => b.slice(cuts[i], end));
}

/** An export with some of its fields (at least one) taken from another export. */
const spliced = fc.tuple(fc.nat(), fc.nat(), fc.array(fc.boolean(), { minLength: 7, maxLength: 7 })).map(([a, b, take]) => {
  const i = a % exports.length;
  const j = (i + 1 + (b % (exports.length - 1))) % exports.length;
  const x = parts(exports[i]!.bytes);
  const y = parts(exports[j]!.bytes);
  const from = take.some(Boolean) ? take : [false, false, false, false, false, false, true];
  return { who: exports[i]!.who, bytes: cat(...x.map((p, k) => (from[k] ? y[k]! : p))) };
});

const anyTarget = fc.constantFrom(...PRINCIPALS);
/** What an input is, printed in reports as hex. */
const labelled = (kind: string, who: Principal, bytes: Uint8Array) => ({ kind, who, bytes, [fc.toStringMethod]: () => `${kind} for ${who}: ${Buffer.from(bytes).toString("hex")}` });

const importInput = fc.oneof(
  { arbitrary: fc.tuple(fc.uint8Array({ maxLength: 1024 }), anyTarget).map(([b, who]) => labelled("random bytes", who, b)), weight: 1 },
  { arbitrary: fc.tuple(fc.uint8Array({ maxLength: 1024 }), anyTarget).map(([b, who]) => labelled("random bytes behind the magic", who, cat(MAGIC_V1, b))), weight: 1 },
  {
    arbitrary: fc.nat().chain((k) => {
      const e = exports[k % exports.length]!;
      return mutatedBytes(fc.constant(e.bytes)).map((b) => labelled("an export mutated", e.who, b));
    }),
    weight: 5,
  },
  { arbitrary: spliced.map((x) => labelled("an export spliced from two", x.who, x.bytes)), weight: 2 },
  {
    arbitrary: fc.tuple(fc.nat(), fc.nat(1)).map(([k, d]) => {
      const e = exports[k % exports.length]!;
      return labelled("an intact export, imported by another role", PRINCIPALS[(PRINCIPALS.indexOf(e.who) + 1 + d) % 3]!, e.bytes);
    }),
    weight: 1,
  },
  { arbitrary: fc.nat().map((k) => ({ ...labelled("an intact export, under another storage key", exports[k % exports.length]!.who, exports[k % exports.length]!.bytes), key: otherKey })), weight: 1 },
);

const HUGE = [0xffff_ffff, 0xffff_fffe, 0x8000_0000, 0x7fff_ffff, 0x4000_0000, 0x0100_0000, 0x0001_0000];

/** A real encoding with a u32 (a length or a count, wherever they are) set to a huge value. */
const hugeLength = fc.tuple(fc.nat(), fc.nat(), fc.constantFrom(...HUGE)).map(([k, at, v]) => {
  const b = states[k % states.length]!.slice();
  new DataView(b.buffer).setUint32(at % (b.length - 3), v, false);
  return b;
});

const stateInput = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 2048 }), weight: 1 },
  { arbitrary: fc.uint8Array({ maxLength: 2048 }).map((b) => cat(Uint8Array.of(0x53, 0x53, 0x53, 0x54, 3), b)), weight: 1 },
  { arbitrary: mutatedBytes(fc.nat().map((k) => states[k % states.length]!)), weight: 4 },
  { arbitrary: hugeLength, weight: 3 },
);

// ---- the properties ----

const REFUSALS = new Set(["malformed", "unauthentic", "wrong-party"]);

/** Nothing of the sessions is in the target's store: no state, no mark, no live key. */
async function untouched(t: Target): Promise<string[]> {
  const out: string[] = [];
  const marks = highWaterMarksOf(t.runtime.core.store)!;
  for (const sid of sessionKeys) {
    const key = t.party.key(sid);
    if ((await t.runtime.core.store.get(key)) !== undefined) out.push(`${t.who} holds a state of ${sid}`);
    if ((await marks.get(highWaterKey(key))) !== undefined) out.push(`${t.who} has a high-water mark for ${sid}`);
    for (const peer of PRINCIPALS) if (t.runtime.core.vault.alive(`${sid}:${t.party.role}:${peer}`).length > 0) out.push(`${t.who} has a live key for ${peer}`);
  }
  return out;
}

test.serial("the corpus: every export imports into a fresh runtime of its principal, every state decodes (the properties' control)", async (t) => {
  t.true(exports.length >= 8);
  for (const e of exports) {
    const fresh = shopOf.fresh(e.who);
    const st = await importSession(fresh.party, e.bytes, storageKey);
    t.is(st.role, fresh.party.role);
  }
  for (const b of states) t.deepEqual(encodeState(decodeState(b)), b);
});

for (const chunk of fuzzChunks(SEED)) {
  test.serial(`importSession refuses every input that is not an intact export of the party, with a clear error, changing nothing${chunk.label}`, async (t) => {
    await allowTime(t, chunk.budgetMs + 30_000);
    const kinds = new Map<string, number>();
    let intact = 0;
    const intactBytes = new Set(exports.map((e) => Buffer.from(e.bytes).toString("hex")));
    const report = await runAsyncChunk(
      chunk,
      fc.asyncProperty(importInput, async (input) => {
        const { kind, who, bytes } = input;
        const key = "key" in input ? input.key : storageKey;
        const target = targets.get(who)!;
        if (key === storageKey && intactBytes.has(Buffer.from(bytes).toString("hex")) && exports.some((e) => e.who === who && Buffer.from(e.bytes).equals(bytes))) {
          intact++; // a mutation that undid itself: an intact export of this party, which must import (tested above)
          return;
        }
        let refusal: ImportRefusedError;
        try {
          await importSession(target.party, bytes, key);
          throw new Error(`${kind}: imported`);
        } catch (e: unknown) {
          if (!(e instanceof ImportRefusedError)) throw new Error(`${kind}: threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
          refusal = e;
        }
        if (!REFUSALS.has(refusal.kind) || !/^secsession: import refused \([a-z-]+\): \S/.test(refusal.message)) throw new Error(`${kind}: unclear refusal ${refusal.message}`);
        const k = `${refusal.message.replace(/[0-9a-f]{16,}/g, "H").replace(/\d+/g, "N").replace(/"[^"]*"/g, "R").slice(0, 100)}`;
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
        const changed = await untouched(target);
        if (changed.length > 0) throw new Error(`${kind}: ${changed.join(", ")}`);
      }),
    );
    t.log(report.report);
    t.log(`${intact} inputs were an intact export of their party (skipped)`);
    for (const [k, n] of [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 12)) t.log(`${n} × ${k}`);
    for (const target of targets.values()) t.deepEqual(await untouched(target), []);
  });
}

for (const chunk of fuzzChunks(SEED + 1_000)) {
  test.serial(`decodeState returns the state its input encodes or throws a StateCodecError, without allocating beyond its input${chunk.label}`, async (t) => {
    await allowTime(t, chunk.budgetMs + 30_000);
    let decoded = 0;
    let worst = 0;
    const errors = new Map<string, number>();
    const report = runChunk(
      chunk,
      fc.property(stateInput, (b) => {
        const before = getHeapStatistics().external_memory;
        let st;
        try {
          st = decodeState(b);
        } catch (e: unknown) {
          if (!(e instanceof StateCodecError)) throw new Error(`threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} on ${Buffer.from(b).toString("hex")}`);
          // decodeState wraps what it did not expect (a TypeError, a failed allocation) in this one: a crash, hidden.
          if (e.cause !== undefined && !(e.cause instanceof StateCodecError) && !/not valid UTF-8/.test(e.message)) {
            throw new Error(`a crash wrapped in a StateCodecError: ${e.message}: ${String(e.cause)} on ${Buffer.from(b).toString("hex")}`);
          }
          const k = e.message.replace(/\[[^\]]*\]/g, "[…]").replace(/\d+/g, "N").slice(0, 80);
          errors.set(k, (errors.get(k) ?? 0) + 1);
        }
        const grown = getHeapStatistics().external_memory - before;
        worst = Math.max(worst, grown);
        if (grown > 1024 * 1024 + 16 * b.length) throw new Error(`decoding ${b.length} bytes allocated ${grown} bytes: ${Buffer.from(b).toString("hex")}`);
        if (st === undefined) return;
        decoded++;
        if (!Buffer.from(encodeState(st)).equals(b)) throw new Error(`accepted a non-canonical encoding: ${Buffer.from(b).toString("hex")}`);
      }),
    );
    t.log(report.report);
    t.log(`${decoded} inputs decoded; the most external memory one decode added: ${worst} bytes`);
    for (const [k, n] of [...errors].sort((a, b) => b[1] - a[1]).slice(0, 10)) t.log(`${n} × ${k}`);
    t.true(decoded > 0);
  });
}
