/**
 * A private redis-server per test file (examples/mesh/redis-server.ts):
 * started before the file's tests, stopped after them. A missing
 * redis-server fails the file with a clear message; nothing is skipped.
 *
 * @example
 * const redis = useRedis(test);
 * test("…", async (t) => { const store = createRedisStore({ url: redis().url, storageKey }); … });
 */
import type { TestFn } from "ava";
import { startRedis, type LocalRedis } from "../../examples/mesh/redis-server.js";

export { requireRedisServer, startRedis, type LocalRedis } from "../../examples/mesh/redis-server.js";

/** Starts a redis-server before the file's tests and stops it after; returns its accessor. */
export function useRedis(test: TestFn): () => LocalRedis {
  let redis: LocalRedis | undefined;
  test.before(async () => {
    redis = await startRedis();
  });
  test.after.always(async () => {
    await redis?.stop();
  });
  return () => {
    if (redis === undefined) throw new Error("the test redis-server is not running (did test.before fail?)");
    return redis;
  };
}
