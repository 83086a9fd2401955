/**
 * The cost of refusal: CPU time and extra heap a receiver spends on an
 * envelope it refuses, beside what it spends accepting an honest one of the
 * same size (the network alone, no keys: anyone can send these bytes).
 *
 * Session Observer: `a` calls `b`'s Ping any number of times, then stops, and `b`
 * tells `c` Done — so `c`'s first message honestly carries the whole history
 * of the pings, and an attacker may claim any number of them. `c` receives:
 *
 *   honest payload   b's Done with a payload of the size (history: 2 messages)
 *   honest history   b's Done after enough pings that the envelope has the size
 *   bogus history    b's Done with its history replaced by plausible pings and their answers (right edges,
 *                    consecutive steps, random hashes) up to the size; the MAC cannot match
 *   unknown fields   a small honest Done of b with an unknown field making up the size
 *   tampered         honest payload with one payload byte changed
 *   random           random bytes of the size
 *
 * Each figure is the median over `--runs` envelopes. Every envelope measured
 * is the first message its receiver sees, in a world (runtimes, identities,
 * session) of its own, made for it, with the receiver's party already set up:
 * so each pays the same first-contact work (the session start, the Noise
 * handshake message b's first message to c carries), and none finds a cache
 * that an earlier measurement filled. CPU is process.cpuUsage()
 * (user + system) around one unwrap, after a full GC and once the process's
 * background threads are idle (settle: the freeing of what building the
 * envelope left is no part of its refusal); the attacker's construction
 * objects are never live heap of the receiver. Extra heap is heapUsed + arrayBuffers
 * just after the unwrap minus the same just before it, after a full GC
 * (run under --expose-gc; young-generation scavenges during the call can
 * only make it lower). Figures are per MiB of envelope.
 *
 *   npm run bench:refusal -- [--sizes 262144,1048576,4000000] [--runs 5] [--honest-history-max 262144] [--json bench/refusal.json]
 */
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { EnvelopeSchema, HistoryEntrySchema } from "../gen/secsession/v1/envelope_pb.js";
import { SecSessionError } from "../interceptors/index.js";
import { MAX_ENVELOPE_BYTES } from "../interceptors/runtime/party.js";
import { randomBytes } from "node:crypto";
import { inlineSession, world, type World } from "../test/support/inline-session.js";
import { benchArgs } from "./args.js";

const { opt } = benchArgs();
const SIZES = opt("sizes", "262144,1048576,4000000").split(",").map(Number);
const RUNS = Number(opt("runs", "5"));
const JSON_OUT = opt("json", "bench/refusal.json");
/** Honest histories are built message by message (each seal copies the sender's history, quadratic in its length): the largest honest-history size measured (at 1 MiB the build takes minutes and outlasts the replay window, so the start is refused as stale). */
const HONEST_HISTORY_MAX = Number(opt("honest-history-max", "262144"));

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error("run under --expose-gc: npx tsx --expose-gc bench/refusal.ts");
  process.exit(2);
}
for (const s of SIZES) {
  if (!Number.isInteger(s) || s < 1024 || s > MAX_ENVELOPE_BYTES) {
    console.error(`--sizes: each size must be an integer from 1024 to ${MAX_ENVELOPE_BYTES} bytes, got ${s}`);
    process.exit(2);
  }
}
if (!Number.isInteger(RUNS) || RUNS < 1) {
  console.error(`--runs must be a positive integer, got ${opt("runs", "5")}`);
  process.exit(2);
}

const OBSERVER = `
syntax = "proto3";
package observer;
import "google/protobuf/empty.proto";
import "secsession/v1/options.proto";
option (secsession.v1.session) = {
  name: "Observer"
  roles: [ { name: "a" }, { name: "b" service: "B" }, { name: "c" service: "C" } ]
  protocol: "rec L { choice at a { a => b.Ping; continue L; } or { a -> b.Stop; b -> c.Done; } }"
};
service B { rpc Ping(Msg) returns (Msg); rpc Stop(Msg) returns (google.protobuf.Empty); }
service C { rpc Done(Msg) returns (google.protobuf.Empty); }
message Msg { bytes data = 1; }
`;

