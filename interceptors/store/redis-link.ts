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
 *
 * On a Redis Cluster (`cluster` or `rootNodes`) each command goes to the
 * master of its first key's slot; the deadline is in the clock of that node;
 * a write runs only while its node has `replicaAcks` replicas online and is
 * followed by WAIT on the same connection, so that a failover cannot undo an
 * accepted message (docs/scale-out.md, "Redis Cluster").
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { StoreUnavailableError } from "./store.js";

/** The parts of the `redis` package (node-redis) the store uses. */
interface NodeRedis {
  createClient(options: object): { on(event: "error", listener: (e: unknown) => void): unknown };
  createCluster(options: object): { on(event: "error", listener: (e: unknown) => void): unknown };
}

/**
 * The `redis` package (node-redis), loaded when a store first needs a client
 * of its own: it is an optional peer of secsession, so a runtime that never
 * uses Redis does not install it.
 */
function nodeRedis(): NodeRedis {
  try {
    return createRequire(import.meta.url)("redis") as NodeRedis;
  } catch (e: unknown) {
    if ((e as { code?: unknown }).code === "MODULE_NOT_FOUND") {
      throw new Error("secsession: redis: a Redis store given a `url` or `rootNodes` needs the `redis` package (npm install redis), or pass your own `client` or `cluster`", { cause: e });
    }
    throw e;
  }
}

/** RESP_TYPES.BLOB_STRING of node-redis: blob strings are answered as Buffers. */
const BLOB_STRING = 36;

type CommandOptions = { typeMapping?: Record<number, unknown>; chainId?: symbol; [k: string]: unknown };

/** What the store needs of a node-redis client (`createClient()` from the `redis` package). */
export interface RedisCommandClient {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  sendCommand(args: ReadonlyArray<string | Buffer>, options?: CommandOptions): Promise<unknown>;
  close?(): Promise<unknown>;
  destroy?(): void;
  on?(event: "error", listener: (e: unknown) => void): unknown;
}

/**
 * What the store needs of a node-redis 5 cluster client (`createCluster()`
 * from the `redis` package): `_execute` runs a function on the client of the
 * master that serves a key, following MOVED and ASK, so that a script and the
 * WAIT after it go over the same connection; `_slots.rediscover` reloads the
 * slot map after a node stopped answering (node-redis only does on MOVED).
 */
export interface RedisClusterCommandClient {
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  sendCommand(firstKey: string | Buffer | undefined, isReadonly: boolean | undefined, args: ReadonlyArray<string | Buffer>, options?: CommandOptions): Promise<unknown>;
  _execute<T>(firstKey: string | Buffer | undefined, isReadonly: boolean | undefined, options: CommandOptions | undefined, fn: (client: RedisCommandClient, options?: CommandOptions) => Promise<T>): Promise<T>;
  readonly _slots?: { rediscover(startWith: object): Promise<void> };
  readonly _options?: { readonly rootNodes?: ReadonlyArray<object> };
  close?(): Promise<unknown>;
  destroy?(): void;
  on?(event: "error", listener: (e: unknown) => void): unknown;
}

/**
 * How to reach Redis — exactly one of: a client (yours to configure and
 * close), a URL (the store's own client), a cluster client (yours), or the
 * root nodes of a Redis Cluster (the store's own cluster client).
 */
export interface RedisConnectionOptions {
  /** A node-redis client. Create it with `disableOfflineQueue: true` so commands fail fast while it reconnects. */
  readonly client?: RedisCommandClient;
  /** `redis://host:port`: the store creates, connects and (on close()) closes its own client. */
  readonly url?: string;
  /**
   * A node-redis 5 cluster client (`createCluster({ rootNodes, defaults: { disableOfflineQueue: true } })`),
   * connected by you. Keys are hash-tagged by session (docs/scale-out.md, "Redis Cluster").
   */
  readonly cluster?: RedisClusterCommandClient;
  /** Redis Cluster nodes (`["redis://10.0.0.5:7000", …]`, some or all): the store creates and closes its own cluster client. */
  readonly rootNodes?: readonly string[];
  /**
   * After each write, wait (WAIT) until this many replicas of the node that
   * took it have it; fewer within the timeout is a StoreUnavailableError.
   * Default 1 with `cluster` / `rootNodes`, 0 otherwise. Set it to the number
   * of replicas per master so that a failover cannot undo an accepted message.
   */
  readonly replicaAcks?: number;
  /** Deadline of every command, in milliseconds (default 1000). */
  readonly timeoutMs?: number;
}

