/**
 * In-memory session store and replay cache (the embedded default).
 */
import type { SessionState } from "../monitor/state.js";
import type { ReplayCache, SessionStore } from "./store.js";

/** A session store in this process's memory. */
export function createMemoryStore(): SessionStore {
  const states = new Map<string, SessionState>();
  return {
    get: (key) => Promise.resolve(states.get(key)),
    commit(key, expected, next) {
      const cur = states.get(key);
      if ((cur === undefined ? undefined : cur.version) !== expected) return Promise.resolve(false);
      states.set(key, next);
      return Promise.resolve(true);
    },
    delete(key) {
      states.delete(key);
      return Promise.resolve();
    },
  };
}

/** A replay cache in this process's memory; expired entries are swept as new ones arrive. */
export function createMemoryReplayCache(now: () => number = Date.now): ReplayCache {
  const seen = new Map<string, number>();
  let nextSweep = 0;
  return {
    add(id, expiresAtMs) {
      const t = now();
      if (t >= nextSweep) {
        for (const [k, exp] of seen) if (exp <= t) seen.delete(k);
        nextSweep = t + 1000;
      }
      const exp = seen.get(id);
      if (exp !== undefined && exp > t) return Promise.resolve(false);
      seen.set(id, expiresAtMs);
      return Promise.resolve(true);
    },
  };
}
