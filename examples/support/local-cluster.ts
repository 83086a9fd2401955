/**
 * All the parties of an example in one process: one identity, SessionRuntime
 * and gRPC server per principal, on 127.0.0.1, sharing one key resolver and
 * address book. Quiet unless `verbose` is set.
 *
 * @example
 * const cluster = localCluster(["client", "worker"]);
 * serveW(cluster.peer("worker"), { trace });
 * await cluster.run(() => runC(cluster.peer("client").runtime, { c: "client", w: "worker" }, choices, trace));
 */
import * as grpc from "@grpc/grpc-js";
import { createSessionRuntime, generateIdentity, publicKeysOf, staticResolver, type AlertKind, type SecurityAlert, type SessionRuntime } from "secsession";

export interface LocalPeer {
  readonly id: string;
  readonly runtime: SessionRuntime;
  readonly server: grpc.Server;
}

export interface LocalClusterOptions {
  /** Print addresses and security alerts. */
  readonly verbose?: boolean;
  /** Where verbose output goes (default: stdout). */
  readonly print?: (line: string) => void;
}

export interface LocalCluster {
  readonly peers: Readonly<Record<string, LocalPeer>>;
  /** Principal -> `host:port`, filled by `listen`. */
  readonly addresses: Readonly<Record<string, string>>;
  /** Every refused message, with the principal that refused it. */
  readonly alerts: ReadonlyArray<SecurityAlert & { readonly at: string }>;
  peer(id: string): LocalPeer;
  /** Refusals per principal (`runtime.metrics.refused`). */
  refused(): Record<string, Partial<Record<AlertKind, number>>>;
  /** Binds every server on 127.0.0.1 (call after serving the roles). */
  listen(): Promise<void>;
  /** Listens, runs `body`, and closes the cluster whatever happens. */
  run<T>(body: () => Promise<T>): Promise<T>;
  close(): void;
}

export function localCluster(ids: readonly string[], options: LocalClusterOptions = {}): LocalCluster {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const say = (line: string) => options.verbose === true && print(line);
  const identities = ids.map((id) => generateIdentity(id));
  const resolver = staticResolver(identities.map((i) => [i.id, publicKeysOf(i)] as const));
  const addresses: Record<string, string> = {};
  const alerts: Array<SecurityAlert & { at: string }> = [];
  const peers: Record<string, LocalPeer> = {};
  for (const identity of identities) {
    const runtime = createSessionRuntime({ identity, resolver, peers: addresses });
    runtime.on("securityAlert", (a) => {
      alerts.push({ ...a, at: identity.id });
      say(`  ! ${identity.id} refused a message (${a.kind}): ${a.reason}`);
    });
    const server = new grpc.Server({ interceptors: [runtime.serverInterceptor()] });
    peers[identity.id] = { id: identity.id, runtime, server };
  }
  const cluster: LocalCluster = {
    peers,
    addresses,
    alerts,
    peer(id) {
      const p = peers[id];
      if (p === undefined) throw new Error(`local cluster: no peer ${id} (peers: ${ids.join(", ")})`);
      return p;
    },
    refused: () => Object.fromEntries(Object.values(peers).map((p) => [p.id, { ...p.runtime.metrics.refused }])),
    async listen() {
      for (const p of Object.values(peers)) {
        const port = await new Promise<number>((resolve, reject) =>
          p.server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, n) => (err ? reject(err) : resolve(n))),
        );
        addresses[p.id] = `127.0.0.1:${port}`;
        say(`  ${p.id} listens on ${addresses[p.id]}`);
      }
    },
    async run(body) {
      await cluster.listen();
      try {
        return await body();
      } finally {
        cluster.close();
      }
    },
    close() {
      for (const p of Object.values(peers)) {
        p.runtime.close();
        p.server.forceShutdown();
      }
    },
  };
  return cluster;
}
