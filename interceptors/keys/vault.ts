/**
 * Versioned keys with enforced deletion (seed 004: guards and receipts).
 *
 * Every key buffer of a versioned scope (one pair of principals in one
 * session) is registered in the vault with the version it belongs to and
 * yields a receipt. A receipt is given back only by zeroing its buffer
 * (`retire`) or by deriving the next version's key from it (`convert`, which
 * zeroes the old buffer). `bump` moves the scope to the next version and
 * refuses while any receipt of the current version is outstanding — so no
 * key of an old version can outlive the bump. Receipts are bound to their
 * buffer: retiring another buffer does not give a receipt back.
 */
import { isAllZero } from "./crypto/bytes.js";
import { zeroize } from "./crypto/index.js";

/** Proof that a key buffer of some version is alive. */
export interface Receipt {
  readonly scope: string;
  readonly version: number;
  /** The buffer this receipt is bound to. */
  readonly key: Uint8Array;
}

/** Thrown when a bump would leave a key of the old version alive, or a receipt is misused. */
export class KeyVaultError extends Error {
  constructor(message: string) {
    super(`secsession: key vault: ${message}`);
    this.name = "KeyVaultError";
  }
}

export class KeyVault {
  /** Per scope: its version and its outstanding receipts (one map and one array: a vault holds a scope per pair of every open session). */
  private readonly scopes = new Map<string, { version: number; readonly live: Receipt[] }>();

  /** The current version of a scope (0 if never bumped). */
  version(scope: string): number {
    return this.scopes.get(scope)?.version ?? 0;
  }

  /** Registers `key` as a key of the scope's current version. */
  issue(scope: string, key: Uint8Array): Receipt {
    const r: Receipt = { scope, version: this.version(scope), key };
    this.outstanding(scope).push(r);
    return r;
  }

  /** Zeroes the receipt's buffer and gives the receipt back. */
  retire(r: Receipt): void {
    const live = this.outstanding(r.scope);
    const i = live.indexOf(r);
    if (i < 0) throw new KeyVaultError(`receipt of version ${r.version} in ${r.scope} is not outstanding`);
    zeroize(r.key);
    live.splice(i, 1);
  }

  /** Retires the receipt bound to `key` in `scope` (zeroing it); a buffer never issued is just zeroed. */
  retireKey(scope: string, key: Uint8Array): void {
    const live = this.outstanding(scope);
    const i = live.findIndex((x) => x.key === key);
    zeroize(key);
    if (i >= 0) live.splice(i, 1);
  }

  /**
   * Derives the next version's key from `r` (the old buffer is zeroed and its
   * receipt given back); the new key's receipt belongs to version + 1 and
   * counts once the scope is bumped.
   */
  convert(r: Receipt, derive: (old: Uint8Array) => Uint8Array): Receipt {
    const next = derive(r.key);
    if (next === r.key) throw new KeyVaultError("convert must derive a new buffer");
    this.retire(r);
    const out: Receipt = { scope: r.scope, version: r.version + 1, key: next };
    this.outstanding(r.scope).push(out);
    return out;
  }

  /** Moves the scope to the next version; refuses while a key of the current version is alive. */
  bump(scope: string): number {
    const v = this.version(scope);
    let alive = 0;
    for (const r of this.outstanding(scope)) if (r.version <= v) alive++;
    if (alive > 0) throw new KeyVaultError(`cannot bump ${scope} to version ${v + 1}: ${alive} key(s) of version ${v} are neither zeroed nor converted`);
    this.scopes.get(scope)!.version = v + 1;
    return v + 1;
  }

  /** Retires every key of a scope and forgets it (the session is over). */
  close(scope: string): void {
    for (const r of this.scopes.get(scope)?.live ?? []) zeroize(r.key);
    this.scopes.delete(scope);
  }

  /** Closes every scope whose name starts with `prefix`. */
  closeAll(prefix: string): void {
    for (const scope of [...this.scopes.keys()]) if (scope.startsWith(prefix)) this.close(scope);
  }

  /** Keys still alive in a scope (for tests and leak checks). */
  alive(scope: string): readonly Receipt[] {
    return (this.scopes.get(scope)?.live ?? []).filter((r) => !isAllZero(r.key));
  }

  private outstanding(scope: string): Receipt[] {
    let s = this.scopes.get(scope);
    if (s === undefined) {
      s = { version: 0, live: [] };
      this.scopes.set(scope, s);
    }
    return s.live;
  }
}
