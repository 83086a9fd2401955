/**
 * The Redis session store, replay cache and high-water marks against a real
 * redis-server (docs/scale-out.md): compare-and-set commits (and two clients
 * racing one), sealed values bound to their key, version and storage key,
 * SET NX PX session starts that expire after their window, marks, failure
 * (paused, stopped, restarted Redis: StoreUnavailableError, no late write,
 * recovery, EVALSHA falling back to EVAL), and clear errors for bad input.
 */
import test, { type ExecutionContext } from "ava";
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { createClient, RESP_TYPES } from "redis";
import { CfpRequestSchema } from "../../gen/conf/conf_pb.js";
import { ConfPc, ConfSession } from "../../gen/conf/conf_secsession.js";
import {
  createMemoryStore,
  createRedisHighWaterMarks,
  createRedisReplayCache,
  createRedisStore,
  createSessionRuntime,
  exportSession,
  generateIdentity,
  importSession,
  publicKeysOf,
  SealedStateError,
  StaleExportError,
  staticResolver,
  StoreUnavailableError,
  type RedisStore,
  type SessionState,
} from "../../interceptors/index.js";
import { useRedis } from "../support/redis.js";

const redis = useRedis(test);
const key32 = (): Uint8Array => new Uint8Array(randomBytes(32));
const BIN = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } };

/** A real Conf state of pc after its first message (a pair channel with the author, live keys). */
async function confState(): Promise<{ state: SessionState; storeKey: string }> {
  const ids = ["committee", "alice", "easychair"].map((i) => generateIdentity(i));
  const runtime = createSessionRuntime({ identity: ids[0]!, resolver: staticResolver(ids.map((i) => [i.id, publicKeysOf(i)] as const)), store: createMemoryStore() });
  const party = runtime.party(ConfPc);
  const st = await party.start({ pc: "committee", author: "alice", confman: "easychair" });
  const { state } = await party.wrap(st.key, ConfSession.edges[0]!, create(CfpRequestSchema, { call: "CSF" }));
  return { state, storeKey: party.key(st.key) };
}

const next = (st: SessionState, version: number): SessionState => ({ ...st, version });

async function admin() {
  const c = createClient({ url: redis().url });
  c.on("error", () => undefined);
  await c.connect();
  return c;
}

async function unavailable(t: ExecutionContext, p: Promise<unknown>, withinMs: number): Promise<StoreUnavailableError> {
  const t0 = Date.now();
  const e = await t.throwsAsync(p, { instanceOf: StoreUnavailableError });
  t.true(Date.now() - t0 <= withinMs, `took ${Date.now() - t0} ms, expected at most ${withinMs}`);
  return e!;
}

const stores: RedisStore[] = [];
const storeOf = (o: Partial<Parameters<typeof createRedisStore>[0]> = {}): RedisStore => {
  const s = createRedisStore({ url: redis().url, storageKey: o.storageKey ?? sharedKey, ...o });
  stores.push(s);
  return s;
};
const sharedKey = key32();
test.after.always(async () => {
  await Promise.all(stores.map((s) => s.close()));
});

test.serial("commit is compare-and-set on the version; get returns exactly what was committed; a refused commit changes nothing", async (t) => {
  const store = storeOf();
  const { state, storeKey } = await confState();
  t.is(await store.get(storeKey), undefined);
  t.true(await store.commit(storeKey, undefined, state));
  t.false(await store.commit(storeKey, undefined, next(state, 7)), "a second first commit loses");
  t.deepEqual(await store.get(storeKey), state);
  t.false(await store.commit(storeKey, state.version + 5, next(state, state.version + 6)), "a stale expected version loses");
  t.true(await store.commit(storeKey, state.version, next(state, state.version + 1)));
  t.is((await store.get(storeKey))!.version, state.version + 1);
  t.false(await store.commit(storeKey, state.version, next(state, state.version + 1)), "the same transition twice: once");
  await store.delete(storeKey);
  t.is(await store.get(storeKey), undefined);
});

