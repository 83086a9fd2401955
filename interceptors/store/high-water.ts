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
import { StoreUnavailableError, type SessionStore } from "./store.js";
import { defences } from "../monitor/defences.js";

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
 * Wraps a session store so that the marks are checked on every load and
 * every commit, not only when an export is imported:
 * - `get` refuses (StoreUnavailableError: fail closed) a state older than its
 *   session's mark — a rolled-back store (an older sealed state put back, a
 *   restored backup) would otherwise make the party accept again messages it
 *   already accepted;
 * - `commit` raises the mark first and commits nothing older than what the
 *   mark was (a mark may run ahead of a commit that then loses its
 *   compare-and-set: that only makes the rule stricter; a commit of exactly
 *   the mark's version is an import of the latest export, or a racing
 *   replica that the compare-and-set then refuses).
 * Deleting a state keeps its mark.
 */
export function withHighWater(store: SessionStore, marks: HighWaterMarks = createMemoryHighWaterMarks()): HighWaterStore {
  return {
    ...(store.detached === true ? { detached: true } : {}),
    marks,
    async get(key: string) {
      const [st, mark] = await Promise.all([store.get(key), marks.get(highWaterKey(key))]);
      if (st !== undefined && mark !== undefined && st.version < mark && defences.highWater) throw rolledBack(key, st.version, mark);
      return st;
    },
    async commit(key: string, expected: number | undefined, next: SessionState) {
      const prev = await marks.raise(highWaterKey(key), next.version);
      if (prev !== undefined && prev > next.version && defences.highWater) return false;
      return store.commit(key, expected, next);
    },
    delete: (key) => store.delete(key),
  };
}

/** The refusal of a state older than its session's high-water mark. */
export function rolledBack(key: string, version: number, mark: number): StoreUnavailableError {
  return new StoreUnavailableError(`the store holds version ${version} of session ${key}, which reached version ${mark} before: the store was rolled back; refusing to use it`);
}

/** The marks a store keeps, if it keeps any. */
export function highWaterMarksOf(store: SessionStore): HighWaterMarks | undefined {
  const m = (store as Partial<HighWaterStore>).marks;
  return m !== undefined && typeof m.get === "function" && typeof m.raise === "function" ? m : undefined;
}
