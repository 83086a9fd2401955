/**
 * A PrekeySource in Redis (keys/prekey-source.ts): one key per principal,
 * `<prefix>prekeys:{<principal>}`, holding the sealed prekey set its
 * replicas share (sealed by the runtime under a key of the principal's own
 * identity: Redis learns no private key). Publishing is compare-and-set by
 * one Lua script with the store's write guard (a deadline in the node's
 * clock, and on a cluster `replicaAcks`; redis-link.ts); failures are
 * StoreUnavailableError.
 */
import { DEADLINE, LUA_WRITE_GUARD, RedisLink, redisScript, type RedisConnectionOptions } from "./redis-link.js";
import { checkPrefix, scriptResult } from "./redis.js";
import { StoreUnavailableError } from "./store.js";
import type { PrekeySource } from "../keys/prekey-source.js";

export interface RedisPrekeySourceOptions extends RedisConnectionOptions {
  /** The principal whose prekeys these are (its replicas share the key). */
  readonly principal: string;
  /** Key prefix (default `secsession:`). */
  readonly prefix?: string;
}

// KEYS[1] the set; ARGV: expected ("" for none), next, deadline (and replicaAcks, appended by the link).
// 1 written, 0 another writer came first; the guard's answers when past the deadline or short of replicas.
const PUBLISH = redisScript(
  LUA_WRITE_GUARD +
    `local no = refused(ARGV[3]) if no then return no end
local cur = redis.call('GET', KEYS[1])
if (cur == false and ARGV[1] ~= '') or (cur ~= false and cur ~= ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1`,
);

/** Creates the shared prekey source of `principal` in Redis. */
export function createRedisPrekeySource(options: RedisPrekeySourceOptions): PrekeySource & { close(): Promise<void> } {
  if (typeof options.principal !== "string" || options.principal === "") throw new TypeError("secsession: redis: createRedisPrekeySource needs the principal whose prekeys it holds");
  const prefix = checkPrefix(options.prefix ?? "secsession:");
  const link = new RedisLink(options);
  const key = `${prefix}prekeys:{${options.principal}}`;
  return {
    async read() {
      const v = await link.run(`prekeys of ${options.principal}`, ["GET", key]);
      if (v === null || v === undefined) return undefined;
      if (!(v instanceof Uint8Array)) throw new StoreUnavailableError(`redis: prekeys of ${options.principal}: unexpected answer ${typeof v}`);
      return Uint8Array.from(v);
    },
    async write(expected, next) {
      const what = `publish prekeys of ${options.principal}`;
      const r = scriptResult(what, await link.script(what, PUBLISH, [key], [expected === undefined ? "" : Buffer.from(expected), Buffer.from(next), DEADLINE]));
      if (r !== 0 && r !== 1) throw new StoreUnavailableError(`redis: ${what}: unexpected answer ${r}`);
      return r === 1;
    },
    close: () => link.close(),
  };
}