test.serial("two clients racing the same compare-and-set: exactly one wins, every time (200 rounds)", async (t) => {
  const a = storeOf();
  const b = storeOf();
  const { state, storeKey } = await confState();
  t.true(await a.commit(storeKey, undefined, state));
  let v = state.version;
  for (let i = 0; i < 200; i++) {
    const wins = await Promise.all([a.commit(storeKey, v, next(state, v + 1)), b.commit(storeKey, v, next(state, v + 1))]);
    t.is(wins.filter(Boolean).length, 1, `round ${i}`);
    v++;
  }
  t.is((await b.get(storeKey))!.version, state.version + 200);
  const fresh = await confState();
  const firsts = await Promise.all([a.commit(fresh.storeKey, undefined, fresh.state), b.commit(fresh.storeKey, undefined, fresh.state)]);
  t.is(firsts.filter(Boolean).length, 1);
});

test.serial("a stored state is sealed and bound to its key, its version and the storage key", async (t) => {
  const store = storeOf();
  const { state, storeKey } = await confState();
  t.true(await store.commit(storeKey, undefined, state));
  const c = await admin();
  try {
    const rk = store.redisKey(storeKey);
    const [v, s] = (await c.sendCommand(["HMGET", rk, "v", "s"], BIN)) as [Buffer, Buffer];
    t.is(v.toString(), String(state.version));
    t.is(s.subarray(0, 4).toString("latin1"), "SSRS");
    const refused = async (what: string, k: string, st: RedisStore = store) => {
      const e = await t.throwsAsync(st.get(k), { instanceOf: StoreUnavailableError }, what);
      t.true(e?.cause instanceof SealedStateError, `${what}: ${String(e?.cause)}`);
    };
    // Moved to another session's key: refused.
    const other = (await confState()).storeKey;
    await c.sendCommand(["HSET", store.redisKey(other), "v", v, "s", s]);
    await refused("moved to another session", other);
    // Its version field changed: refused.
    await c.sendCommand(["HSET", rk, "v", String(state.version + 1)]);
    await refused("version field changed", storeKey);
    await c.sendCommand(["HSET", rk, "v", v]);
    // Any byte changed: refused.
    const flipped = Buffer.from(s);
    flipped[flipped.length - 1]! ^= 1;
    await c.sendCommand(["HSET", rk, "s", flipped]);
    await refused("a byte changed", storeKey);
    await c.sendCommand(["HSET", rk, "s", s]);
    t.deepEqual(await store.get(storeKey), state);
    // Another storage key, or the same value under another prefix: refused.
    await refused("another storage key", storeKey, storeOf({ storageKey: key32() }));
    const prefixed = storeOf({ prefix: "other:" });
    await c.sendCommand(["HSET", prefixed.redisKey(storeKey), "v", v, "s", s]);
    await refused("another prefix", storeKey, prefixed);
    // Half an entry: refused, not read as absent.
    await c.sendCommand(["HDEL", rk, "s"]);
    await t.throwsAsync(store.get(storeKey), { instanceOf: StoreUnavailableError, message: /incomplete or malformed/ });
  } finally {
    await c.close();
  }
});

test.serial("replay cache: SET NX PX — of two replicas seeing one start, exactly one records it; entries expire after their window", async (t) => {
  const a = createRedisReplayCache({ url: redis().url });
  const b = createRedisReplayCache({ url: redis().url });
  const c = await admin();
  try {
    for (let i = 0; i < 200; i++) {
      const id = `confman:${randomBytes(32).toString("hex")}`;
      const exp = Date.now() + 120_000;
      const r = await Promise.all([a.add(id, exp), b.add(id, exp)]);
      t.is(r.filter(Boolean).length, 1, `round ${i}`);
    }
    const id = `confman:${randomBytes(32).toString("hex")}`;
    t.true(await a.add(id, Date.now() + 300));
    const pttl = Number(await c.sendCommand(["PTTL", a.redisKey(id)]));
    t.true(pttl > 0 && pttl <= 300, `PTTL ${pttl}`);
    t.false(await b.add(id, Date.now() + 300));
    await new Promise((res) => setTimeout(res, 450));
    t.true(await b.add(id, Date.now() + 300), "recorded again once its window is over");
    // An expiry already past records nothing but still sees a live entry.
    t.false(await a.add(id, Date.now() - 1));
    t.true(await a.add(`${id}x`, Date.now() - 1));
    t.is(Number(await c.sendCommand(["EXISTS", a.redisKey(`${id}x`)])), 0);
  } finally {
    await Promise.all([a.close(), b.close(), c.close()]);
  }
});

