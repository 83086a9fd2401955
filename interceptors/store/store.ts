/**
 * Where session state and the anti-replay cache of session starts live. The
 * in-memory implementations are the embedded default; replicated servers of
 * one role share a networked store. Both operations are atomic per key.
 */
import type { SessionState } from "../monitor/state.js";

/** Session states, keyed by `<session code>:<role>:<session id>`. */
export interface SessionStore {
  /**
   * True when the store keeps its own encoded copy of each state (a networked
   * store): `get` returns a fresh object every time, and the objects given to
   * `commit` stay the caller's. The runtime then keeps what a replica caches
   * between messages consistent with the store (docs/scale-out.md). Absent or
   * false: `get` returns the very objects committed (the in-memory store).
   */
  readonly detached?: boolean;
  /** The state under `key`, or undefined. */
  get(key: string): Promise<SessionState | undefined>;
  /**
   * Stores `next` if the stored state's version is `expected` (undefined:
   * no state yet). Returns false, storing nothing, when another writer won.
   */
  commit(key: string, expected: number | undefined, next: SessionState): Promise<boolean>;
  /** Drops a finished session's state. */
  delete(key: string): Promise<void>;
}

/** Session starts seen recently, each remembered until it expires. */
export interface ReplayCache {
  /** Records `id` until `expiresAtMs`; false if it is already recorded (a replayed start). */
  add(id: string, expiresAtMs: number): Promise<boolean>;
}

/** Thrown by a store that cannot be reached: the message is refused with UNAVAILABLE. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}
