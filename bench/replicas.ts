/**
 * Replicated roles benchmark: throughput of Conf sessions when confman is
 * played by one to three replica processes (examples/mesh/) sharing one Redis,
 * or a Redis Cluster (six redis-server processes on loopback: three masters
 * with a replica each, `replicaAcks: 1`), behind a round-robin client; pc and
 * the author play in this process. Every process — the driver, the replicas,
 * every redis-server — shares this machine's cores (two, here): the figures
 * compare configurations on one machine, not what a cluster of machines does.
 *
 * One session: Cfp; Upload / BadFormat; Upload / Ok; Submit, Paper,
 * ReqRevision, Revise; Submit, Paper, Close / Done; Accept / FinalVersion —
 * 15 messages, 6 of them received by confman. `--concurrency` sessions run at
 * a time; a run is `--sessions` sessions; the figure is the median of
 * `--runs` runs, after a warm-up.
 *
 *   npm run bench:replicas [-- --replicas 1,2,3] [--redis single,cluster] [--sessions 60] [--concurrency 8] [--runs 3] [--json bench/replicas.json]
 *   REDIS_URL=redis://host:6379 npm run bench:replicas   (default: a private redis-server; the cluster is always private)
 */
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { runPc } from "../examples/conf/parties.js";
import { startMesh } from "../examples/mesh/mesh.js";
import { startRedis, type LocalRedis } from "../examples/mesh/redis-server.js";
import { startRedisCluster, type LocalCluster } from "../test/support/redis-cluster.js";
import { benchArgs } from "./args.js";

const MESSAGES_PER_SESSION = 15;

const { opt, positive } = benchArgs();
const replicaCounts = opt("replicas", "1,2,3").split(",").map((x) => {
  const n = Number(x);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--replicas takes positive integers separated by commas, got ${x}`);
  return n;
});
const sessions = positive("sessions", "60");
const concurrency = positive("concurrency", "8");
const runs = positive("runs", "3");
const kinds = opt("redis", "single,cluster").split(",").map((x) => {
  if (x !== "single" && x !== "cluster") throw new Error(`--redis takes single and/or cluster, got ${x}`);
  return x;
});
const jsonPath = opt("json", "bench/replicas.json");

interface Row {
  redis: "single" | "cluster";
  replicas: number;
  sessionsPerSecond: number;
  messagesPerSecond: number;
  confmanMessagesPerReplicaSecond: number;
  runsSessionsPerSecond: number[];
  /** CPU time of this process (pc and the author) over wall time during the runs: near 100, the driver is the bottleneck. */
  driverCpuPercent: number;
  refused: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

const loadBefore = loadavg()[0]!;
let redis: LocalRedis | undefined;
let cluster: LocalCluster | undefined;
const rows: Row[] = [];
try {
  for (const kind of kinds) {
  const where =
    kind === "single"
      ? { redisUrl: process.env["REDIS_URL"] ?? (redis = await startRedis()).url }
      : { redisRootNodes: [...(cluster = await startRedisCluster()).rootNodes] };
  for (const n of replicaCounts) {
    process.stderr.write(`${kind} Redis, ${n} replica(s): starting\n`);
    const mesh = await startMesh({ replicas: n, ...where, author: { files: ["a.docx", "a.pdf"], rounds: ["submit", "submit"] } });
    try {
      const one = async (): Promise<void> => {
        const outcome = await runPc(mesh.pc, mesh.bindings, { call: "CSF", reviews: ["revise", "close"], verdicts: ["accept"] });
        if (outcome !== "accepted") throw new Error(`a session ended ${outcome}`);
      };
      const batch = async (count: number): Promise<number> => {
        let next = 0;
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: Math.min(concurrency, count) }, async () => {
            while (next < count) {
              next++;
              await one();
            }
          }),
        );
        return (performance.now() - t0) / 1000;
      };
      await batch(Math.min(20, sessions)); // warm-up: connections, JIT, every replica reached
      const rates: number[] = [];
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      for (let r = 0; r < runs; r++) {
        const s = await batch(sessions);
        rates.push(sessions / s);
        process.stderr.write(`  run ${r + 1}: ${round(sessions / s)} sessions/s\n`);
      }
      const cpu = process.cpuUsage(cpu0);
      const driverCpuPercent = round(((cpu.user + cpu.system) / 1000 / (performance.now() - wall0)) * 100, 0);
      const sps = median(rates);
      rows.push({
        redis: kind,
        replicas: n,
        sessionsPerSecond: round(sps),
        messagesPerSecond: round(sps * MESSAGES_PER_SESSION, 0),
        confmanMessagesPerReplicaSecond: round((sps * 6) / n),
        runsSessionsPerSecond: rates.map((x) => round(x)),
        driverCpuPercent,
        refused: mesh.alerts.length + mesh.localAlerts.length,
      });
    } finally {
      await mesh.close();
    }
  }
  await redis?.stop();
  await cluster?.stop();
  redis = cluster = undefined;
  }
} finally {
  await redis?.stop();
  await cluster?.stop();
}

const result = {
  benchmark: "replicas",
  date: new Date().toISOString().slice(0, 10),
  machine: { cpus: cpus().length, note: `every process (driver, replicas, redis-servers) shares these ${cpus().length} cores`, node: process.version, loadAverage1m: { before: round(loadBefore, 2), after: round(loadavg()[0]!, 2) } },
  session: "Conf: 15 messages, 6 received by confman",
  sessionsPerRun: sessions,
  concurrency,
  runs,
  rows,
};
writeFileSync(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
const table = [
  "| Redis | confman replicas | sessions/s | messages/s | confman messages/s per replica | runs (sessions/s) | driver CPU | refused |",
  "| --- | --- | --- | --- | --- | --- | --- | --- |",
  ...rows.map(
    (r) => `| ${r.redis === "single" ? "one node" : "cluster, 3 masters + 3 replicas"} | ${r.replicas} | ${r.sessionsPerSecond} | ${r.messagesPerSecond} | ${r.confmanMessagesPerReplicaSecond} | ${r.runsSessionsPerSecond.join(", ")} | ${r.driverCpuPercent} % | ${r.refused} |`,
  ),
];
process.stdout.write(`${table.join("\n")}\n`);
process.stdout.write(`All on one machine with ${cpus().length} cores shared by every process: the driver, the replicas and every redis-server (one for the one-node rows, six for the cluster rows).\n`);
process.stderr.write(`load average (1 min): ${round(loadBefore, 2)} before, ${round(loadavg()[0]!, 2)} after, on ${cpus().length} cores\n`);
process.stderr.write(`written to ${jsonPath}\n`);
