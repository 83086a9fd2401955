/**
 * A session store that remembers every state it committed: what an attacker
 * holding a compromised peer has — its memory, keys included, at every point
 * of every session. The copies are taken at commit time (the runtime zeroes
 * retired keys in its own buffers afterwards) and zeroed by `wipe`.
 */
import { createMemoryStore, withHighWater, type SessionState, type SessionStore } from "../../../interceptors/index.js";

export interface RecordingStore extends SessionStore {
  /** The current state under `key`, without going through the runtime. */
  peek(key: string): SessionState | undefined;
  /** Every state committed under `key`, oldest first (deep copies). */
  history(key: string): readonly SessionState[];
  /** Every key ever committed. */
  keys(): readonly string[];
  /** Zeroes the key material of every copy and forgets them. */
  wipe(): void;
  /**
   * Keeps high-water marks (withHighWater) from now on, or stops: marks are
   * what refuses a rolled-back store, and only the rollback scenario wants
   * them (with them, a state deleted to simulate a forgotten session would
   * still be refused, by its mark).
   */
  setMarks(on: boolean): void;
  /** Puts `to` back under `key` behind the runtime's back, as a restored backup does. */
  rollBack(key: string, to: SessionState): Promise<void>;
}

/** Wraps an in-memory store. */
export function createRecordingStore(): RecordingStore {
  const plain = createMemoryStore();
  const marked = withHighWater(plain);
  let marking = false;
  const inner = {
    get: (key: string) => (marking ? marked : plain).get(key),
    commit: (key: string, expected: number | undefined, next: SessionState) => (marking ? marked : plain).commit(key, expected, next),
    delete: (key: string) => plain.delete(key),
  };
  const current = new Map<string, SessionState>();
  const copies = new Map<string, SessionState[]>();
  return {
    get: (key) => inner.get(key),
    async commit(key, expected, next) {
      const ok = await inner.commit(key, expected, next);
      if (ok) {
        current.set(key, next);
        copies.set(key, [...(copies.get(key) ?? []), structuredClone(next)]);
      }
      return ok;
    },
    async delete(key) {
      current.delete(key);
      await inner.delete(key);
    },
    peek: (key) => current.get(key),
    history: (key) => copies.get(key) ?? [],
    keys: () => [...copies.keys()],
    wipe() {
      for (const list of copies.values()) for (const s of list) zeroPairs(s);
      copies.clear();
    },
    setMarks(on) {
      marking = on;
    },
    async rollBack(key, to) {
      const old = structuredClone(to);
      if (!(await plain.commit(key, (await plain.get(key))?.version, old))) throw new Error(`rollBack: ${key} changed meanwhile`);
      current.set(key, old);
    },
  };
}

function zeroPairs(s: SessionState): void {
  for (const p of Object.values(s.pairs)) {
    const buffers = [p.root, p.theirs, p.send?.mac, p.send?.enc, p.recv?.mac, p.recv?.enc, ...Object.values(p.mine ?? {})];
    for (const b of buffers) if (b instanceof Uint8Array) b.fill(0);
  }
}
