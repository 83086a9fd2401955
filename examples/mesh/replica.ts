/**
 * One replica of Conf's confman, as its own process: loads the confman
 * identity and the keyring from files, keeps sessions and session starts in
 * Redis, serves confman with serveReplicated on the given port, and reports
 * on stdout, one JSON object per line:
 *
 *   {"ready":<port>}   listening
 *   {"handled":{...}}  a message this replica handled (examples/mesh/confman.ts)
 *   {"alert":{...}}    a message this replica refused
 *
 *   tsx examples/mesh/replica.ts <config.json>
 *
 * config.json (mode 0600: it holds the storage key) = { name, port, keyFile,
 * keyring, redisUrl, storageKey (hex), peers: { principal: address } }.
 */
import * as grpc from "@grpc/grpc-js";
import { readFileSync } from "node:fs";
import { createRedisReplayCache, createRedisStore, createSessionRuntime, keyringResolver } from "secsession";
import { loadIdentity } from "../../cli/identity-file.js";
import { serveConfmanReplica } from "./confman.js";

/** What a replica process reads from its config file. */
export interface ReplicaConfig {
  readonly name: string;
  /** 0: any free port. */
  readonly port: number;
  readonly keyFile: string;
  readonly keyring: string;
  /** One Redis, or (redisRootNodes) a Redis Cluster. */
  readonly redisUrl?: string;
  readonly redisRootNodes?: readonly string[];
  /** 64 hex digits. */
  readonly storageKey: string;
  readonly peers: Readonly<Record<string, string>>;
  /** Redis command deadline (ms). */
  readonly timeoutMs?: number;
}

const path = process.argv[2];
if (path === undefined) throw new Error("usage: tsx examples/mesh/replica.ts <config.json>");
const config = JSON.parse(readFileSync(path, "utf8")) as ReplicaConfig;
if (!/^[0-9a-f]{64}$/.test(config.storageKey)) throw new Error(`${path}: storageKey must be 64 hex digits`);
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

const storageKey = new Uint8Array(Buffer.from(config.storageKey, "hex"));
const timeoutMs = config.timeoutMs ?? 1000;
const connection = config.redisRootNodes !== undefined ? { rootNodes: config.redisRootNodes } : { url: config.redisUrl! };
const store = createRedisStore({ ...connection, storageKey, timeoutMs });
storageKey.fill(0); // the store keeps its own copy
const replayCache = createRedisReplayCache({ ...connection, timeoutMs });
const runtime = createSessionRuntime({ identity: loadIdentity(config.keyFile), resolver: keyringResolver(config.keyring), peers: config.peers, store, replayCache });
runtime.on("securityAlert", (a) => say({ alert: { replica: config.name, kind: a.kind, edge: a.edge, reason: a.reason } }));
const server = new grpc.Server({ interceptors: [runtime.serverInterceptor()] });
serveConfmanReplica(runtime, server, config.name, (h) => say({ handled: h }));
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync(`127.0.0.1:${config.port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
);
say({ ready: port });

const stop = (): void => {
  runtime.close();
  server.forceShutdown();
  void Promise.all([store.close(), replayCache.close()]).finally(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
