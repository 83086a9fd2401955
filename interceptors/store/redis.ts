/**
 * Session store, replay cache and high-water marks in Redis, shared by the
 * replicas of a role (docs/scale-out.md). Keys, under a prefix (default
 * `secsession:`):
 *
 *   <prefix>s:<code>:<role>:{<sid>}     hash { v: version, s: sealed state }   (sealed-state.ts)
 *   <prefix>hwm:<code>:<role>:{<sid>}   the session's high-water mark           (option `highWater`)
 *   <prefix>r:<role>:{<sid>}            a session start, until its window ends (SET NX PX)
 *
 * The session id is each key's hash tag: every key of a session is in one
 * Redis Cluster slot, so each script's keys are on one node (`cluster` /
 * `rootNodes`; docs/scale-out.md, "Redis Cluster"). Store keys, mark keys and
 * replay ids are tagged by their last `:`-separated part.
 *
 * A commit is one Lua script: compare the stored version with the expected
 * one, write the new sealed state, raise the mark — or write nothing. So of
 * two replicas that accept the same message at the same moment, exactly one
 * commits; the other's commit returns false and the runtime refuses its copy.
 *
 * @example
 * const store = createRedisStore({ url: "redis://10.0.0.5:6379", storageKey });
 * const replayCache = createRedisReplayCache({ url: "redis://10.0.0.5:6379" });
 * const runtime = createSessionRuntime({ identity, resolver, store, replayCache });
 */
import { defaultBackend, type CryptoBackend } from "../keys/crypto/index.js";
import type { SessionState } from "../monitor/state.js";
import { rolledBack, type HighWaterMarks, type HighWaterStore } from "./high-water.js";
import { defences } from "../monitor/defences.js";
import { DEADLINE, LUA_WRITE_GUARD, RedisLink, redisScript, SCRIPT_EXPIRED, SCRIPT_NO_REPLICAS, type RedisConnectionOptions } from "./redis-link.js";
import { checkStorageKey, openStoredState, SealedStateError, sealStoredState } from "./sealed-state.js";
import { StoreUnavailableError, type ReplayCache, type SessionStore } from "./store.js";

export type { RedisClusterCommandClient, RedisCommandClient, RedisConnectionOptions } from "./redis-link.js";

export interface RedisStoreOptions extends RedisConnectionOptions {
  /** 32 bytes: states are sealed under keys derived from it. Keep it like the identities' private keys. */
  readonly storageKey: Uint8Array;
  /** Namespace of every key (default `secsession:`); sealed states are bound to it. */
  readonly prefix?: string;
  /** Keep each session's high-water mark (for importSession across replicas and restarts). Default false. */
  readonly highWater?: boolean;
  /**
   * Drop a session state this long after its last commit (milliseconds;
   * every commit sets it again). Default DEFAULT_STATE_TTL_MS (one hour);
   * 0: never. Bounds what sessions abandoned mid-way, or tombstones whose
   * deleting process died, leave behind; keep it above the runtimes'
   * sessionIdleTimeoutMs (default 10 minutes) and the replay window.
   */
  readonly stateTtlMs?: number;
  readonly crypto?: CryptoBackend;
}

/** A session store in Redis; close() closes the client if it made it. */
export interface RedisStore extends SessionStore {
  readonly detached: true;
  /** The session's high-water marks (with `highWater: true`). */
  readonly marks?: HighWaterMarks;
  /** The Redis key a store key lives under (for operators and tests). */
  redisKey(key: string): string;
  close(): Promise<void>;
}

export interface RedisReplayCacheOptions extends RedisConnectionOptions {
  readonly prefix?: string;
  /** Clock of the expiry times given to add() (the runtime's `now`); default Date.now. */
  readonly now?: () => number;
}

/** A replay cache in Redis; close() closes the client if it made it. */
export interface RedisReplayCache extends ReplayCache {
  /** The Redis key a replay id lives under (for operators and tests). */
  redisKey(id: string): string;
  close(): Promise<void>;
}

// KEYS: state, mark (only with marks). ARGV: expected version ("" = none), next version, sealed state, ttl ms ("0" = none), deadline,
// "0" to leave the mark alone, "1" to raise it, "2" to raise it and refuse a version below it; replicaAcks (RedisLink).
const COMMIT = redisScript(
  LUA_WRITE_GUARD +
    `local no = refused(ARGV[5]) if no then return no end
local cur = redis.call('HGET', KEYS[1], 'v')
if ARGV[1] == '' then
  if cur then return 0 end
elseif cur ~= ARGV[1] then
  return 0
end
if ARGV[6] == '2' then
  local m = redis.call('GET', KEYS[2])
  if m and tonumber(m) > tonumber(ARGV[2]) then return 0 end
end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 's', ARGV[3])
if ARGV[4] ~= '0' then redis.call('PEXPIRE', KEYS[1], ARGV[4]) else redis.call('PERSIST', KEYS[1]) end
if ARGV[6] ~= '0' then
  local m = redis.call('GET', KEYS[2])
  if (not m) or tonumber(m) < tonumber(ARGV[2]) then redis.call('SET', KEYS[2], ARGV[2]) end
end
return 1`,
);

