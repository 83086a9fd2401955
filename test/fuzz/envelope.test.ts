/**
 * Characterising @bufbuild/protobuf's decoding of the wire Envelope (gen/secsession/v1/envelope_pb.ts)
 * on hostile input, ahead of the runtime decoder: on random bytes, on mutated valid envelopes and on
 * hand-made hostile encodings, fromBinary either returns a message or throws an Error (never
 * anything else), takes well under a few ms per 4 KiB, and what it returns re-encodes and decodes
 * to an equal message.
 */
import test from "ava";
import fc from "fast-check";
import { equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import { EnvelopeSchema, type Envelope } from "../../gen/secsession/v1/envelope_pb.js";
import { allowTime, fuzzChunks, hostileBytes, messageArb, mutatedBytes, runChunk } from "./arbitraries.js";

const SEED = 0x5e55_0004;
/** Per decode of at most 4 KiB (a slow decode is timed again, so that a GC pause or a busy machine does not count). */
const LIMIT_MS = 5;

const validEnvelope = messageArb(EnvelopeSchema, 3).map((e) => toBinary(EnvelopeSchema, e));
const input = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 4096 }), weight: 2 },
  { arbitrary: mutatedBytes(validEnvelope).map((b) => b.subarray(0, 4096)), weight: 3 },
  { arbitrary: hostileBytes.map((b) => b.subarray(0, 4096)), weight: 1 },
);

interface Stats {
  decoded: number;
  errors: Map<string, number>;
  times: number[];
  /** Inputs that took longer than LIMIT_MS, timed again after the run. */
  slow: Uint8Array[];
}

const newStats = (): Stats => ({ decoded: 0, errors: new Map(), times: [], slow: [] });

/** Decodes once, timed; the best of `tries` runs when the first is slow. */
function timedDecode(bytes: Uint8Array, tries: number): { ms: number; value?: Envelope; error?: unknown } {
  let best: { ms: number; value?: Envelope; error?: unknown } | undefined;
  for (let k = 0; k < tries && (best === undefined || best.ms > LIMIT_MS); k++) {
    const t0 = performance.now();
    let r: { ms: number; value?: Envelope; error?: unknown };
    try {
      const value = fromBinary(EnvelopeSchema, bytes);
      r = { ms: performance.now() - t0, value };
    } catch (error: unknown) {
      r = { ms: performance.now() - t0, error };
    }
    if (best === undefined || r.ms < best.ms) best = r;
  }
  return best!;
}

function decode(bytes: Uint8Array, stats: Stats): Envelope | undefined {
  const r = timedDecode(bytes, 5);
  stats.times.push(r.ms);
  if (r.ms > LIMIT_MS) stats.slow.push(bytes); // timed again after the run: the machine may just be busy
  if ("error" in r) {
    if (!(r.error instanceof Error)) throw new Error(`fromBinary threw a non-Error: ${String(r.error)}`);
    const kind = `${r.error.constructor.name}: ${r.error.message.replace(/\d+/g, "N")}`;
    stats.errors.set(kind, (stats.errors.get(kind) ?? 0) + 1);
    return undefined;
  }
  stats.decoded++;
  return r.value;
}

for (const chunk of fuzzChunks(SEED)) {
  test.serial(`fromBinary(Envelope) returns or throws an Error, fast, and what it returns round-trips${chunk.label}`, async (t) => {
    await allowTime(t, chunk.budgetMs + 30_000);
    // Warm the decoder up (JIT), so that the time limit measures the decoder, not the compiler.
    for (const b of fc.sample(input, { seed: SEED - 1, numRuns: 2_000 })) decode(b, newStats());
    const stats = newStats();
    let bytes = 0;
    const report = runChunk(
      chunk,
      fc.property(input, (b) => {
        bytes += b.length;
        const e = decode(b, stats);
        if (e === undefined) return;
        const again = fromBinary(EnvelopeSchema, toBinary(EnvelopeSchema, e));
        if (!equals(EnvelopeSchema, e, again)) throw new Error("decode(encode(decode(b))) differs from decode(b)");
      }),
    );
    t.log(report.report);
    const times = stats.times.sort((a, b) => a - b);
    const pct = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(3);
    t.log(`${(bytes / 1024 / 1024).toFixed(1)} MiB decoded; ${stats.decoded} messages; decode time median ${pct(0.5)} ms, p99.9 ${pct(0.999)} ms, worst ${pct(1)} ms`);
    // Slow decodes, timed again: each must be fast at least once in 20 runs.
    const slow = stats.slow.map((b) => ({ b, ms: timedDecode(b, 20).ms })).filter((x) => x.ms > LIMIT_MS);
    t.log(`${stats.slow.length} decodes over ${LIMIT_MS} ms (best of 5), ${slow.length} of them still slow in 20 more runs`);
    t.deepEqual(slow.map((x) => `${x.ms.toFixed(1)} ms for ${Buffer.from(x.b).toString("hex")}`), []);
    for (const [kind, n] of [...stats.errors].sort((a, b) => b[1] - a[1])) t.log(`${n} × ${kind}`);
    t.pass();
  });
}