const session = inlineSession(OBSERVER);
const edge = (rpc: string, kind = "oneway") => session.descriptor.edges.find((e) => e.rpc.endsWith(`/${rpc}`) && e.kind === kind)!;
const PING = edge("Ping", "request");
const PONG = edge("Ping", "response");
const STOP = edge("Stop");
const DONE = edge("Done");

/** One honest session of `pings` pings; returns b's Done envelope with `data` as its payload, and the world. */
async function honestDone(pings: number, data: Uint8Array): Promise<{ w: World; bytes: Uint8Array }> {
  const w = world(session, ["ann", "bob", "cat"]);
  const sid = (await w.party("ann", "a").start({ a: "ann", b: "bob", c: "cat" })).key;
  const small = { data: new Uint8Array(8) };
  for (let i = 0; i < pings; i++) {
    await w.unwrap("bob", PING, await w.wrap("ann", sid, PING, small), "ann");
    await w.unwrap("ann", PONG, await w.wrap("bob", sid, PONG, small), "bob", sid);
  }
  await w.unwrap("bob", STOP, await w.wrap("ann", sid, STOP, small), "ann");
  const bytes = await w.wrap("bob", sid, DONE, { data });
  w.party("cat", "c"); // the receiver's party (its registry, its plan) is set up once per runtime, not per message
  return { w, bytes };
}

interface Cost {
  readonly cpuMs: number;
  readonly wallMs: number;
  readonly heapMiB: number;
  readonly refused: string | undefined;
}

/**
 * A full GC, then waits until the process's background threads (the
 * collector's sweeping and freeing, concurrent compilation) are idle: process
 * CPU time counts them, and building a forged envelope of a few MiB leaves
 * tens of MiB of garbage whose freeing is no part of the refusal measured
 * next. Idle: under 1 ms of process CPU in 20 ms of sleep (at most 2 s).
 */
async function settle(): Promise<void> {
  gc!();
  for (let i = 0; i < 100; i++) {
    const c0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 20));
    const c = process.cpuUsage(c0);
    if (c.user + c.system < 1000) return;
  }
}