// KEYS: state, mark. Returns the state's version and sealed value, and the mark (each nil when absent: Lua's
// false, since a nil would end the array). Flagged read-only: a read, even while writes are paused.
const GET_CHECKED = redisScript(`#!lua flags=no-writes
local e = redis.call('HMGET', KEYS[1], 'v', 's')
return {e[1] or false, e[2] or false, redis.call('GET', KEYS[2]) or false}`);

// KEYS: mark. ARGV: version, deadline, replicaAcks. Returns the previous mark, or -2 for none.
const RAISE = redisScript(
  LUA_WRITE_GUARD +
    `local no = refused(ARGV[2]) if no then return no end
local m = redis.call('GET', KEYS[1])
if (not m) or tonumber(m) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
if not m then return -2 end
return tonumber(m)`,
);

// KEYS: entry. ARGV: ttl ms, deadline, replicaAcks. 1: recorded; 0: already there.
const REPLAY = redisScript(
  LUA_WRITE_GUARD +
    `local no = refused(ARGV[2]) if no then return no end
if tonumber(ARGV[1]) <= 0 then
  if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
  return 1
end
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0`,
);

/** The default of RedisStoreOptions.stateTtlMs: one hour after a session's last commit. */
export const DEFAULT_STATE_TTL_MS = 60 * 60_000;

/** A key prefix, checked: the keys' hash tags must be the last part of each name. */
export function checkPrefix(prefix: string): string {
  if (typeof prefix !== "string" || prefix.length > 256 || /[{}]/.test(prefix)) {
    throw new TypeError("secsession: redis: prefix must be a string of at most 256 characters without { or } (the keys' hash tags are the session ids)");
  }
  return prefix;
}

function checkKey(key: string, what = "a store key"): void {
  if (typeof key !== "string" || key === "") throw new TypeError(`secsession: redis: ${what} is a non-empty string`);
  if (/[{}]/.test(key) || key.endsWith(":")) throw new TypeError(`secsession: redis: ${what} has no { or } and does not end with ':'`);
}

/**
 * The key's Redis name under `prefix`: its last `:`-separated part — the
 * session id, in `<code>:<role>:<sid>`, `hwm:<code>:<role>:<sid>` and the
 * replay id `<role>:<sid>` — as the hash tag, so that every key of a session
 * lives in one Redis Cluster slot (docs/scale-out.md, "Redis Cluster").
 */
export function taggedKey(prefix: string, key: string): string {
  const i = key.lastIndexOf(":");
  return `${prefix}${key.slice(0, i + 1)}{${key.slice(i + 1)}}`;
}

/** A write script's answer as a number; its node's refusals (past the deadline, short of replicas) as StoreUnavailableError. */
export function scriptResult(what: string, r: unknown): number {
  const n = typeof r === "number" ? r : Number.NaN;
  if (n === SCRIPT_EXPIRED) throw new StoreUnavailableError(`redis: ${what}: reached Redis after its deadline; nothing was written`);
  if (n === SCRIPT_NO_REPLICAS) throw new StoreUnavailableError(`redis: ${what}: the node has fewer replicas online than replicaAcks; nothing was written`);
  if (!Number.isSafeInteger(n)) throw new StoreUnavailableError(`redis: ${what}: unexpected answer ${typeof r}`);
  return n;
}

/** A decimal Redis reply as a number (NaN when it is not one). */
function decimal(v: unknown): number {
  const t = v instanceof Buffer ? v.toString("latin1") : typeof v === "string" ? v : undefined;
  return t !== undefined && /^[0-9]{1,16}$/.test(t) ? Number(t) : Number.NaN;
}

function checkVersion(v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`secsession: redis: ${v} is not a state version`);
}