const BUFFERS: CommandOptions = { typeMapping: { [BLOB_STRING]: Buffer } };
/** How often the offset between our clock and a Redis node's is measured again. */
const CLOCK_REFRESH_MS = 30_000;
/** After a node failed, the slot map is reloaded at most this often. */
const REDISCOVER_MS = 250;

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

/** A script's answer that its node has fewer replicas online than `replicaAcks`, and it wrote nothing. */
export const SCRIPT_NO_REPLICAS = -3;

/**
 * The guard of every write script, after LUA_NOW: `refused(deadline)` is
 * SCRIPT_EXPIRED past the deadline, SCRIPT_NO_REPLICAS when the node has
 * fewer replicas online (connected and in sync, not still loading a full
 * resync) than the last argument (`replicaAcks`, appended by
 * RedisLink.script), else false. So a write that WAIT could not confirm for
 * want of a replica is not made at all.
 */
export const LUA_WRITE_GUARD =
  LUA_NOW +
  `local function refused(deadline)
  if now_ms() > tonumber(deadline) then return ${SCRIPT_EXPIRED} end
  local need = tonumber(ARGV[#ARGV])
  if need > 0 then
    local _, online = string.gsub(redis.call('INFO', 'replication'), 'state=online', '')
    if online < need then return ${SCRIPT_NO_REPLICAS} end
  end
  return false
end
`;

/** A write script's deadline argument, filled in per node (its clock) when the script is sent. */
export const DEADLINE: unique symbol = Symbol("deadline");

/** Redis clock minus ours (ms), the uncertainty of that, and when it was measured. */
interface Clock {
  readonly offset: number;
  readonly error: number;
  readonly at: number;
}

/** Runs `fn` on the node that serves `key` (a single client: that client). */
type Exec = <T>(key: string | undefined, fn: (client: RedisCommandClient, options: CommandOptions) => Promise<T>) => Promise<T>;

export class RedisLink {
  readonly timeoutMs: number;
  /** true: a Redis Cluster. */
  readonly clustered: boolean;
  private readonly replicaAcks: number;
  private readonly target: { readonly isOpen: boolean; readonly isReady?: boolean; connect(): Promise<unknown>; close?(): Promise<unknown>; destroy?(): void };
  private readonly exec: Exec;
  private readonly owned: boolean;
  private connecting: Promise<unknown> | undefined;
  private connected = false;
  /** The clock offset of each node, by its node-redis client. */
  private readonly clocks = new WeakMap<object, Clock>();
  private rediscovering: Promise<void> | undefined;
  private closed = false;
  private lastRediscover = 0;
  private readonly clusterClient: RedisClusterCommandClient | undefined;

