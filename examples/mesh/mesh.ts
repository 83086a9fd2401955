/**
 * Conf with its conference manager replicated: `replicas` processes of
 * confman (examples/mesh/replica.ts) behind one round-robin address, sharing
 * sessions and session starts in one Redis; pc and the author play in this
 * process.
 *
 * Round robin is grpc-js's own load balancing: the confman principal's
 * address is `ipv4:127.0.0.1:<p1>,127.0.0.1:<p2>,…` and the clients of pc and
 * the author carry the service config `round_robin`, which picks the next
 * ready replica for every call — the per-request balancing a service mesh
 * proxy does, without a proxy to run. The same service config retries a call
 * refused with UNAVAILABLE (a replica whose Redis is unreachable, a replica
 * going down): the retry resends the same sealed envelope, which the replicas
 * accept at most once.
 */
import * as grpc from "@grpc/grpc-js";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { createSessionRuntime, generateIdentity, keyringJson, publicKeysOf, staticResolver, type SecurityAlert, type SessionRuntime } from "secsession";
import { writeIdentity } from "../../cli/identity-file.js";
import { serveAuthor, servePc } from "../conf/parties.js";
import type { Trace } from "../support/trace.js";
import type { Handled } from "./confman.js";
import type { ReplicaConfig } from "./replica.js";

const here = dirname(fileURLToPath(import.meta.url));

/** The channel options of a client that spreads calls over replicas and retries UNAVAILABLE. */
export function roundRobinOptions(retry: { maxAttempts?: number; initialBackoff?: string; maxBackoff?: string } = {}): grpc.ChannelOptions {
  return {
    "grpc.service_config": JSON.stringify({
      loadBalancingConfig: [{ round_robin: {} }],
      methodConfig: [
        {
          name: [{}],
          retryPolicy: {
            maxAttempts: retry.maxAttempts ?? 5,
            initialBackoff: retry.initialBackoff ?? "0.2s",
            maxBackoff: retry.maxBackoff ?? "1s",
            backoffMultiplier: 2,
            retryableStatusCodes: ["UNAVAILABLE"],
          },
        },
      ],
    }),
    // A restarted replica is used again within a second.
    "grpc.initial_reconnect_backoff_ms": 100,
    "grpc.max_reconnect_backoff_ms": 1000,
  };
}

export interface MeshOptions {
  readonly replicas: number;
  /** One Redis: its URL. */
  readonly redisUrl?: string;
  /** Or a Redis Cluster: its nodes' URLs (the replicas use `rootNodes`). */
  readonly redisRootNodes?: readonly string[];
  /** The author's behaviour (examples/conf/parties.ts). */
  readonly author?: { readonly files: readonly string[]; readonly rounds: ReadonlyArray<"submit" | "withdraw">; readonly trace?: Trace };
  /** Redis command deadline in the replicas (ms). */
  readonly timeoutMs?: number;
  /** Lines the replicas write on stderr. */
  readonly stderr?: (line: string) => void;
}

export interface Mesh {
  /** Runtimes of pc and the author, in this process. */
  readonly pc: SessionRuntime;
  readonly author: SessionRuntime;
  /** Principals of the roles. */
  readonly bindings: { readonly pc: string; readonly author: string; readonly confman: string };
  /** Every message a replica handled, in the order reported. */
  readonly handled: Handled[];
  /** Every message a replica refused. */
  readonly alerts: Array<Pick<SecurityAlert, "kind" | "edge" | "reason"> & { replica: string }>;
  /** Refusals by pc and the author. */
  readonly localAlerts: SecurityAlert[];
  /** Names of the replicas (`confman-1`, …). */
  readonly names: readonly string[];
  /** Stops replica `i` at once (SIGKILL). */
  kill(i: number): Promise<void>;
  /** Starts replica `i` again on its port. */
  restart(i: number): Promise<void>;
  close(): Promise<void>;
}

interface Replica {
  readonly name: string;
  port: number;
  child: ChildProcess | undefined;
}

