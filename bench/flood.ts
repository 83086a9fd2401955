/**
 * Flood of abandoned sessions: one principal (mallory, known to the
 * resolver) opens `--sessions` Wsn sessions against a worker over gRPC on
 * loopback — each a Request and its Reply, after which the worker waits for
 * an Extra that never comes — and walks away. The worker runs in a child
 * process of its own, so its heap is measured alone (after a forced GC):
 * its growth, the sessions it holds and how many starts it refused, for
 * each configuration:
 *
 *   capped   the defaults: maxSessionsPerPrincipal 1,000, idle expiry 10 min
 *   uncapped maxSessionsPerPrincipal 0 (no cap), idle expiry off: what a flood cost before the bounds
 *   expiry   the cap, and an idle timeout of `--idle-ms`: measured again after the timeout
 *
 *   npm run bench:flood [-- --sessions 3000] [--concurrency 32] [--idle-ms 2000] [--only capped,expiry] [--json bench/flood.json]
 */
import { fork, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { WsnC, WsnW } from "../gen/wsn/wsn_secsession.js";
import { createSessionRuntime, generateIdentity, publicKeysOf, SecSessionError, staticResolver, type Identity, type SessionRuntimeOptions } from "../interceptors/index.js";
import { benchArgs } from "./args.js";

interface Config {
  readonly id: "capped" | "uncapped" | "expiry";
  readonly label: string;
  readonly runtime: Partial<SessionRuntimeOptions>;
}

interface Row {
  readonly config: Config["id"];
  readonly label: string;
  readonly sessions: number;
  readonly accepted: number;
  readonly refused: number;
  readonly held: number;
  readonly cap: number;
  readonly heapGrowthMiB: number;
  readonly perSessionKiB: number;
  readonly afterIdle?: { readonly held: number; readonly heapGrowthMiB: number };
  readonly seconds: number;
}

/** Identities as they cross the process boundary (the worker's child): byte arrays as `{ u8: [...] }`. */
type WireIdentity = unknown;
const toWire = (i: Identity): WireIdentity => JSON.parse(JSON.stringify(i, (_k, v: unknown) => (v instanceof Uint8Array ? { u8: [...v] } : v)));
const fromWire = (w: WireIdentity): Identity =>
  JSON.parse(JSON.stringify(w), (_k, v: unknown) => (v !== null && typeof v === "object" && "u8" in v ? Uint8Array.from((v as { u8: number[] }).u8) : v)) as Identity;

type ToWorker = { kind: "start"; worker: WireIdentity; mallory: WireIdentity; runtime: Partial<SessionRuntimeOptions> } | { kind: "measure" };
type FromWorker = { kind: "listening"; port: number } | { kind: "measured"; heapUsed: number; held: number; total: number; refused: number };

/** The worker's process: serves Wsn's w, its handler waiting for the Extra after each Reply. */
function worker(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("bench/flood.ts: run with node --expose-gc (npm run bench:flood)");
  let runtime: ReturnType<typeof createSessionRuntime> | undefined;
  process.on("message", (m: ToWorker) => {
    if (m.kind === "start") {
      const w = fromWire(m.worker);
      const mallory = fromWire(m.mallory);
      const resolver = staticResolver([w, mallory].map((i) => [i.id, publicKeysOf(i)] as const));
      runtime = createSessionRuntime({ identity: w, resolver, ...m.runtime });
      const server = new grpc.Server({ interceptors: [runtime.serverInterceptor()] });
      runtime.serve(server, WsnW, {
        request: async ({ next }) => {
          const s = await next.requestReply({ outcome: { case: "reply", value: { result: 1n } } });
          await s.receive().catch(() => undefined); // never comes; rejected when the session expires
        },
      });
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
        if (err) throw err;
        process.send!({ kind: "listening", port } satisfies FromWorker);
      });
      return;
    }
    for (let i = 0; i < 3; i++) gc();
    const rt = runtime!;
    process.send!({ kind: "measured", heapUsed: process.memoryUsage().heapUsed, held: rt.openSessions.heldBy("mallory"), total: rt.openSessions.total, refused: rt.metrics.refused["session-limit"] ?? 0 } satisfies FromWorker);
  });
}

function ask(child: ChildProcess, m: ToWorker, want: FromWorker["kind"]): Promise<FromWorker> {
  return new Promise((resolve) => {
    const on = (r: FromWorker) => {
      if (r.kind !== want) return;
      child.off("message", on);
      resolve(r);
    };
    child.on("message", on);
    child.send(m);
  });
}

const measure = async (child: ChildProcess) => (await ask(child, { kind: "measure" }, "measured")) as Extract<FromWorker, { kind: "measured" }>;
const MiB = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;

