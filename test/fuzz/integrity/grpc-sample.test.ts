/**
 * The integrity property's sample over real gRPC on loopback (grpc.ts):
 * generated sessions played through the runtime's interceptors by the typed
 * role API, the network in each client chain sending several envelopes on
 * one call, replaying and rewriting; every defence on, no violation, and
 * every message a party accepted reached its session exactly once.
 * 50 cases by default (FUZZ_LONG=1: 300; FUZZ_GRPC_RUNS sets it), from
 * FUZZ_SEED.
 */
import test from "ava";
import fc from "fast-check";
import { LONG } from "../arbitraries.js";
import { runGrpcCase } from "./grpc.js";
import { caseArb } from "./run.js";
import { baseRegistry } from "./sessions.js";

const SEED = Number.parseInt(process.env["FUZZ_SEED"] ?? "", 10) || 0x6e_5e55;
const RUNS = Number.parseInt(process.env["FUZZ_GRPC_RUNS"] ?? "", 10) || (LONG ? 300 : 50);

baseRegistry();

test.serial(`session integrity over gRPC on loopback: ${RUNS} generated sessions, several envelopes on one call, replays and rewrites`, async (t) => {
  t.timeout(15 * 60_000);
  const start = performance.now();
  const calls = { honest: 0, framed: 0, replayed: 0, rewritten: 0 };
  let cases = 0;
  let deliveries = 0;
  for (let k = 0; cases < RUNS; k++) {
    for (const spec of fc.sample(caseArb, { seed: SEED + k, numRuns: 50 })) {
      if (cases >= RUNS) break;
      const r = await runGrpcCase(spec);
      if (r.rejected !== undefined) continue;
      cases++;
      deliveries += r.deliveries;
      for (const x of Object.keys(calls) as Array<keyof typeof calls>) calls[x] += r.calls[x];
      if (r.violations.length > 0) t.fail(`seed ${SEED + k}, case ${cases}: ${JSON.stringify(spec)}\n${r.violations.join("\n")}`);
    }
  }
  t.log(`${cases} cases over gRPC in ${((performance.now() - start) / 1000).toFixed(1)} s from seed ${SEED}: ${calls.honest} honest calls, ${calls.framed} calls of several envelopes, ${calls.replayed} replays, ${calls.rewritten} rewrites; ${deliveries} messages reached their sessions`);
  t.true(calls.framed > cases / 2 && calls.replayed > 0 && calls.rewritten > 0);
  t.true(deliveries > cases);
});
