/**
 * What a replica keeps between messages when its session store is shared
 * (docs/scale-out.md, "What a replica caches"). The store stays the single
 * source of truth: every read goes to it. What this view adds is identity.
 *
 * The runtime's key vault (keys/vault.ts) tracks key buffers by identity: it
 * retires the buffers a message replaced and refuses to move a pair channel
 * to its next version while a buffer of the old version is alive. A shared
 * store decodes fresh buffers on every read, so without this view the vault
 * would hold the buffers of the last state this replica committed while the
 * runtime retires other copies, and the next ratchet step would be refused
 * (or, worse, stale copies of old keys would stay in memory).
 *
 * So for each session this view remembers the last state it read or
 * committed, with a digest of its canonical encoding:
 *
 * - a read whose state encodes to the same digest is the same state: the
 *   fresh copy's key buffers are zeroed and the remembered object returned,
 *   whose buffers the vault knows (a pure memo of decoding);
 * - a read that differs (another replica moved the session on) closes the
 *   session's vault scopes — zeroing every copy of its keys this process
 *   holds — and registers the fresh state's keys at their versions;
 * - sessions idle for `idleMs`, or beyond `maxEntries`, are forgotten the
 *   same way (keys zeroed); their next read decodes them again.
 */
import { createHash } from "node:crypto";
import { isAllZero } from "../keys/crypto/bytes.js";
import { constantTimeEqual, zeroize } from "../keys/crypto/index.js";
import type { KeyVault } from "../keys/vault.js";
import type { SessionState } from "../monitor/state.js";
import { highWaterMarksOf, type HighWaterMarks } from "./high-water.js";
import { encodeState, pairKeyBuffers } from "./state-codec.js";
import type { SessionStore } from "./store.js";

export interface ReplicaViewOptions {
  /** Sessions remembered at most (default 10 000). */
  readonly maxEntries?: number;
  /** A session not touched for this long is forgotten and its keys zeroed (default 60 000 ms). */
  readonly idleMs?: number;
  readonly now?: () => number;
}

interface Entry {
  readonly state: SessionState;
  readonly digest: Uint8Array;
  used: number;
}

function digestOf(st: SessionState): Uint8Array {
  const bytes = encodeState(st);
  const d = new Uint8Array(createHash("sha256").update(bytes).digest());
  zeroize(bytes);
  return d;
}

/** The vault scope of a pair channel, as Party names it: `<sid>:<role>:<peer>`. */
function scopePrefix(st: SessionState): string {
  return `${st.key}:${st.role}:`;
}

export class ReplicaView implements SessionStore {
  readonly detached = true;
  readonly marks?: HighWaterMarks;
  private readonly memo = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly idleMs: number;
  private readonly now: () => number;
  private nextSweep = 0;

  constructor(
    private readonly inner: SessionStore,
    private readonly vault: KeyVault,
    options: ReplicaViewOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.idleMs = options.idleMs ?? 60_000;
    this.now = options.now ?? Date.now;
    const marks = highWaterMarksOf(inner);
    if (marks !== undefined) this.marks = marks;
    // Idle sessions are forgotten even when no message arrives; the timer does not keep the process alive.
    setInterval(() => this.sweep(true), Math.max(1000, this.idleMs / 2)).unref();
  }

  async get(key: string): Promise<SessionState | undefined> {
    this.sweep(false);
    const fresh = await this.inner.get(key);
    const e = this.memo.get(key);
    if (fresh === undefined) {
      if (e !== undefined) this.forget(key, e);
      return undefined;
    }
    if (e !== undefined && e.state === fresh) {
      e.used = this.now();
      return fresh;
    }
    // A read that overlapped a commit of this replica may return the state before it: an older
    // snapshot, handed out as it is, without touching the keys the newer state is using.
    if (e !== undefined && fresh.version < e.state.version) return fresh;
    const digest = digestOf(fresh);
    if (e !== undefined && e.state.version === fresh.version && constantTimeEqual(e.digest, digest)) {
      for (const p of Object.values(fresh.pairs)) zeroize(...pairKeyBuffers(p));
      this.touch(key, e);
      return e.state;
    }
    if (e !== undefined) this.forget(key, e);
    this.adopt(fresh);
    this.remember(key, { state: fresh, digest, used: this.now() });
    return fresh;
  }

  async commit(key: string, expected: number | undefined, next: SessionState): Promise<boolean> {
    const ok = await this.inner.commit(key, expected, next);
    if (ok) {
      // The committed object is what the store now holds; its new buffers are issued by the runtime right after.
      const e = this.memo.get(key);
      if (e !== undefined) this.memo.delete(key);
      this.remember(key, { state: next, digest: digestOf(next), used: this.now() });
    }
    return ok;
  }

  async delete(key: string): Promise<void> {
    await this.inner.delete(key);
    const e = this.memo.get(key);
    if (e !== undefined) this.forget(key, e);
  }

  /** Sessions remembered (for tests and metrics). */
  get size(): number {
    return this.memo.size;
  }

  /** Registers a state read from the store: every other copy of its keys in this process is zeroed. */
  private adopt(st: SessionState): void {
    this.vault.closeAll(scopePrefix(st));
    for (const [peer, pair] of Object.entries(st.pairs)) {
      const scope = `${scopePrefix(st)}${peer}`;
      while (this.vault.version(scope) < pair.version) this.vault.bump(scope);
      for (const b of pairKeyBuffers(pair)) if (!isAllZero(b)) this.vault.issue(scope, b);
    }
  }

  private forget(key: string, e: Entry): void {
    this.memo.delete(key);
    this.vault.closeAll(scopePrefix(e.state));
  }

  private remember(key: string, e: Entry): void {
    this.memo.set(key, e);
    while (this.memo.size > this.maxEntries) {
      const [k, oldest] = this.memo.entries().next().value as [string, Entry];
      this.forget(k, oldest);
    }
  }

  /** Moves an entry to the back of the eviction order. */
  private touch(key: string, e: Entry): void {
    e.used = this.now();
    this.memo.delete(key);
    this.memo.set(key, e);
  }

  private sweep(force: boolean): void {
    const t = this.now();
    if (!force && t < this.nextSweep) return;
    this.nextSweep = t + Math.max(1000, this.idleMs / 2);
    for (const [k, e] of this.memo) if (t - e.used >= this.idleMs) this.forget(k, e);
  }
}