  constructor(options: RedisConnectionOptions) {
    const timeoutMs = options.timeoutMs ?? 1000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`secsession: redis: timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`);
    this.timeoutMs = timeoutMs;
    const given = (["client", "url", "cluster", "rootNodes"] as const).filter((k) => options[k] !== undefined);
    if (given.length !== 1) {
      throw new TypeError(`secsession: redis: give exactly one of \`client\`, \`url\`, \`cluster\` and \`rootNodes\`${given.length > 1 ? ` (got ${given.join(", ")})` : ""}`);
    }
    this.clustered = options.cluster !== undefined || options.rootNodes !== undefined;
    const acks = options.replicaAcks ?? (this.clustered ? 1 : 0);
    if (!Number.isSafeInteger(acks) || acks < 0 || acks > 16) throw new RangeError(`secsession: redis: replicaAcks must be a whole number from 0 to 16, got ${acks}`);
    this.replicaAcks = acks;
    const socket = { connectTimeout: timeoutMs, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 6), 2000) };
    if (options.client !== undefined) {
      if (typeof options.client.sendCommand !== "function") throw new TypeError("secsession: redis: `client` must be a node-redis client (createClient() from the redis package)");
      this.target = options.client;
      this.owned = false;
    } else if (options.url !== undefined) {
      const client = nodeRedis().createClient({ url: options.url, disableOfflineQueue: true, socket });
      // Errors surface as StoreUnavailableError on the commands that meet them; the event itself only needs a listener.
      client.on("error", () => undefined);
      this.target = client as unknown as RedisCommandClient;
      this.owned = true;
    } else if (options.cluster !== undefined) {
      if (typeof options.cluster.sendCommand !== "function" || typeof options.cluster._execute !== "function") {
        throw new TypeError("secsession: redis: `cluster` must be a node-redis 5 cluster client (createCluster() from the redis package)");
      }
      this.clusterClient = options.cluster;
      this.target = options.cluster;
      this.owned = false;
    } else {
      const nodes = options.rootNodes!;
      if (!Array.isArray(nodes) || nodes.length === 0 || !nodes.every((u) => typeof u === "string" && u !== "")) {
        throw new TypeError("secsession: redis: `rootNodes` is a non-empty list of redis:// URLs");
      }
      const cluster = nodeRedis().createCluster({ rootNodes: nodes.map((url) => ({ url })), defaults: { disableOfflineQueue: true, socket } });
      cluster.on("error", () => undefined);
      this.clusterClient = cluster as unknown as RedisClusterCommandClient;
      this.target = this.clusterClient;
      this.owned = true;
    }
    if (this.clusterClient !== undefined) {
      const cluster = this.clusterClient;
      this.exec = (key, fn) => cluster._execute(key, false, { ...BUFFERS }, (client, o) => fn(client, o ?? { ...BUFFERS }));
    } else {
      const client = this.target as RedisCommandClient;
      this.exec = (_key, fn) => fn(client, BUFFERS);
    }
  }

  /** Runs one command on the node of `args[1]` (its first key); any failure or a reply later than the timeout is a StoreUnavailableError. */
  async run(what: string, args: ReadonlyArray<string | Buffer>): Promise<unknown> {
    await this.ensureOpen(what);
    const key = typeof args[1] === "string" ? args[1] : undefined;
    return this.within(what, this.exec(key, (c, o) => c.sendCommand(args, o)));
  }

  /**
   * Runs a script by EVALSHA, loading it with EVAL when Redis answers
   * NOSCRIPT. A write script (one with a DEADLINE argument) starts with
   * LUA_WRITE_GUARD: DEADLINE becomes the write deadline in the clock of the
   * node that runs it, `replicaAcks` is appended as the last argument, and
   * after the script the write waits (WAIT) for that many replicas.
   */
  async script(what: string, s: RedisScript, keys: readonly string[], args: ReadonlyArray<string | Buffer | typeof DEADLINE>): Promise<unknown> {
    await this.ensureOpen(what);
    const started = Date.now();
    const writes = args.includes(DEADLINE);
    return this.within(
      what,
      this.exec(keys[0], async (client, o) => {
        let deadline = "";
        if (writes) {
          const clock = await this.clockOf(client, o);
          deadline = String(Math.floor(started + clock.offset + this.timeoutMs / 2 - clock.error));
        }
        const tail = [String(keys.length), ...keys, ...args.map((a) => (a === DEADLINE ? deadline : a)), ...(writes ? [String(this.replicaAcks)] : [])];
        let reply: unknown;
        try {
          reply = await client.sendCommand(["EVALSHA", s.sha, ...tail], o);
        } catch (e: unknown) {
          // NOSCRIPT: the script did not run, so running it by EVAL is the same attempt
          // (after ASK, on the node the slot is moving to: ASKING again before it).
          if (!isNoScript(e)) throw e;
          if (o.chainId === undefined) reply = await client.sendCommand(["EVAL", s.source, ...tail], o);
          else {
            const chainId = Symbol("asking");
            reply = (await Promise.all([client.sendCommand(["ASKING"], { chainId }), client.sendCommand(["EVAL", s.source, ...tail], { ...o, chainId })]))[1];
          }
        }
        if (writes && this.replicaAcks > 0 && reply !== SCRIPT_EXPIRED && reply !== SCRIPT_NO_REPLICAS) {
          // On the connection that wrote: WAIT counts replicas that have everything it wrote.
          const waitMs = Math.max(1, Math.floor(this.timeoutMs / 2));
          const acked = Number(await client.sendCommand(["WAIT", String(this.replicaAcks), String(waitMs)]));
          if (!(acked >= this.replicaAcks)) {
            throw new StoreUnavailableError(`redis: ${what}: the write reached ${acked} of ${this.replicaAcks} replica(s) within ${waitMs} ms`);
          }
        }
        return reply;
      }),
    );
  }

  /** Closes the client if the store created it. */
  async close(): Promise<void> {
    this.closed = true;
    await this.rediscovering; // a reload of the slot map in flight would open node connections after the close
    if (!this.owned) return;
    try {
      if (this.target.isOpen) await this.target.close?.();
    } catch {
      this.target.destroy?.();
    }
  }

  /** The clock offset of the node `client` talks to, measured on first use and every CLOCK_REFRESH_MS. */
  private async clockOf(client: RedisCommandClient, o: CommandOptions): Promise<Clock> {
    const known = this.clocks.get(client);
    if (known !== undefined && Date.now() - known.at <= CLOCK_REFRESH_MS) return known;
    if (o.chainId !== undefined) {
      // Asked to send the script right after ASKING: a TIME in between would use up the ASKING.
      // Measure for the next attempt, and refuse this one (fail closed).
      void this.measure(client).catch(() => undefined);
      throw new StoreUnavailableError("redis: the node a slot is moving to has no measured clock yet");
    }
    return this.measure(client);
  }

  private async measure(client: RedisCommandClient): Promise<Clock> {
    const t0 = Date.now();
    const reply = (await client.sendCommand(["TIME"])) as unknown;
    const t1 = Date.now();
    if (!Array.isArray(reply) || reply.length !== 2) throw new StoreUnavailableError(`redis: TIME answered ${typeof reply}`);
    const redisMs = Number(String(reply[0])) * 1000 + Math.floor(Number(String(reply[1])) / 1000);
    const clock = { offset: redisMs - (t0 + t1) / 2, error: Math.ceil((t1 - t0) / 2) + 1, at: t1 };
    this.clocks.set(client, clock);
    return clock;
  }

  private async ensureOpen(what: string): Promise<void> {
    if (this.target.isReady === true || (this.clustered && this.connected)) return;
    if (!this.owned) {
      if (!this.target.isOpen) throw new StoreUnavailableError(`redis: ${what}: the client is not connected (call connect() on it)`);
      return; // reconnecting: the command fails fast (disableOfflineQueue) or waits in its queue until the timeout
    }
    // Our own client: every call waits (at most one timeout) for the first connection; once it has been
    // made, the client reconnects in the background and commands fail fast meanwhile.
    if (this.connected) return;
    this.connecting ??= this.target.connect().then(
      () => {
        this.connected = true;
      },
      () => {
        this.connecting = undefined; // a cluster whose root nodes did not answer: try again on the next call
      },
    );
    await this.within(what, this.connecting).catch(() => undefined);
    if (!this.connected) throw new StoreUnavailableError(`redis: ${what}: cannot connect`);
  }

  /**
   * After a cluster node failed to answer (killed, partitioned, failed over):
   * reload the slot map from a live node, at most every REDISCOVER_MS.
   */
  private rediscover(): void {
    const cluster = this.clusterClient;
    if (cluster?._slots === undefined || this.closed || this.rediscovering !== undefined || Date.now() - this.lastRediscover < REDISCOVER_MS) return;
    const roots = cluster._options?.rootNodes ?? [];
    if (roots.length === 0) return;
    this.lastRediscover = Date.now();
    const start = roots[Math.floor(Math.random() * roots.length)]!;
    this.rediscovering = cluster._slots
      .rediscover({ options: start })
      .catch(() => undefined)
      .finally(() => {
        this.rediscovering = undefined;
        this.lastRediscover = Date.now();
      });
  }

  private within<T>(what: string, p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.rediscover();
        reject(new StoreUnavailableError(`redis: ${what}: no answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
    });
    p.catch(() => undefined); // a late failure after the timeout is already reported
    return Promise.race([
      p.catch((e: unknown) => {
        if (e instanceof StoreUnavailableError) throw e;
        if (!isReplyError(e)) this.rediscover(); // the connection, not Redis, failed: the topology may have changed
        else if (/^(CLUSTERDOWN|TRYAGAIN|READONLY|MOVED|ASK)/.test((e as Error).message)) this.rediscover();
        throw new StoreUnavailableError(`redis: ${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }),
      late,
    ]).finally(() => clearTimeout(timer));
  }
}

/** An error reply of Redis (not a failure of the connection). */
function isReplyError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  for (let p: unknown = Object.getPrototypeOf(e); p !== null && p !== Error.prototype; p = Object.getPrototypeOf(p)) {
    if ((p as { constructor?: { name?: string } }).constructor?.name === "ErrorReply") return true;
  }
  return false;
}

function isNoScript(e: unknown): boolean {
  return e instanceof Error && e.message.startsWith("NOSCRIPT");
}
