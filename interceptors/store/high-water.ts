/**
 * Per-session high-water marks: the highest state version a store has seen
 * for a session, kept after the state itself is deleted. importSession
 * refuses an export older than the mark (docs/save-restore.md, "Stale
 * exports"), so an old export cannot roll a session back even once the state
 * that superseded it is gone.
 *
 * A mark is only as durable as what holds it: marks in this process's memory
 * (createMemoryHighWaterMarks) are lost with the process, exactly like the
 * in-memory session store. Replicated or restarting deployments keep marks in
 * the same shared, persistent store as the states, under `hwm:<state key>`.
 */
import type { SessionState } from "../monitor/state.js";
import type { SessionStore } from "./store.js";

/** High-water marks, keyed `hwm:<session code>:<role>:<session id>` (see highWaterKey). */
export interface HighWaterMarks {
  /** The mark under `key`, or undefined. */
  get(key: string): Promise<number | undefined>;
  /** Atomically sets the mark under `key` to max(mark, version); returns the previous mark. */
  raise(key: string, version: number): Promise<number | undefined>;
}

/** A session store that also keeps the high-water mark of every session it commits. */
export interface HighWaterStore extends SessionStore {
  readonly marks: HighWaterMarks;
}

/** The mark key of the state key `<code>:<role>:<sid>` (the same namespace as the states). */
export function highWaterKey(stateKey: string): string {
  return `hwm:${stateKey}`;
}

/** Marks in this process's memory: they die with it (see the module comment). */
export function createMemoryHighWaterMarks(): HighWaterMarks {
  const marks = new Map<string, number>();
  return {
    get: (key) => Promise.resolve(marks.get(key)),
    raise(key, version) {
      if (!Number.isSafeInteger(version) || version < 0) return Promise.reject(new RangeError(`secsession: high-water mark: ${version} is not a version`));
      const prev = marks.get(key);
      if (prev === undefined || prev < version) marks.set(key, version);
      return Promise.resolve(prev);
    },
  };
}

/**
 * Wraps a session store so that every commit raises its session's mark first
 * (a mark may run ahead of a commit that then loses its compare-and-set:
 * that only makes the rule stricter). Deleting a state keeps its mark.
 */
export function withHighWater(store: SessionStore, marks: HighWaterMarks = createMemoryHighWaterMarks()): HighWaterStore {
  return {
    ...(store.detached === true ? { detached: true } : {}),
    marks,
    get: (key) => store.get(key),
    async commit(key: string, expected: number | undefined, next: SessionState) {
      await marks.raise(highWaterKey(key), next.version);
      return store.commit(key, expected, next);
    },
    delete: (key) => store.delete(key),
  };
}

/** The marks a store keeps, if it keeps any. */
export function highWaterMarksOf(store: SessionStore): HighWaterMarks | undefined {
  const m = (store as Partial<HighWaterStore>).marks;
  return m !== undefined && typeof m.get === "function" && typeof m.raise === "function" ? m : undefined;
}
