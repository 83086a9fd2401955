/**
 * One connection to Redis as the Redis store, replay cache and high-water
 * marks use it (docs/scale-out.md, "Failure modes"): every command has a
 * deadline, every failure (refused connection, offline client, error reply,
 * timeout) becomes a StoreUnavailableError, and scripts run by EVALSHA with
 * a fallback to EVAL when Redis does not know them (after a restart or
 * SCRIPT FLUSH).
 *
 * A write that times out on our side may still reach Redis later (a paused
 * server, a slow network). So every write script also carries a deadline in
 * Redis's own clock, half the timeout after it was sent, and refuses to write
 * past it: a write we gave up on does not happen afterwards, unless its reply
 * alone is delayed by more than half the timeout.
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { StoreUnavailableError } from "./store.js";

/**
 * The `redis` package (node-redis), loaded when a store first needs a client
 * of its own: it is an optional peer of secsession, so a runtime that never
 * uses Redis does not install it.
 */
function nodeRedis(): { createClient(options: object): { on(event: "error", listener: (e: unknown) => void): unknown } } {
  try {
    return createRequire(import.meta.url)("redis") as ReturnType<typeof nodeRedis>;
  } catch (e: unknown) {
    if ((e as { code?: unknown }).code === "MODULE_NOT_FOUND") {
      throw new Error("secsession: redis: a Redis store given a `url` needs the `redis` package (npm install redis), or pass your own `client`", { cause: e });
    }
    throw e;
  }
}

/** RESP_TYPES.BLOB_STRING of node-redis: blob strings are answered as Buffers. */
const BLOB_STRING = 36;

/** What the store needs of a node-redis client (`createClient()` from the `redis` package). */
export interface RedisCommandClient {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  sendCommand(args: ReadonlyArray<string | Buffer>, options?: { typeMapping?: Record<number, unknown> }): Promise<unknown>;
  close?(): Promise<unknown>;
  destroy?(): void;
  on?(event: "error", listener: (e: unknown) => void): unknown;
}

/** How to reach Redis: a client (yours to configure and close), or a URL (the store's own client). */
export interface RedisConnectionOptions {
  /** A node-redis client. Create it with `disableOfflineQueue: true` so commands fail fast while it reconnects. */
  readonly client?: RedisCommandClient;
  /** `redis://host:port`: the store creates, connects and (on close()) closes its own client. */
  readonly url?: string;
  /** Deadline of every command, in milliseconds (default 1000). */
  readonly timeoutMs?: number;
}

const BUFFERS = { typeMapping: { [BLOB_STRING]: Buffer } };
/** How often the offset between our clock and Redis's is measured again. */
const CLOCK_REFRESH_MS = 30_000;

/** A script and its SHA-1, for EVALSHA. */
export interface RedisScript {
  readonly source: string;
  readonly sha: string;
}

/** Prepares a Lua script. */
export function redisScript(source: string): RedisScript {
  return { source, sha: createHash("sha1").update(source).digest("hex") };
}

/** `now_ms()` in Redis's clock, for the scripts' deadlines. */
export const LUA_NOW = "local function now_ms() local t = redis.call('TIME') return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) end\n";

/** A script's answer that it ran past its deadline and wrote nothing. */
export const SCRIPT_EXPIRED = -1;

export class RedisLink {
  readonly timeoutMs: number;
  private readonly client: RedisCommandClient;
  private readonly owned: boolean;
  private connecting: Promise<unknown> | undefined;
  private connected = false;
  /** Redis clock minus ours (ms), the uncertainty of that, and when it was measured. */
  private clock: { offset: number; error: number; at: number } | undefined;

