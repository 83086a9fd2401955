/**
 * A private Redis Cluster per test file: six redis-server processes on free
 * loopback ports (`--cluster-enabled yes`, no persistence, a temporary
 * directory), joined by `redis-cli --cluster create … --cluster-replicas 1`
 * into three masters with a replica each. Started before the file's tests,
 * every process stopped by its PID after them (also when a test failed, and
 * when this process exits). A missing redis-server fails the file with a
 * clear message; nothing is skipped.
 *
 * @example
 * const cluster = useRedisCluster(test);
 * test("…", async (t) => { const store = createRedisStore({ rootNodes: cluster().rootNodes, storageKey }); … });
 */
import type { TestFn } from "ava";
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireRedisServer } from "../../examples/mesh/redis-server.js";

const SERVER = process.env["REDIS_SERVER"] ?? "redis-server";
const CLI = process.env["REDIS_CLI"] ?? "redis-cli";

/** One redis-server of the cluster. */
export interface ClusterNode {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** false once killed. */
  readonly alive: () => boolean;
  /** SIGKILL by PID: the node dies without a word to anyone. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT by PID: the node stops answering (and replicating), then goes on. */
  pause(): void;
  resume(): void;
  /** Starts a killed node again on its port with its nodes.conf: it rejoins the cluster (as a replica, if it was failed over). */
  restart(): Promise<void>;
  /** CLUSTER MYID. */
  id(): Promise<string>;
}

