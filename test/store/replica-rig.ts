/**
 * Conf with its conference manager (confman) replicated, for tests that need
 * to hold messages in their hands: pc and the author play with the
 * transport-agnostic Party API (wrap/unwrap) in this process, each with its
 * own runtime and a gRPC server for what confman sends them; the confman
 * replicas are runtimes sharing one Redis, each behind its own gRPC server
 * on loopback, serving confman with serveReplicated
 * (examples/mesh/confman.ts). `send` delivers envelope bytes to one replica
 * of our choosing over real gRPC, so a test can deliver the same bytes to
 * two replicas at once, or again later.
 */
import * as grpc from "@grpc/grpc-js";
import { create, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { randomBytes } from "node:crypto";
import { CfpRequestSchema, CloseRequestSchema, RejectRequestSchema, ReqRevisionRequestSchema, SubmitRequestSchema, UploadRequestSchema, WithdrawRequestSchema } from "../../gen/conf/conf_pb.js";
import { ConfAuthor, ConfConfman, ConfPc, ConfSession } from "../../gen/conf/conf_secsession.js";
import { serveConfmanReplica, type Handled } from "../../examples/mesh/confman.js";
import { ALERT_KIND_METADATA } from "../../interceptors/errors.js";
import {
  createRedisReplayCache,
  createRedisStore,
  createSessionRuntime,
  generateIdentity,
  publicKeysOf,
  staticResolver,
  type Identity,
  type KeyResolver,
  type Party,
  type RedisConnectionOptions,
  type RedisReplayCache,
  type RedisStore,
  type SecurityAlert,
  type SessionRuntime,
} from "../../interceptors/index.js";

/** Conf's edges by name. */
export const E = {
  cfp: 0,
  upload: 1,
  uploadOk: 3,
  withdraw: 4,
  submit: 6,
  paper: 7,
  reqRevision: 8,
  close: 10,
  done: 11,
  reject: 14,
} as const;

export const RPC = {
  upload: "/conf.ConferenceManager/Upload",
  submit: "/conf.ConferenceManager/Submit",
  withdraw: "/conf.ConferenceManager/Withdraw",
  reqRevision: "/conf.ConferenceManager/ReqRevision",
  close: "/conf.ConferenceManager/Close",
} as const;

/** What a replica answered: the response or receipt bytes, or the refusal's status and alert kind. */
export type Delivery = { readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false; readonly code: grpc.status; readonly kind: string; readonly details: string };

export interface Replica {
  readonly name: string;
  readonly runtime: SessionRuntime;
  readonly party: Party;
  readonly store: RedisStore;
  readonly replayCache: RedisReplayCache;
  readonly address: string;
  readonly alerts: SecurityAlert[];
}

export interface Rig {
  readonly ids: { readonly pc: Identity; readonly author: Identity; readonly confman: Identity };
  readonly resolver: KeyResolver;
  readonly storageKey: Uint8Array;
  readonly pc: { readonly runtime: SessionRuntime; readonly party: Party };
  readonly author: { readonly runtime: SessionRuntime; readonly party: Party };
  readonly replicas: Replica[];
  /** Every message a replica's handler ran for. */
  readonly handled: Handled[];
  /** Adds a replica (its own Redis clients, runtime and server); `serve` replaces examples/mesh/confman.ts. */
  addReplica(options?: ReplicaOptions): Promise<Replica>;
  /** Delivers envelope bytes on `rpc` to replica `i` over gRPC. */
  send(i: number, rpc: string, bytes: Uint8Array): Promise<Delivery>;
  /** Starts a session (pc) and delivers the Cfp to the author: returns the session id. */
  begin(): Promise<string>;
  /** The author's next message, sealed. */
  authorWrap(sid: string, edge: number, schema: DescMessage, init: object): Promise<Uint8Array>;
  /** pc's next message, sealed. */
  pcWrap(sid: string, edge: number, schema: DescMessage, init: object): Promise<Uint8Array>;
  /** Waits until pc's state of `sid` is at global state `state`. */
  pcAt(sid: string, state: number): Promise<void>;
  close(): Promise<void>;
}

export interface ReplicaOptions {
  readonly timeoutMs?: number;
  readonly serve?: (runtime: SessionRuntime, server: grpc.Server, name: string) => void;
}

export const M = { CfpRequestSchema, UploadRequestSchema, SubmitRequestSchema, WithdrawRequestSchema, ReqRevisionRequestSchema, CloseRequestSchema, RejectRequestSchema };

const listen = (server: grpc.Server): Promise<number> =>
  new Promise((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));

const rawMethod = {
  serialize: (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  deserialize: (b: Buffer) => new Uint8Array(b),
};

/** Waits until `cond()` holds (polling), or fails after `ms`. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** `redis`: a URL, or how to reach Redis (e.g. `{ rootNodes }` of a Redis Cluster): each replica makes its own clients. */
export async function rig(redis: string | RedisConnectionOptions, replicas = 2, options: { timeoutMs?: number } = {}): Promise<Rig> {
  const connection: RedisConnectionOptions = typeof redis === "string" ? { url: redis } : redis;
  const ids = { pc: generateIdentity("committee"), author: generateIdentity("alice"), confman: generateIdentity("easychair") };
  const resolver = staticResolver(Object.values(ids).map((i) => [i.id, publicKeysOf(i)] as const));
  const storageKey = new Uint8Array(randomBytes(32));
  const addresses: Record<string, string> = {};
  const servers: grpc.Server[] = [];
  const clients = new Map<string, grpc.Client>();
  const handled: Handled[] = [];

  const local = async (identity: Identity, def: typeof ConfPc | typeof ConfAuthor) => {
    const runtime = createSessionRuntime({ identity, resolver, peers: addresses });
    const server = new grpc.Server({ interceptors: [runtime.serverInterceptor()] });
    // They only receive, over gRPC, messages of sessions played here with wrap/unwrap: no handler starts anything.
    if (def === ConfPc) runtime.serve(server, ConfPc, {});
    else runtime.serve(server, ConfAuthor, { cfp: () => undefined });
    servers.push(server);
    addresses[identity.id] = `127.0.0.1:${await listen(server)}`;
    return { runtime, party: runtime.party(def) };
  };
  const pc = await local(ids.pc, ConfPc);
  const author = await local(ids.author, ConfAuthor);

  const list: Replica[] = [];
  const addReplica = async (o: ReplicaOptions = {}): Promise<Replica> => {
    const timeoutMs = o.timeoutMs ?? options.timeoutMs ?? 1000;
    const store = createRedisStore({ ...connection, storageKey, timeoutMs, highWater: true });
    const replayCache = createRedisReplayCache({ ...connection, timeoutMs });
    const runtime = createSessionRuntime({ identity: ids.confman, resolver, peers: addresses, store, replayCache });
    const alerts: SecurityAlert[] = [];
    runtime.on("securityAlert", (a) => alerts.push(a));
    const server = new grpc.Server({ interceptors: [runtime.serverInterceptor()] });
    const name = `replica-${list.length + 1}`;
    if (o.serve !== undefined) o.serve(runtime, server, name);
    else serveConfmanReplica(runtime, server, name, (h) => handled.push(h));
    servers.push(server);
    const r: Replica = { name, runtime, party: runtime.party(ConfConfman), store, replayCache, address: `127.0.0.1:${await listen(server)}`, alerts };
    list.push(r);
    return r;
  };
  for (let i = 0; i < replicas; i++) await addReplica();

  const client = (address: string): grpc.Client => {
    let c = clients.get(address);
    if (c === undefined) {
      c = new grpc.Client(address, grpc.credentials.createInsecure());
      clients.set(address, c);
    }
    return c;
  };
  const wrap = async (party: Party, sid: string, edge: number, schema: DescMessage, init: object) =>
    (await party.wrap(sid, ConfSession.edges[edge]!, create(schema, init as MessageInitShape<DescMessage>))).bytes;

  return {
    ids,
    resolver,
    storageKey,
    pc,
    author,
    replicas: list,
    handled,
    addReplica,
    send(i, rpc, bytes) {
      const r = list[i];
      if (r === undefined) throw new RangeError(`no replica ${i}`);
      return new Promise((resolve) => {
        client(r.address).makeUnaryRequest(rpc, rawMethod.serialize, rawMethod.deserialize, bytes, { deadline: Date.now() + 20_000 }, (err, value) => {
          if (err === null) return resolve({ ok: true, bytes: value! });
          resolve({ ok: false, code: err.code, kind: String(err.metadata?.get(ALERT_KIND_METADATA)[0] ?? ""), details: err.details });
        });
      });
    },
    async begin() {
      const st = await pc.party.start({ pc: ids.pc.id, author: ids.author.id, confman: ids.confman.id });
      const cfp = await wrap(pc.party, st.key, E.cfp, CfpRequestSchema, { call: "CSF" });
      await author.party.unwrap(cfp, "/conf.Author/Cfp", ["oneway"], "pc");
      return st.key;
    },
    authorWrap: (sid, edge, schema, init) => wrap(author.party, sid, edge, schema, init),
    pcWrap: (sid, edge, schema, init) => wrap(pc.party, sid, edge, schema, init),
    pcAt: (sid, state) => waitFor(`pc at global state ${state}`, async () => (await pc.party.state(sid))?.state === state),
    async close() {
      for (const c of clients.values()) c.close();
      for (const r of [pc, author, ...list]) r.runtime.close();
      for (const s of servers) s.forceShutdown();
      await Promise.all(list.flatMap((r) => [r.store.close(), r.replayCache.close()]));
    },
  };
}
