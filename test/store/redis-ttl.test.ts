/**
 * Session states in Redis expire by default (issue break 10): every commit
 * sets the state's time to live again (DEFAULT_STATE_TTL_MS, one hour,
 * unless `stateTtlMs` says otherwise; 0 keeps states for ever), so a session
 * abandoned mid-way — by its peer, or by a replica that died — leaves nothing
 * behind for long. Against a real redis-server, and over real gRPC on loopback.
 */
import test from "ava";
import { randomBytes } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { createClient } from "redis";
import { CfpRequestSchema } from "../../gen/conf/conf_pb.js";
import { ConfPc, ConfSession } from "../../gen/conf/conf_secsession.js";
import {
  createMemoryStore,
  defineRole,
  createRedisStore,
  createSessionRuntime,
  DEFAULT_STATE_TTL_MS,
  generateIdentity,
  publicKeysOf,
  SecSessionError,
  staticResolver,
  type RedisStoreOptions,
  type SessionState,
} from "../../interceptors/index.js";
import { useRedis } from "../support/redis.js";
import { inlineSession } from "../support/inline-session.js";

const redis = useRedis(test);
const key32 = (): Uint8Array => new Uint8Array(randomBytes(32));

async function confState(): Promise<{ state: SessionState; storeKey: string }> {
  const ids = ["committee", "alice", "easychair"].map((i) => generateIdentity(i));
  const runtime = createSessionRuntime({ identity: ids[0]!, resolver: staticResolver(ids.map((i) => [i.id, publicKeysOf(i)] as const)), store: createMemoryStore() });
  const party = runtime.party(ConfPc);
  const st = await party.start({ pc: "committee", author: "alice", confman: "easychair" });
  const { state } = await party.wrap(st.key, ConfSession.edges[0]!, create(CfpRequestSchema, { call: "CSF" }));
  runtime.close();
  return { state, storeKey: party.key(st.key) };
}

async function pttl(key: string): Promise<number> {
  const c = createClient({ url: redis().url });
  c.on("error", () => undefined);
  await c.connect();
  try {
    return Number(await c.sendCommand(["PTTL", key]));
  } finally {
    await c.close();
  }
}

async function pexpire(key: string, ms: number): Promise<void> {
  const c = createClient({ url: redis().url });
  c.on("error", () => undefined);
  await c.connect();
  await c.sendCommand(["PEXPIRE", key, String(ms)]);
  await c.close();
}

const storeOf = (o: Partial<RedisStoreOptions> = {}) => createRedisStore({ url: redis().url, storageKey: key32(), prefix: `ttl-${randomBytes(4).toString("hex")}:`, ...o });

test.serial("by default a state expires an hour after its last commit, and each commit sets that again", async (t) => {
  t.is(DEFAULT_STATE_TTL_MS, 3_600_000);
  const store = storeOf();
  const { state, storeKey } = await confState();
  t.true(await store.commit(storeKey, undefined, state));
  const first = await pttl(store.redisKey(storeKey));
  t.true(first > DEFAULT_STATE_TTL_MS - 60_000 && first <= DEFAULT_STATE_TTL_MS, `PTTL ${first}`);
  await pexpire(store.redisKey(storeKey), 5_000);
  t.true(await store.commit(storeKey, state.version, { ...state, version: state.version + 1 }));
  const refreshed = await pttl(store.redisKey(storeKey));
  t.true(refreshed > DEFAULT_STATE_TTL_MS - 60_000, `refreshed to ${refreshed}`);
  await store.close();
});

test.serial("stateTtlMs sets the time to live; 0 keeps states for ever", async (t) => {
  const short = storeOf({ stateTtlMs: 90_000 });
  const never = storeOf({ stateTtlMs: 0 });
  const { state, storeKey } = await confState();
  t.true(await short.commit(storeKey, undefined, state));
  t.true(await never.commit(storeKey, undefined, state));
  const p = await pttl(short.redisKey(storeKey));
  t.true(p > 80_000 && p <= 90_000, `PTTL ${p}`);
  t.is(await pttl(never.redisKey(storeKey)), -1);
  await short.close();
  await never.close();
});

const UPLOAD = `
syntax = "proto3";
package ttl;
import "google/protobuf/empty.proto";
import "secsession/v1/options.proto";
option (secsession.v1.session) = {
  name: "Upload"
  roles: [ { name: "c" service: "" }, { name: "w" service: "Worker" } ]
  protocol: "c => w.Open; c -> w.Data;"
};
service Worker { rpc Open(Msg) returns (Msg); rpc Data(Msg) returns (google.protobuf.Empty); }
message Msg { string text = 1; }
`;

type Any = Record<string, (...a: unknown[]) => Promise<Any>> & { next: Any; sessionId: string };

test.serial("over gRPC: a session abandoned at a worker whose store is Redis is dropped by its TTL, and a late message for it is refused", async (t) => {
  const session = inlineSession(UPLOAD);
  const [C, W] = [defineRole(session.descriptor, "c", session.file), defineRole(session.descriptor, "w", session.file)];
  const ids = ["customer", "worker"].map((i) => generateIdentity(i));
  const resolver = staticResolver(ids.map((i) => [i.id, publicKeysOf(i)] as const));
  const store = storeOf({ stateTtlMs: 300 });
  const peers = new Map<string, string>();
  const c = createSessionRuntime({ identity: ids[0]!, resolver, peers });
  // The runtime's own expiry off: the store's TTL alone drops the session.
  const w = createSessionRuntime({ identity: ids[1]!, resolver, peers, store, sessionIdleTimeoutMs: 0 });
  const server = new grpc.Server({ interceptors: [w.serverInterceptor()] });
  w.serve(server, W, { open: async ({ next }: Any) => void (await next["openResponse"]!({ text: "ok" })) } as never);
  const port = await new Promise<number>((res, rej) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  peers.set("worker", `127.0.0.1:${port}`);
  try {
    const s0 = (await c.start(C, { c: "customer", w: "worker" })) as unknown as Any;
    const owing = (await s0["open"]!({ text: "hi" })).next;
    const redisKey = store.redisKey(w.party(W).key(owing.sessionId));
    const ttl = await pttl(redisKey);
    t.true(ttl > 0 && ttl <= 300, `PTTL ${ttl}`);
    await new Promise((r) => setTimeout(r, 600));
    t.is(await pttl(redisKey), -2, "gone from Redis");
    const late = await owing["data"]!({ text: "late" }).then(
      () => undefined,
      (e: unknown) => e as SecSessionError,
    );
    t.is(late?.kind, "unknown-session");
  } finally {
    c.close();
    w.close();
    server.forceShutdown();
    await store.close();
  }
});