test.serial("high-water marks: commits raise them, raise is fetch-max, and importSession refuses a stale export across two replicas", async (t) => {
  const ids = ["committee", "alice", "easychair"].map((i) => generateIdentity(i));
  const resolver = staticResolver(ids.map((i) => [i.id, publicKeysOf(i)] as const));
  const storageKey = key32();
  const caches = [createRedisReplayCache({ url: redis().url }), createRedisReplayCache({ url: redis().url })];
  const replica = (i: number) => createSessionRuntime({ identity: ids[0]!, resolver, store: storeOf({ storageKey, highWater: true }), replayCache: caches[i]! });
  const a = replica(0);
  const b = replica(1);
  const pa = a.party(ConfPc);
  const st = await pa.start({ pc: "committee", author: "alice", confman: "easychair" });
  const exportKey = key32();
  const old = await exportSession(pa, st.key, exportKey);
  await pa.wrap(st.key, ConfSession.edges[0]!, create(CfpRequestSchema, { call: "CSF" }));
  const marks = createRedisHighWaterMarks({ url: redis().url });
  try {
    t.is(await marks.get(`hwm:${pa.key(st.key)}`), 1, "the commit raised the mark");
    t.is(await marks.raise("hwm:x", 3), undefined);
    t.is(await marks.raise("hwm:x", 2), 3);
    t.is(await marks.get("hwm:x"), 3);
    await t.throwsAsync(marks.raise("hwm:x", -1), { instanceOf: RangeError });
    // Replica b: the export is older than what the shared store holds, then than the mark once the state is gone.
    const pb = b.party(ConfPc);
    await t.throwsAsync(importSession(pb, old, exportKey), { instanceOf: StaleExportError, message: /holds version 1/ });
    await b.core.store.delete(pb.key(st.key));
    await t.throwsAsync(importSession(pb, old, exportKey), { instanceOf: StaleExportError, message: /reached version 1/ });
  } finally {
    await marks.close();
    await Promise.all(caches.map((c) => c.close()));
  }
});

test.serial("Redis paused: every operation fails with StoreUnavailableError within its timeout and a paused commit never lands; resumed: it works again", async (t) => {
  const store = storeOf({ timeoutMs: 300 });
  const cache = createRedisReplayCache({ url: redis().url, timeoutMs: 300 });
  const { state, storeKey } = await confState();
  t.true(await store.commit(storeKey, undefined, state));
  t.true(await cache.add("warm", Date.now() + 1000));
  redis().pause();
  try {
    await unavailable(t, store.get(storeKey), 1000);
    const e = await unavailable(t, store.commit(storeKey, state.version, next(state, state.version + 1)), 1000);
    t.regex(e.message, /no answer within 300 ms/);
    await unavailable(t, cache.add("paused-start", Date.now() + 60_000), 1000);
    await unavailable(t, store.delete(storeKey), 1000);
  } finally {
    redis().resume();
  }
  // The paused commands now run, past their deadlines: nothing was written (the DEL, no deadline, is re-done below).
  await new Promise((res) => setTimeout(res, 100));
  const c = await admin();
  try {
    t.is(Number(await c.sendCommand(["EXISTS", cache.redisKey("paused-start")])), 0, "the paused session start was not recorded");
  } finally {
    await c.close();
  }
  const after = await storeOf().get(storeKey);
  t.true(after === undefined || after.version === state.version, "the paused commit did not land");
  t.true(await cache.add("paused-start", Date.now() + 1000));
  await cache.close();
});

test.serial("Redis stopped and started again: operations fail fast while it is down, then work, with EVALSHA falling back to EVAL", async (t) => {
  const store = storeOf({ timeoutMs: 500 });
  const { state, storeKey } = await confState();
  t.true(await store.commit(storeKey, undefined, state));
  await redis().shutdown();
  await unavailable(t, store.get(storeKey), 600);
  await unavailable(t, store.commit(storeKey, state.version, next(state, state.version + 1)), 600);
  await redis().restart();
  let got: SessionState | undefined;
  for (let i = 0; i < 100 && got === undefined; i++) {
    got = await store.get(storeKey).catch(() => undefined);
    if (got === undefined) await new Promise((res) => setTimeout(res, 50));
  }
  t.deepEqual(got, state, "the state survived (SHUTDOWN SAVE) and is read again");
  const c = await admin();
  try {
    await c.sendCommand(["SCRIPT", "FLUSH"]);
    t.true(await store.commit(storeKey, state.version, next(state, state.version + 1)), "NOSCRIPT: the commit ran by EVAL");
    t.is((await store.get(storeKey))!.version, state.version + 1);
  } finally {
    await c.close();
  }
});