export interface LocalCluster {
  readonly nodes: readonly ClusterNode[];
  /** Every node's URL (for `rootNodes`). */
  readonly rootNodes: readonly string[];
  /** `redis-cli -p <port> <args>`; its output. */
  cli(port: number, ...args: string[]): Promise<string>;
  /** The node serving `slot` as master (asked of a live node). */
  masterOf(slot: number): Promise<ClusterNode>;
  /** The port of each slot's master (16384 entries), as a live node sees it. */
  owners(): Promise<number[]>;
  /** The live replicas of a master. */
  replicasOf(master: ClusterNode): Promise<ClusterNode[]>;
  /** The slot of `key` (CLUSTER KEYSLOT). */
  keyslot(key: string): Promise<number>;
  /** Waits until every live node reports cluster_state:ok and every master has a replica in sync (or `replicas: false`). */
  settled(options?: { replicas?: boolean; timeoutMs?: number }): Promise<void>;
  /** Stops every node (SIGKILL by PID) and removes the directory. */
  stop(): Promise<void>;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

/** A free port p whose cluster bus port p + 10000 is free too. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const p = 20_000 + Math.floor(Math.random() * 35_000);
    if (taken.has(p) || taken.has(p + 10_000) || taken.has(p - 10_000)) continue;
    if ((await portFree(p)) && (await portFree(p + 10_000))) {
      taken.add(p);
      return p;
    }
  }
  throw new Error("no free pair of loopback ports for a cluster node");
}

function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { encoding: "utf8", timeout: timeoutMs }, (err, stdout, stderr) => (err === null ? resolve(stdout) : reject(new Error(`${cmd} ${args.join(" ")}: ${err.message}\n${stdout}\n${stderr}`)))),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts six nodes and creates the cluster (three masters, one replica each). */
export async function startRedisCluster(count = 6): Promise<LocalCluster> {
  requireRedisServer();
  const v = spawnSync(CLI, ["--version"], { encoding: "utf8" });
  if (v.error !== undefined || v.status !== 0) {
    throw new Error(`a Redis Cluster is needed here: ${CLI} could not run (${v.error?.message ?? v.stderr}). Debian's redis-server package brings it (redis-tools), or set REDIS_CLI to its path.`);
  }
  const dir = mkdtempSync(join(tmpdir(), "secsession-redis-cluster-"));
  const taken = new Set<number>();
  const children: ChildProcess[] = [];
  const killAll = (): void => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
        process.kill(c.pid, "SIGCONT");
        process.kill(c.pid, "SIGKILL");
      }
    }
  };
  process.once("exit", killAll);
  const nodes: ClusterNode[] = [];
  const cli = (port: number, ...args: string[]) => run(CLI, ["-h", "127.0.0.1", "-p", String(port), ...args], 10_000);
  try {
    for (let i = 0; i < count; i++) {
      const port = await freeClusterPort(taken);
      let child: ChildProcess;
      let output = "";
      const exited = () => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once("exit", () => r())));
      const launch = async (): Promise<void> => {
        output = "";
        child = spawn(
          SERVER,
          [
            "--port", String(port), "--bind", "127.0.0.1", "--protected-mode", "no", "--dir", dir,
            "--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${port}.conf`), "--cluster-node-timeout", "1000",
            "--appendonly", "no", "--save", "", "--dbfilename", `dump-${port}.rdb`,
          ],
          { stdio: ["ignore", "pipe", "pipe"] },
        );
        child.stdout!.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
        child.stderr!.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
        children.push(child);
        const end = Date.now() + 10_000;
        for (;;) {
          if (child.exitCode !== null) throw new Error(`redis-server on ${port} exited with ${child.exitCode}: ${output}`);
          if ((await cli(port, "PING").catch(() => "")).trim() === "PONG") break;
          if (Date.now() > end) throw new Error(`redis-server on ${port} did not answer PING: ${output}`);
          await sleep(25);
        }
      };
      await launch();
      nodes.push({
        port,
        url: `redis://127.0.0.1:${port}`,
        get pid() {
          return child.pid!;
        },
        alive: () => child.exitCode === null && child.signalCode === null,
        async kill() {
          if (child.exitCode === null && child.signalCode === null) {
            process.kill(child.pid!, "SIGCONT");
            process.kill(child.pid!, "SIGKILL");
          }
          await exited();
        },
        pause: () => void process.kill(child.pid!, "SIGSTOP"),
        resume: () => void process.kill(child.pid!, "SIGCONT"),
        async restart() {
          if (child.exitCode === null && child.signalCode === null) throw new Error(`node ${port} is running`);
          await launch();
        },
        id: async () => (await cli(port, "CLUSTER", "MYID")).trim(),
      });
    }
    await run(CLI, ["--cluster", "create", ...nodes.map((n) => `127.0.0.1:${n.port}`), "--cluster-replicas", "1", "--cluster-yes"], 60_000);
  } catch (e: unknown) {
    killAll();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  const live = () => nodes.filter((n) => n.alive());
  const cluster: LocalCluster = {
    nodes,
    rootNodes: nodes.map((n) => n.url),
    cli,
    async keyslot(key) {
      return Number((await cli(live()[0]!.port, "CLUSTER", "KEYSLOT", key)).trim());
    },
    async owners() {
      for (const n of live()) {
        const out = await cli(n.port, "--json", "CLUSTER", "SLOTS").catch(() => undefined);
        if (out === undefined) continue;
        const ports: number[] = new Array(16384).fill(0);
        for (const [from, to, [, port]] of JSON.parse(out) as [number, number, [string, number]][]) ports.fill(Number(port), from, to + 1);
        return ports;
      }
      throw new Error("no live node answers CLUSTER SLOTS");
    },
    async replicasOf(master) {
      const out = await cli(master.port, "CLUSTER", "REPLICAS", await master.id());
      const ports = [...out.matchAll(/127\.0\.0\.1:(\d+)@/g)].map((m) => Number(m[1]));
      return nodes.filter((n) => n.alive() && ports.includes(n.port));
    },
    async masterOf(slot) {
      // CLUSTER SLOTS as redis-cli prints it: ranges, each followed by its master's host, port and id, then replicas.
      for (const n of live()) {
        const out = await cli(n.port, "--json", "CLUSTER", "SLOTS").catch(() => undefined);
        if (out === undefined) continue;
        const ranges = JSON.parse(out) as [number, number, [string, number, string], ...unknown[]][];
        const r = ranges.find(([from, to]) => from <= slot && slot <= to);
        const m = r === undefined ? undefined : nodes.find((x) => x.port === Number(r[2][1]));
        if (m !== undefined) return m;
      }
      throw new Error(`no live node knows the master of slot ${slot}`);
    },
    async settled(options = {}) {
      const end = Date.now() + (options.timeoutMs ?? 30_000);
      for (;;) {
        let ok = true;
        for (const n of live()) {
          const info = await cli(n.port, "CLUSTER", "INFO").catch(() => "");
          if (!/cluster_state:ok/.test(info)) ok = false;
          if (ok && options.replicas !== false) {
            const repl = await cli(n.port, "INFO", "replication").catch(() => "");
            // A master with slots has a replica online; a replica's link to its master is up.
            const mine = (await cli(n.port, "CLUSTER", "NODES").catch(() => "")).split("\n").find((l) => l.includes("myself")) ?? "";
            const hasSlots = mine.split(" ").length > 8;
            if (/role:master/.test(repl) && hasSlots && !/slave0:.*state=online/.test(repl)) ok = false;
            if (/role:slave/.test(repl) && !/master_link_status:up/.test(repl)) ok = false;
          }
          if (!ok) break;
        }
        if (ok) return;
        if (Date.now() > end) throw new Error("the cluster did not settle (cluster_state:ok on every node, replicas in sync)");
        await sleep(100);
      }
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.kill()));
      process.removeListener("exit", killAll);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await cluster.settled();
  return cluster;
}

/** Starts a Redis Cluster before the file's tests and stops it after (always); returns its accessor. */
export function useRedisCluster(test: TestFn): () => LocalCluster {
  let cluster: LocalCluster | undefined;
  test.before(async () => {
    cluster = await startRedisCluster();
  });
  test.after.always(async () => {
    await cluster?.stop();
  });
  return () => {
    if (cluster === undefined) throw new Error("the test Redis Cluster is not running (did test.before fail?)");
    return cluster;
  };
}
