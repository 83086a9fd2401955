/**
 * A PrekeySource in Redis (keys/prekey-source.ts): one key per principal,
 * `<prefix>prekeys:{<principal>}`, holding the sealed prekey set its
 * replicas share (sealed by the runtime under a key of the principal's own
 * identity: Redis learns no private key). Publishing is compare-and-set by
 * one Lua script with a deadline in Redis's clock, as the store's writes
 * are (redis-link.ts); failures are StoreUnavailableError.
 */
import { LUA_NOW, RedisLink, redisScript, SCRIPT_EXPIRED, type RedisConnectionOptions } from "./redis-link.js";
import { StoreUnavailableError } from "./store.js";
import type { PrekeySource } from "../keys/prekey-source.js";

export interface RedisPrekeySourceOptions extends RedisConnectionOptions {
  /** The principal whose prekeys these are (its replicas share the key). */
  readonly principal: string;
  /** Key prefix (default `secsession:`). */
  readonly prefix?: string;
}

// KEYS[1] the set; ARGV: expected ("" for none), next, deadline. 1 written, 0 another writer came first, -1 past the deadline.
const PUBLISH = redisScript(
  LUA_NOW +
    "if now_ms() > tonumber(ARGV[3]) then return -1 end\n" +
    "local cur = redis.call('GET', KEYS[1])\n" +
    "if (cur == false and ARGV[1] ~= '') or (cur ~= false and cur ~= ARGV[1]) then return 0 end\n" +
    "redis.call('SET', KEYS[1], ARGV[2])\n" +
    "return 1\n",
);

/** Creates the shared prekey source of `principal` in Redis. */
export function createRedisPrekeySource(options: RedisPrekeySourceOptions): PrekeySource & { close(): Promise<void> } {
  if (typeof options.principal !== "string" || options.principal === "") throw new TypeError("secsession: redis: createRedisPrekeySource needs the principal whose prekeys it holds");
  const prefix = options.prefix ?? "secsession:";
  if (typeof prefix !== "string" || prefix.length > 256) throw new TypeError("secsession: redis: prefix must be a string of at most 256 characters");
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
      const deadline = await link.deadline(what);
      const r = await link.script(what, PUBLISH, [key], [expected === undefined ? "" : Buffer.from(expected), Buffer.from(next), deadline]);
      if (r === SCRIPT_EXPIRED) throw new StoreUnavailableError(`redis: ${what}: reached Redis after its deadline; nothing was written`);
      if (r !== 0 && r !== 1) throw new StoreUnavailableError(`redis: ${what}: unexpected answer ${typeof r}`);
      return r === 1;
    },
    close: () => link.close(),
  };
}
