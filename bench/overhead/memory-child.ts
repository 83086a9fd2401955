/**
 * Memory per open idle session, measured in a process of its own (run with
 * `--expose-gc`, by bench/overhead/memory.ts):
 *
 *   started      N Wsne sessions started through the typed API (runtime.start):
 *                the initiator's state, its local session object, the replay entry
 *   established  N Wsne sessions after Request and Reply through the buffer API:
 *                both ends with their Noise-derived pair channels (keys, ratchet
 *                state), idle, waiting for the next Extra
 *
 * A third argument names the mode (bench/overhead/modes.ts; default "full"):
 * "off" and "static" tell how much of an established session is its keys.
 *
 * Prints one JSON object on stdout: { kind, mode, sessions, bytes, ms }.
 */
import { create } from "@bufbuild/protobuf";
import { performance } from "node:perf_hooks";
import { RequestRequestSchema, RequestResponseSchema } from "../../gen/wsne/wsne_pb.js";
import { cluster } from "../../test/support/parties.js";
import { WsneSession } from "../../gen/wsne/wsne_secsession.js";
import { MODES } from "./modes.js";
import { WSNE_PRINCIPALS, wsneRoles } from "./wsne.js";

const [kind, count, modeId] = [process.argv[2], Number(process.argv[3]), process.argv[4] ?? "full"];
const mode = MODES.find((m) => m.id === modeId && m.kind === "secsession");
if (mode === undefined) throw new Error(`unknown mode ${modeId}: ${MODES.filter((m) => m.kind === "secsession").map((m) => m.id).join(", ")}`);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");
if (kind !== "started" && kind !== "established") throw new Error(`unknown kind ${String(kind)}: started or established`);
if (!Number.isInteger(count) || count <= 0) throw new Error(`session count must be a positive integer, got ${process.argv[3]}`);

function used(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

const roles = wsneRoles(mode.variant ? mode.variant(WsneSession) : WsneSession);
// One client opens every session here: the per-principal cap (1,000 by default) is lifted, and sessions do not expire
// while they are counted; what each holds is the same.
const c = cluster(Object.values(WSNE_PRINCIPALS), () => ({ ...mode.runtime, maxSessionsPerPrincipal: 0, sessionIdleTimeoutMs: 0 }));
const crt = c.peers[WSNE_PRINCIPALS.c]!.runtime;
const cp = crt.party(roles.c);
const wp = c.peers[WSNE_PRINCIPALS.w]!.runtime.party(roles.w);
const request = cp.plan.edges.find((e) => e.rpc === "/wsne.Worker/Request" && e.kind === "request")!;
const reply = cp.plan.edges.find((e) => e.rpc === "/wsne.Worker/Request" && e.kind === "response" && e.case?.field.name === "reply")!;
const ask = create(RequestRequestSchema, { query: "LHR-CDG" });
const answer = create(RequestResponseSchema, { outcome: { case: "reply", value: { result: 42n } } });

async function open(): Promise<void> {
  if (kind === "started") {
    await crt.start(roles.c, WSNE_PRINCIPALS);
    return;
  }
  const st = await cp.start(WSNE_PRINCIPALS);
  const q = await cp.wrap(st.key, request, ask);
  await wp.unwrap(q.bytes, request.rpc, ["request"], WSNE_PRINCIPALS.c);
  const r = await wp.wrap(st.key, reply, answer);
  await cp.unwrap(r.bytes, reply.rpc, ["response"], WSNE_PRINCIPALS.w);
}

// Warm up code paths and caches, so that the baseline holds them already.
for (let i = 0; i < 50; i++) await open();
const before = used();
const t = performance.now();
for (let i = 0; i < count; i++) {
  await open();
  if (i > 0 && i % 20_000 === 0) process.stderr.write(`    ${kind}: ${i} sessions\n`);
}
const ms = performance.now() - t;
const after = used();
process.stdout.write(`${JSON.stringify({ kind, mode: mode.id, sessions: count, bytes: after - before, ms })}\n`);
await c.close();