test.serial("a state time to live: a session state expires after stateTtlMs", async (t) => {
  const store = storeOf({ stateTtlMs: 200 });
  const { state, storeKey } = await confState();
  t.true(await store.commit(storeKey, undefined, state));
  t.truthy(await store.get(storeKey));
  await new Promise((res) => setTimeout(res, 350));
  t.is(await store.get(storeKey), undefined);
});

test.serial("a client given by the caller is used as it is, and not closed by the store", async (t) => {
  const client = createClient({ url: redis().url, disableOfflineQueue: true });
  client.on("error", () => undefined);
  const storageKey = key32();
  const unconnected = createRedisStore({ client, storageKey });
  await t.throwsAsync(unconnected.get("a:b:c"), { instanceOf: StoreUnavailableError, message: /not connected \(call connect\(\) on it\)/ });
  await client.connect();
  const store = createRedisStore({ client, storageKey });
  const { state, storeKey } = await confState();
  t.true(await store.commit(storeKey, undefined, state));
  await store.close();
  t.true(client.isOpen);
  t.deepEqual(await createRedisStore({ client, storageKey }).get(storeKey), state);
  await client.close();
});

test.serial("bad input is refused with a clear error", async (t) => {
  const url = redis().url;
  t.throws(() => createRedisStore({ url, storageKey: new Uint8Array(31) }), { instanceOf: RangeError, message: /32 bytes, got 31 bytes/ });
  t.throws(() => createRedisStore({ url, storageKey: "k" as never }), { instanceOf: RangeError, message: /32 bytes, got string/ });
  t.throws(() => createRedisStore({ storageKey: key32() }), { instanceOf: TypeError, message: /exactly one of `client`, `url`, `cluster` and `rootNodes`/ });
  t.throws(() => createRedisStore({ url, client: createClient(), storageKey: key32() }), { instanceOf: TypeError, message: /exactly one of/ });
  t.throws(() => createRedisStore({ client: {} as never, storageKey: key32() }), { instanceOf: TypeError, message: /node-redis client/ });
  t.throws(() => createRedisStore({ url, rootNodes: [url], storageKey: key32() }), { instanceOf: TypeError, message: /exactly one of .*\(got url, rootNodes\)/ });
  t.throws(() => createRedisReplayCache({ cluster: createClient() as never, client: createClient() }), { instanceOf: TypeError, message: /exactly one of/ });
  t.throws(() => createRedisReplayCache({ cluster: createClient() as never }), { instanceOf: TypeError, message: /node-redis 5 cluster client/ });
  t.throws(() => createRedisStore({ rootNodes: [], storageKey: key32() }), { instanceOf: TypeError, message: /non-empty list/ });
  t.throws(() => createRedisStore({ url, storageKey: key32(), replicaAcks: -1 }), { instanceOf: RangeError, message: /replicaAcks/ });
  t.throws(() => createRedisStore({ url, storageKey: key32(), prefix: "{app}:" }), { instanceOf: TypeError, message: /without \{ or \}/ });
  t.throws(() => createRedisStore({ url, storageKey: key32(), timeoutMs: 0 }), { instanceOf: RangeError, message: /timeoutMs/ });
  t.throws(() => createRedisStore({ url, storageKey: key32(), stateTtlMs: -1 }), { instanceOf: RangeError, message: /stateTtlMs/ });
  const store = storeOf();
  const { state } = await confState();
  await t.throwsAsync(store.get(""), { instanceOf: TypeError, message: /non-empty string/ });
  await t.throwsAsync(store.commit("a:b:c", -1, state), { instanceOf: RangeError, message: /not a state version/ });
  await t.throwsAsync(store.get("a:b:{c}"), { instanceOf: TypeError, message: /no \{ or \}/ });
  t.is(store.redisKey("a:b:c"), "secsession:s:a:b:{c}", "the session id is the hash tag");
  const cache = createRedisReplayCache({ url });
  await t.throwsAsync(cache.add("", 1), { instanceOf: TypeError });
  await t.throwsAsync(cache.add("x", Number.NaN), { instanceOf: RangeError });
  await cache.close();
});