/** Starts the replicas, pc and the author. */
export async function startMesh(options: MeshOptions): Promise<Mesh> {
  if (!Number.isInteger(options.replicas) || options.replicas < 1) throw new RangeError(`mesh: replicas must be a positive integer, got ${options.replicas}`);
  const dir = mkdtempSync(join(tmpdir(), "secsession-mesh-"));
  const ids = { pc: generateIdentity("committee"), author: generateIdentity("alice"), confman: generateIdentity("easychair") };
  const all = Object.values(ids);
  const resolver = staticResolver(all.map((i) => [i.id, publicKeysOf(i)] as const));
  writeFileSync(join(dir, "keyring.json"), keyringJson(all.map((i) => [i.id, publicKeysOf(i)] as const)));
  writeIdentity(join(dir, "easychair.key"), ids.confman);
  const storageKey = randomBytes(32).toString("hex");

  const handled: Handled[] = [];
  const alerts: Mesh["alerts"] = [];
  const localAlerts: SecurityAlert[] = [];
  const addresses: Record<string, string> = {};
  const channelOptions = roundRobinOptions();
  const local = (identity: (typeof ids)["pc"]) => {
    const runtime = createSessionRuntime({ identity, resolver, peers: addresses, channelOptions });
    runtime.on("securityAlert", (a) => localAlerts.push(a));
    const server = new grpc.Server({ interceptors: [runtime.serverInterceptor()] });
    return { runtime, server };
  };
  const pc = local(ids.pc);
  const author = local(ids.author);
  servePc(pc.runtime, pc.server);
  serveAuthor(author.runtime, author.server, options.author ?? { files: ["paper.pdf"], rounds: ["submit"] });
  for (const [p, principal] of [
    [pc, ids.pc.id],
    [author, ids.author.id],
  ] as const) {
    const port = await new Promise<number>((resolve, reject) => p.server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, n) => (e ? reject(e) : resolve(n))));
    addresses[principal] = `127.0.0.1:${port}`;
  }

  const replicas: Replica[] = Array.from({ length: options.replicas }, (_, i) => ({ name: `confman-${i + 1}`, port: 0, child: undefined }));
  const launch = (r: Replica): Promise<void> => {
    const config: ReplicaConfig = {
      name: r.name,
      port: r.port,
      keyFile: join(dir, "easychair.key"),
      keyring: join(dir, "keyring.json"),
      ...(options.redisRootNodes === undefined ? { redisUrl: options.redisUrl! } : { redisRootNodes: [...options.redisRootNodes] }),
      storageKey,
      peers: { [ids.pc.id]: addresses[ids.pc.id]!, [ids.author.id]: addresses[ids.author.id]! },
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    };
    const file = join(dir, `${r.name}.json`);
    writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
    const child = spawn(process.execPath, ["--import", "tsx", join(here, "replica.ts"), file], { stdio: ["ignore", "pipe", "pipe"], cwd: join(here, "../..") });
    r.child = child;
    createInterface({ input: child.stderr! }).on("line", (l) => options.stderr?.(`[${r.name}] ${l}`));
    return new Promise((resolve, reject) => {
      let ready = false;
      createInterface({ input: child.stdout! }).on("line", (line) => {
        let o: { ready?: number; handled?: Handled; alert?: Mesh["alerts"][number] };
        try {
          o = JSON.parse(line) as typeof o;
        } catch {
          return;
        }
        if (o.ready !== undefined) {
          r.port = o.ready;
          ready = true;
          resolve();
        }
        if (o.handled !== undefined) handled.push(o.handled);
        if (o.alert !== undefined) alerts.push(o.alert);
      });
      child.once("exit", (code, signal) => {
        if (!ready) reject(new Error(`mesh: replica ${r.name} exited (${code ?? signal}) before listening`));
      });
    });
  };
  await Promise.all(replicas.map(launch));
  addresses[ids.confman.id] = `ipv4:${replicas.map((r) => `127.0.0.1:${r.port}`).join(",")}`;

  const exited = (c: ChildProcess): Promise<void> => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((resolve) => c.once("exit", () => resolve())));
  const at = (i: number): Replica => {
    const r = replicas[i];
    if (r === undefined) throw new RangeError(`mesh: no replica ${i} (0…${replicas.length - 1})`);
    return r;
  };
  return {
    pc: pc.runtime,
    author: author.runtime,
    bindings: { pc: ids.pc.id, author: ids.author.id, confman: ids.confman.id },
    handled,
    alerts,
    localAlerts,
    names: replicas.map((r) => r.name),
    async kill(i) {
      const c = at(i).child;
      if (c === undefined) return;
      c.kill("SIGKILL");
      await exited(c);
    },
    async restart(i) {
      await launch(at(i));
    },
    async close() {
      for (const p of [pc, author]) {
        p.runtime.close();
        p.server.forceShutdown();
      }
      await Promise.all(
        replicas.map(async (r) => {
          if (r.child === undefined) return;
          r.child.kill("SIGTERM");
          const t = setTimeout(() => r.child?.kill("SIGKILL"), 3000);
          await exited(r.child);
          clearTimeout(t);
        }),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
