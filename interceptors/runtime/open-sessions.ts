/**
 * The sessions a runtime holds open: when each last moved, and which
 * principal started it, so that sessions left idle are expired and no
 * principal holds more than its share (docs/protocol.md, "Resource bounds").
 * A session is open from its first commit at this runtime until its role's
 * part is over (its tombstone is not counted) or it expires.
 */

/** Defaults of SessionRuntimeOptions.sessionIdleTimeoutMs and maxSessionsPerPrincipal. */
export const DEFAULT_SESSION_IDLE_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_MAX_SESSIONS_PER_PRINCIPAL = 1_000;
/** How many expired sessions are remembered, to tell a late message why its session is gone. */
export const EXPIRED_REMEMBERED = 10_000;

interface OpenSession {
  /** The principal that started the session ("" for a session this runtime started or restored). */
  readonly owner: string;
  lastActiveMs: number;
}

export class OpenSessions {
  private readonly open = new Map<string, OpenSession>();
  private readonly perOwner = new Map<string, number>();
  /** How many open sessions (of this runtime's roles) each session id has. */
  private readonly perSession = new Map<string, number>();
  /** Store keys of expired sessions, oldest first, and when each expired. */
  private readonly expired = new Map<string, number>();

  constructor(
    /** 0: sessions never expire. */
    readonly idleTimeoutMs: number,
    /** 0: no cap. */
    readonly maxPerPrincipal: number,
  ) {}

  /** How many sessions are open. */
  get size(): number {
    return this.open.size;
  }

  /** How many open sessions `owner` opened. */
  heldBy(owner: string): number {
    return this.perOwner.get(owner) ?? 0;
  }

  /**
   * Counts a new session opened by `owner` (before its first commit):
   * "full", counting nothing, if `owner` is at the cap; "open" if it is
   * already counted (a concurrent copy of its first message). Synchronous,
   * so concurrent starts cannot both take the last place.
   */
  reserve(key: string, owner: string, nowMs: number, capped: boolean): "reserved" | "open" | "full" {
    if (this.open.has(key)) return "open";
    const held = this.heldBy(owner);
    if (capped && this.maxPerPrincipal > 0 && held >= this.maxPerPrincipal) return "full";
    this.open.set(key, { owner, lastActiveMs: nowMs });
    this.perOwner.set(owner, held + 1);
    const sid = sessionIdOfKey(key);
    this.perSession.set(sid, (this.perSession.get(sid) ?? 0) + 1);
    this.expired.delete(key);
    return "reserved";
  }

  /** Marks a session active now (a commit); a session not counted yet is counted for `owner`, uncapped. */
  touch(key: string, nowMs: number, owner = ""): void {
    const s = this.open.get(key);
    if (s === undefined) this.reserve(key, owner, nowMs, false);
    else s.lastActiveMs = nowMs;
  }

  /** Stops counting a session (its part is over, a commit was undone, or it expired). */
  release(key: string): void {
    const s = this.open.get(key);
    if (s === undefined) return;
    this.open.delete(key);
    const held = this.heldBy(s.owner) - 1;
    if (held > 0) this.perOwner.set(s.owner, held);
    else this.perOwner.delete(s.owner);
    const sid = sessionIdOfKey(key);
    const roles = (this.perSession.get(sid) ?? 1) - 1;
    if (roles > 0) this.perSession.set(sid, roles);
    else this.perSession.delete(sid);
  }

  /** True while another role of this runtime holds session `sid` open (its keys must stay). */
  holdsSession(sid: string): boolean {
    return this.perSession.has(sid);
  }

  /** The sessions idle for longer than the timeout at `nowMs`, released and remembered as expired. */
  takeIdle(nowMs: number): string[] {
    if (this.idleTimeoutMs === 0) return [];
    const out: string[] = [];
    for (const [key, s] of this.open) if (nowMs - s.lastActiveMs > this.idleTimeoutMs) out.push(key);
    for (const key of out) {
      this.release(key);
      this.expired.set(key, nowMs);
      if (this.expired.size > EXPIRED_REMEMBERED) this.expired.delete(this.expired.keys().next().value!);
    }
    return out;
  }

  /** When the session under `key` expired, if it did and is still remembered. */
  expiredAt(key: string): number | undefined {
    return this.expired.get(key);
  }
}

/** The hex session id of a store key `<code>:<role>:<sid>`. */
export function sessionIdOfKey(key: string): string {
  return key.slice(key.lastIndexOf(":") + 1);
}