async function measure(w: World, bytes: Uint8Array): Promise<Cost> {
  await settle();
  const m0 = process.memoryUsage();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let refused: string | undefined;
  try {
    await w.unwrap("cat", DONE, bytes, "bob");
  } catch (e: unknown) {
    if (!(e instanceof SecSessionError)) throw e;
    refused = e.kind;
  }
  const wallMs = performance.now() - t0;
  const c1 = process.cpuUsage(c0);
  const m1 = process.memoryUsage();
  const heap = m1.heapUsed + m1.arrayBuffers - (m0.heapUsed + m0.arrayBuffers);
  return { cpuMs: (c1.user + c1.system) / 1000, wallMs, heapMiB: Math.max(0, heap) / 2 ** 20, refused };
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

/** Pads b's honest Done envelope (history: Stop) to `size` with a `data` payload. */
function payloadFor(size: number, pings = 0): Uint8Array {
  return randomBytes(Math.max(0, size - 400 - pings * 50));
}

/** The history entry bytes of one ping (to size a history). */
function pingEntryBytes(): number {
  return toBinary(HistoryEntrySchema, create(HistoryEntrySchema, { edge: PING.id, step: 1_000_000n, payloadHash: new Uint8Array(32) })).length + 3;
}

/**
 * b's honest Done with its history replaced by plausible pings and their
 * answers up to `size`. Only the bytes outlive the call: the message objects
 * built here (one per entry) are garbage the measurement collects first,
 * not live heap the receiver carries while it refuses.
 */
function forgedHistory(honest: Uint8Array, size: number): Uint8Array {
  const env = fromBinary(EnvelopeSchema, honest);
  const fakes = 2 * Math.floor((size - 300) / pingEntryBytes() / 2);
  const stop = env.history[env.history.length - 1]!;
  const first = env.history[0]?.step ?? env.step;
  const hashes = randomBytes(32 * fakes);
  const pings = Array.from({ length: fakes }, (_, i) => create(HistoryEntrySchema, { edge: i % 2 === 0 ? PING.id : PONG.id, step: first + BigInt(i), payloadHash: hashes.subarray(32 * i, 32 * i + 32) }));
  const forged = create(EnvelopeSchema, {
    ...env,
    payload: new Uint8Array(0),
    history: [...pings, create(HistoryEntrySchema, { ...stop, step: first + BigInt(fakes) })],
    step: first + BigInt(fakes) + 1n,
  });
  return toBinary(EnvelopeSchema, forged);
}

type Row = { scenario: string; size: number; runs: number; cpuMsPerMiB: number; wallMsPerMiB: number; heapMiBPerMiB: number; outcome: string };
const rows: Row[] = [];

function record(scenario: string, size: number, costs: Cost[]) {
  const mib = size / 2 ** 20;
  const outcomes = [...new Set(costs.map((c) => c.refused ?? "accepted"))].join(", ");
  const row = {
    scenario,
    size,
    runs: costs.length,
    cpuMsPerMiB: median(costs.map((c) => c.cpuMs)) / mib,
    wallMsPerMiB: median(costs.map((c) => c.wallMs)) / mib,
    heapMiBPerMiB: median(costs.map((c) => c.heapMiB)) / mib,
    outcome: outcomes,
  };
  rows.push(row);
  console.log(`${scenario.padEnd(16)} ${String(size).padStart(8)} B  ${row.cpuMsPerMiB.toFixed(1).padStart(7)} ms CPU/MiB  ${row.heapMiBPerMiB.toFixed(2).padStart(6)} MiB heap/MiB  ${outcomes}`);
}

const started = performance.now();
console.log(`cost of refusal, Observer session, ${RUNS} runs per figure, sizes ${SIZES.join(", ")} bytes`);
for (const size of SIZES) {
  // Honest payload of the size; its tampered and unknown-field twins.
  const honest: Cost[] = [];
  const tampered: Cost[] = [];
  const unknown: Cost[] = [];
  const bogus: Cost[] = [];
  const random: Cost[] = [];
  for (let r = 0; r < RUNS; r++) {
    // Each envelope at a receiver of its own (see the header): an honest session per scenario.
    const t = await honestDone(0, payloadFor(size));
    const tamperedBytes = t.bytes.slice();
    tamperedBytes[Math.floor(tamperedBytes.length / 2)]! ^= 1;
    tampered.push(await measure(t.w, tamperedBytes));

    const f = await honestDone(0, payloadFor(size));
    bogus.push(await measure(f.w, forgedHistory(f.bytes, size)));

    // Unknown fields: a small honest Done, with an unknown field making up the size.
    const small = await honestDone(0, new Uint8Array(16));
    const pad = size - small.bytes.length - 8;
    const head = [...varintTag(99, 2), ...varint(pad)];
    const withUnknown = new Uint8Array(head.length + pad + small.bytes.length);
    withUnknown.set(head);
    withUnknown.set(randomBytes(pad), head.length);
    withUnknown.set(small.bytes, head.length + pad);
    unknown.push(await measure(small.w, withUnknown));

    const z = await honestDone(0, new Uint8Array(16));
    random.push(await measure(z.w, randomBytes(size)));

    const h = await honestDone(0, payloadFor(size));
    honest.push(await measure(h.w, h.bytes));
  }
  record("honest payload", size, honest);
  record("tampered", size, tampered);
  record("bogus history", size, bogus);
  record("unknown fields", size, unknown);
  record("random", size, random);
  if (size <= HONEST_HISTORY_MAX) {
    const entry = pingEntryBytes() + 24;
    const n = Math.floor((size - 400) / entry / 2);
    const costs: Cost[] = [];
    for (let r = 0; r < Math.min(RUNS, 3); r++) {
      const h = await honestDone(n, new Uint8Array(0));
      costs.push(await measure(h.w, h.bytes));
    }
    record(`honest history`, size, costs);
  }
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}
function varintTag(field: number, wire: number): number[] {
  return varint((field << 3) | wire);
}

const meta = {
  date: new Date().toISOString().slice(0, 10),
  node: process.version,
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? "?"}`,
  seconds: Math.round((performance.now() - started) / 1000),
};
writeFileSync(JSON_OUT, JSON.stringify({ meta, rows }, null, 2) + "\n");
console.log(`written ${JSON_OUT} (${meta.seconds} s)`);