  constructor(options: RedisConnectionOptions) {
    const timeoutMs = options.timeoutMs ?? 1000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`secsession: redis: timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`);
    this.timeoutMs = timeoutMs;
    if ((options.client === undefined) === (options.url === undefined)) throw new TypeError("secsession: redis: give exactly one of `client` and `url`");
    if (options.client !== undefined) {
      if (typeof options.client.sendCommand !== "function") throw new TypeError("secsession: redis: `client` must be a node-redis client (createClient() from the redis package)");
      this.client = options.client;
      this.owned = false;
    } else {
      const client = nodeRedis().createClient({
        url: options.url!,
        disableOfflineQueue: true,
        socket: { connectTimeout: timeoutMs, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 6), 2000) },
      });
      // Errors surface as StoreUnavailableError on the commands that meet them; the event itself only needs a listener.
      client.on("error", () => undefined);
      this.client = client as unknown as RedisCommandClient;
      this.owned = true;
    }
  }

  /** Runs one command; any failure or a reply later than the timeout is a StoreUnavailableError. */
  async run(what: string, args: ReadonlyArray<string | Buffer>): Promise<unknown> {
    await this.ensureOpen(what);
    return this.within(what, this.client.sendCommand(args, BUFFERS));
  }

  /** Runs a script by EVALSHA, loading it with EVAL when Redis answers NOSCRIPT. */
  async script(what: string, s: RedisScript, keys: readonly string[], args: ReadonlyArray<string | Buffer>): Promise<unknown> {
    await this.ensureOpen(what);
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.within(what, this.client.sendCommand(["EVALSHA", s.sha, ...tail], BUFFERS));
    } catch (e: unknown) {
      // NOSCRIPT: the script did not run, so running it by EVAL is the same attempt.
      if (!(e instanceof StoreUnavailableError) || !isNoScript(e.cause)) throw e;
      return this.within(what, this.client.sendCommand(["EVAL", s.source, ...tail], BUFFERS));
    }
  }

  /**
   * The deadline, in Redis's clock, for a write sent now: half the timeout
   * ahead, less the uncertainty of the clock offset.
   */
  async deadline(what: string): Promise<string> {
    const sent = Date.now();
    if (this.clock === undefined || sent - this.clock.at > CLOCK_REFRESH_MS) await this.measureClock(what);
    const c = this.clock!;
    return String(Math.floor(sent + c.offset + this.timeoutMs / 2 - c.error));
  }

  /** Closes the client if the store created it. */
  async close(): Promise<void> {
    if (!this.owned) return;
    try {
      if (this.client.isOpen) await this.client.close?.();
    } catch {
      this.client.destroy?.();
    }
  }

  private async measureClock(what: string): Promise<void> {
    const t0 = Date.now();
    const reply = (await this.run(`${what} (clock)`, ["TIME"])) as unknown;
    const t1 = Date.now();
    if (!Array.isArray(reply) || reply.length !== 2) throw new StoreUnavailableError(`redis: ${what}: TIME answered ${typeof reply}`);
    const redisMs = Number(String(reply[0])) * 1000 + Math.floor(Number(String(reply[1])) / 1000);
    this.clock = { offset: redisMs - (t0 + t1) / 2, error: Math.ceil((t1 - t0) / 2) + 1, at: t1 };
  }

  private async ensureOpen(what: string): Promise<void> {
    if (this.client.isReady) return;
    if (!this.owned) {
      if (!this.client.isOpen) throw new StoreUnavailableError(`redis: ${what}: the client is not connected (call connect() on it)`);
      return; // reconnecting: the command fails fast (disableOfflineQueue) or waits in its queue until the timeout
    }
    // Our own client: every call waits (at most one timeout) for the first connection; once it has been
    // made, the client reconnects in the background and commands fail fast meanwhile.
    if (this.connected) return;
    this.connecting ??= this.client.connect().then(
      () => {
        this.connected = true;
      },
      () => undefined,
    );
    await this.within(what, this.connecting).catch(() => undefined);
    if (!this.client.isReady) throw new StoreUnavailableError(`redis: ${what}: cannot connect`);
  }

  private within<T>(what: string, p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailableError(`redis: ${what}: no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    p.catch(() => undefined); // a late failure after the timeout is already reported
    return Promise.race([
      p.catch((e: unknown) => {
        throw new StoreUnavailableError(`redis: ${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }),
      late,
    ]).finally(() => clearTimeout(timer));
  }
}

function isNoScript(e: unknown): boolean {
  return e instanceof Error && e.message.startsWith("NOSCRIPT");
}