async function run(config: Config, sessions: number, concurrency: number, idleMs: number): Promise<Row> {
  const w = generateIdentity("worker");
  const mallory = generateIdentity("mallory");
  const child = fork(fileURLToPath(import.meta.url), ["--worker"], { execArgv: ["--expose-gc", "--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  try {
    const { port } = (await ask(child, { kind: "start", worker: toWire(w), mallory: toWire(mallory), runtime: config.runtime }, "listening")) as Extract<FromWorker, { kind: "listening" }>;
    const resolver = staticResolver([w, mallory].map((i) => [i.id, publicKeysOf(i)] as const));
    // mallory's side lives in this process: only the worker's is measured.
    const attacker = createSessionRuntime({ identity: mallory, resolver, peers: new Map([["worker", `127.0.0.1:${port}`]]), sessionIdleTimeoutMs: 0 });
    // One honest-looking session first, so the baseline includes the code paths and channel.
    await (await attacker.start(WsnC, { c: "mallory", w: "worker" })).request({ query: "warm-up" }).catch(() => undefined);
    const before = await measure(child);
    const t0 = performance.now();
    let accepted = 0;
    let refused = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < sessions) {
          next++;
          const s0 = await attacker.start(WsnC, { c: "mallory", w: "worker" });
          try {
            await s0.request({ query: "x" });
            accepted++;
          } catch (e: unknown) {
            if (!(e instanceof SecSessionError) || e.kind !== "session-limit") throw e;
            refused++;
          }
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const after = await measure(child);
    const growth = after.heapUsed - before.heapUsed;
    const cap = config.runtime.maxSessionsPerPrincipal ?? 1_000;
    const row: Row = {
      config: config.id,
      label: config.label,
      sessions,
      accepted,
      refused,
      held: after.held,
      cap,
      heapGrowthMiB: MiB(growth),
      perSessionKiB: after.held === 0 ? 0 : Math.round((growth / after.held / 1024) * 10) / 10,
      seconds: Math.round(seconds * 10) / 10,
    };
    attacker.close();
    if (config.id !== "expiry") return row;
    await new Promise((r) => setTimeout(r, idleMs * 1.5 + 500));
    const idle = await measure(child);
    return { ...row, afterIdle: { held: idle.held, heapGrowthMiB: MiB(idle.heapUsed - before.heapUsed) } };
  } finally {
    child.kill();
  }
}

function table(rows: readonly Row[], idleMs: number): string {
  const lines = [
    "| configuration | sessions opened | accepted | refused (`session-limit`) | held by the worker (cap) | worker heap growth | per held session | after the idle timeout |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of rows) {
    const cap = r.cap === 0 ? "no cap" : `cap ${r.cap}`;
    const idle = r.afterIdle === undefined ? "—" : `${r.afterIdle.held} held, ${r.afterIdle.heapGrowthMiB} MiB (after ${idleMs} ms)`;
    lines.push(`| ${r.label} | ${r.sessions} | ${r.accepted} | ${r.refused} | ${r.held} (${cap}) | ${r.heapGrowthMiB} MiB | ${r.perSessionKiB} KiB | ${idle} |`);
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const { opt, positive } = benchArgs();
  const sessions = positive("sessions", "3000");
  const concurrency = positive("concurrency", "32");
  const idleMs = positive("idle-ms", "2000");
  const configs: Config[] = [
    { id: "capped", label: "defaults (cap 1,000, idle 10 min)", runtime: {} },
    { id: "uncapped", label: "no cap, no expiry", runtime: { maxSessionsPerPrincipal: 0, sessionIdleTimeoutMs: 0 } },
    { id: "expiry", label: `cap 1,000, idle ${idleMs} ms`, runtime: { sessionIdleTimeoutMs: idleMs } },
  ];
  const only = opt("only", configs.map((c) => c.id).join(",")).split(",");
  for (const o of only) if (!configs.some((c) => c.id === o)) throw new Error(`--only takes ${configs.map((c) => c.id).join(", ")}, got ${o}`);
  const load = loadavg()[0]!;
  const rows: Row[] = [];
  for (const c of configs.filter((x) => only.includes(x.id))) {
    rows.push(await run(c, sessions, concurrency, idleMs));
    console.error(`${c.id}: done`);
  }
  const md = table(rows, idleMs);
  console.log(md);
  console.log(`\n1-minute load average ${load.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after; ${concurrency} sessions at a time.`);
  writeFileSync(opt("json", "bench/flood.json"), `${JSON.stringify({ date: new Date().toISOString(), sessions, concurrency, idleMs, loadBefore: load, loadAfter: loadavg()[0], rows }, null, 2)}\n`);
}

if (process.argv.includes("--worker")) worker();
else
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
