/**
 * A session store that remembers every state it committed: what an attacker
 * holding a compromised peer has — its memory, keys included, at every point
 * of every session. The copies are taken at commit time (the runtime zeroes
 * retired keys in its own buffers afterwards) and zeroed by `wipe`.
 */
import { createMemoryStore, type SessionState, type SessionStore } from "../../../interceptors/index.js";

export interface RecordingStore extends SessionStore {
  /** The current state under `key`, without going through the runtime. */
  peek(key: string): SessionState | undefined;
  /** Every state committed under `key`, oldest first (deep copies). */
  history(key: string): readonly SessionState[];
  /** Every key ever committed. */
  keys(): readonly string[];
  /** Zeroes the key material of every copy and forgets them. */
  wipe(): void;
}

/** Wraps an in-memory store. */
export function createRecordingStore(): RecordingStore {
  const inner = createMemoryStore();
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
  };
}

function zeroPairs(s: SessionState): void {
  for (const p of Object.values(s.pairs)) {
    const buffers = [p.root, p.theirs, p.send?.mac, p.send?.enc, p.recv?.mac, p.recv?.enc, ...Object.values(p.mine ?? {})];
    for (const b of buffers) if (b instanceof Uint8Array) b.fill(0);
  }
}