/**
 * Creates a session store in Redis. Values are sealed with `storageKey`;
 * every Redis failure or timeout is a StoreUnavailableError (the runtime
 * refuses the message with UNAVAILABLE and changes nothing).
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  checkStorageKey(options.storageKey);
  const storageKey = Uint8Array.from(options.storageKey); // the caller may zero theirs
  const prefix = checkPrefix(options.prefix ?? "secsession:");
  const ttl = options.stateTtlMs ?? DEFAULT_STATE_TTL_MS;
  if (!Number.isSafeInteger(ttl) || ttl < 0) throw new RangeError(`secsession: redis: stateTtlMs must be a whole number of milliseconds ≥ 0, got ${ttl}`);
  const crypto = options.crypto ?? defaultBackend();
  const link = new RedisLink(options);
  const stateKey = (key: string): string => taggedKey(`${prefix}s:`, key);
  const markKey = (key: string): string => taggedKey(prefix, key); // key is already `hwm:<state key>` (high-water.ts)
  const marks = options.highWater === true ? redisMarks(link, markKey) : undefined;

  const store: RedisStore = {
    detached: true,
    redisKey(key: string): string {
      checkKey(key);
      return stateKey(key);
    },
    async get(key: string): Promise<SessionState | undefined> {
      checkKey(key);
      const rk = stateKey(key);
      // With marks, the state and its mark in one round trip: a state older than its mark is a rollback.
      const reply = marks === undefined ? await link.run(`get ${key}`, ["HMGET", rk, "v", "s"]) : await link.script(`get ${key}`, GET_CHECKED, [rk, markKey(`hwm:${key}`)], []);
      if (!Array.isArray(reply) || reply.length < 2 || reply.length > 3) throw new StoreUnavailableError(`redis: get ${key}: unexpected answer`);
      const [v, s, m] = reply as [unknown, unknown, unknown];
      if (v === null && s === null) return undefined;
      const version = decimal(v);
      if (!Number.isSafeInteger(version) || !(s instanceof Buffer)) throw new StoreUnavailableError(`redis: get ${key}: the stored entry is incomplete or malformed`);
      if (m !== null && m !== undefined) {
        const mark = decimal(m);
        if (!Number.isSafeInteger(mark)) throw new StoreUnavailableError(`redis: get ${key}: the high-water mark is malformed`);
        if (version < mark && defences.highWater) throw rolledBack(key, version, mark);
      }
      try {
        return openStoredState(crypto, storageKey, rk, version, new Uint8Array(s.buffer, s.byteOffset, s.byteLength));
      } catch (e: unknown) {
        // A value that does not authenticate is refused like an unreachable store: fail closed.
        throw new StoreUnavailableError(e instanceof SealedStateError ? e.message : `redis: get ${key}: the stored state does not open`, { cause: e });
      }
    },
    async commit(key: string, expected: number | undefined, next: SessionState): Promise<boolean> {
      checkKey(key);
      if (expected !== undefined) checkVersion(expected);
      checkVersion(next.version);
      const rk = stateKey(key);
      const sealed = sealStoredState(crypto, storageKey, rk, next);
      const r = await link.script(`commit ${key}`, COMMIT, marks === undefined ? [rk] : [rk, markKey(`hwm:${key}`)], [
        expected === undefined ? "" : String(expected),
        String(next.version),
        Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength),
        String(ttl),
        DEADLINE,
        marks === undefined ? "0" : defences.highWater ? "2" : "1",
      ]);
      return scriptResult(`commit ${key}`, r) === 1;
    },
    async delete(key: string): Promise<void> {
      checkKey(key);
      await link.run(`delete ${key}`, ["DEL", stateKey(key)]);
    },
    close: () => link.close(),
  };
  if (marks !== undefined) return { ...store, marks } satisfies RedisStore & HighWaterStore;
  return store;
}

function redisMarks(link: RedisLink, redisKey: (key: string) => string): HighWaterMarks {
  return {
    async get(key) {
      checkKey(key);
      const r = await link.run(`mark ${key}`, ["GET", redisKey(key)]);
      if (r === null) return undefined;
      const n = r instanceof Buffer && /^[0-9]{1,16}$/.test(r.toString("latin1")) ? Number(r.toString("latin1")) : Number.NaN;
      if (!Number.isSafeInteger(n)) throw new StoreUnavailableError(`redis: mark ${key}: malformed`);
      return n;
    },
    async raise(key, version) {
      checkKey(key);
      if (!Number.isSafeInteger(version) || version < 0) throw new RangeError(`secsession: high-water mark: ${version} is not a version`);
      const prev = scriptResult(`raise ${key}`, await link.script(`raise ${key}`, RAISE, [redisKey(key)], [String(version), DEADLINE]));
      return prev === -2 ? undefined : prev;
    },
  };
}

/** Creates high-water marks in Redis (the store's own with `highWater: true`; this one for a store kept elsewhere). */
export function createRedisHighWaterMarks(options: RedisConnectionOptions & { readonly prefix?: string }): HighWaterMarks & { close(): Promise<void> } {
  const prefix = checkPrefix(options.prefix ?? "secsession:");
  const link = new RedisLink(options);
  return { ...redisMarks(link, (key) => taggedKey(prefix, key)), close: () => link.close() };
}

/**
 * Creates a replay cache of session starts in Redis: `SET NX PX`, so an entry
 * expires by itself when its time window ends, and of two replicas that see
 * the same start at the same moment, exactly one records it.
 */
export function createRedisReplayCache(options: RedisReplayCacheOptions): RedisReplayCache {
  const prefix = checkPrefix(options.prefix ?? "secsession:");
  const now = options.now ?? Date.now;
  const link = new RedisLink(options);
  const entryKey = (id: string): string => {
    checkKey(id, "a replay id");
    return taggedKey(`${prefix}r:`, id);
  };
  return {
    redisKey: entryKey,
    async add(id: string, expiresAtMs: number): Promise<boolean> {
      const rk = entryKey(id);
      if (!Number.isFinite(expiresAtMs)) throw new RangeError(`secsession: redis: expiry ${expiresAtMs} is not a time`);
      const ttl = Math.max(0, Math.ceil(expiresAtMs - now()));
      return scriptResult(`replay ${id}`, await link.script(`replay ${id}`, REPLAY, [rk], [String(ttl), DEADLINE])) === 1;
    },
    close: () => link.close(),
  };
}
