/**
 * The SessionRuntime: one per process and identity. It holds the identity,
 * key resolver, stores, metrics and the `securityAlert` event; it gives the
 * grpc-js client and server interceptors, plays roles, starts sessions and
 * serves the roles' services.
 *
 * @example
 * const runtime = createSessionRuntime({ identity, resolver, peers: { office: "127.0.0.1:50051" } });
 * const server = new grpc.Server({ interceptors: [runtime.serverInterceptor()] });
 * runtime.serve(server, ShoppingO, { request: async ({ message, next }) => { await next.contract({ contract: message.item }); } });
 */
import * as grpc from "@grpc/grpc-js";
import type { SecurityAlert } from "../errors.js";
import { fromServiceError, refusalStatus, SecSessionError } from "../errors.js";
import { createClientInterceptor } from "../grpc/client-interceptor.js";
import { CheckedReceipt, deserialize, OpenedMessage, PendingReceipt, RefusedResponse, sealedMethod, serialize, type PendingSend } from "../grpc/sealed.js";
import { createServerInterceptor } from "../grpc/server-interceptor.js";
import { defaultBackend, zeroize, type CryptoBackend } from "../keys/crypto/index.js";
import { PREKEYS_KEPT, publicKeysOf, rotatePrekey, type Identity, type KeyResolver, type PeerPublicKeys, type Prekey } from "../keys/identity.js";
import { openPrekeySet, sealPrekeySet, type PrekeySource } from "../keys/prekey-source.js";
import { withProtection, type Protection } from "../monitor/protection.js";
import { defences } from "../monitor/defences.js";
import { decodeIncoming, Party, type Received } from "../runtime/party.js";
import { RuntimeCore, type RuntimeMetrics } from "../runtime/runtime-core.js";
import { Telemetry, type TelemetryOptions } from "../runtime/telemetry.js";
import { createMemoryReplayCache, createMemoryStore } from "../store/memory.js";
import type { ReplayCache, SessionStore } from "../store/store.js";
import { checkReplicaHandlers, replicaIncoming, type ReplicaHandlers } from "../store/replicated-role.js";
import type { EvidenceSink } from "../runtime/evidence.js";
import type { SessionState } from "../monitor/state.js";
import { hex } from "../wire/encoding.js";
import type { WireEnvelope } from "../wire/envelope-codec.js";
import { checkTimeout, LocalSession, type IncomingValue, type Responder, type Transport } from "./local-session.js";
import { DEFAULT_MAX_SESSIONS_PER_PRINCIPAL, DEFAULT_SESSION_IDLE_TIMEOUT_MS, OpenSessions, sessionIdOfKey } from "../runtime/open-sessions.js";
import { checkBindings, checkRuntimeOptions, lookUpAddress, SKIP_ATTESTATION_CHECKS, type PeerAddresses } from "./options.js";
import type { AnyBindings, RoleDefinition } from "./role.js";
import type { Machine, RoleState, SendOptions, SessionHandlers } from "./types.js";

/** What a `handlerError` listener receives. */
export interface HandlerError {
  readonly session: string;
  readonly role: string;
  readonly sessionId: string;
  /** The move whose handler failed. */
  readonly move: string;
  readonly error: unknown;
  /** True when a call was waiting for this role's response (it got INTERNAL). */
  readonly callerWaiting: boolean;
}

export interface SessionRuntimeOptions {
  /** This peer: its id (principal) and private keys. */
  readonly identity: Identity;
  /** Public keys of other principals. */
  readonly resolver: KeyResolver;
  /**
   * Where each principal listens (`host:port`), for the messages this peer
   * sends: a Map, an object (its own keys only are read) or a function.
   */
  readonly peers?: PeerAddresses;
  readonly crypto?: CryptoBackend;
  readonly store?: SessionStore;
  readonly replayCache?: ReplayCache;
  /** Clock in milliseconds (tests move it). */
  readonly now?: () => number;
  /**
   * How far ahead of this runtime's clock a session start may be, in
   * milliseconds (the initiator's clock runs ahead). Default 30,000. A start
   * is accepted from the replay window before this clock to this much after
   * it, and remembered until the window has passed its own time.
   */
  readonly maxClockSkewMs?: number;
  /** Channel credentials for outgoing calls (default: insecure; the envelope carries the protection). */
  readonly credentials?: grpc.ChannelCredentials;
  /**
   * Benchmark only: `"off"` plays every session with its protection switched
   * off, `"replay-only"` keeps only the replay checks (monitor/protection.ts).
   * Both ends must use the same value; a peer with full protection refuses
   * their messages. Default `"full"`.
   */
  readonly protection?: Protection;
  /** Appends evidence of every message sent and received (non-repudiation). */
  readonly evidence?: EvidenceSink;
  /** Further client interceptors, run after ours (they see sealed envelopes). */
  readonly interceptors?: readonly grpc.Interceptor[];
  /**
   * Channel options of the clients this runtime opens, e.g. per-call round
   * robin over a role's replicas: `{ "grpc.service_config": '{"loadBalancingConfig":[{"round_robin":{}}]}' }`
   * with the peer's address `ipv4:10.0.0.1:50051,10.0.0.2:50051` (docs/scale-out.md).
   */
  readonly channelOptions?: grpc.ChannelOptions;
  /**
   * A session in which no message was sent or received for this long (ms) is
   * expired: freed from memory (and from an in-memory store; a shared store
   * drops it by its own TTL), its waiting receives reject with
   * SessionExpiredError, and a late message for it is refused
   * `unknown-session`, saying it expired. Default 600,000 (10 minutes); 0:
   * never (docs/protocol.md, "Resource bounds").
   */
  readonly sessionIdleTimeoutMs?: number;
  /**
   * The most sessions open at this runtime that one principal may have
   * started (the principal bound to the initiating role, whoever relayed
   * them here). A further first message is refused `session-limit`
   * (RESOURCE_EXHAUSTED) before anything is stored. Default 1,000; 0: no cap.
   */
  readonly maxSessionsPerPrincipal?: number;
  /**
   * How long `receive()` waits by default (ms; a call's `{ timeoutMs }`
   * overrides it). Default: until the session expires.
   */
  readonly receiveTimeoutMs?: number;
  /**
   * OpenTelemetry (docs/observability.md): by default the providers
   * registered globally with `@opentelemetry/api` (a no-op when the package
   * is not installed or no SDK is registered; register them before creating
   * the runtime), or the providers given here; `false` records nothing.
   */
  readonly telemetry?: TelemetryOptions;
  /**
   * Where the replicas of this principal share its prekeys
   * (createMemoryPrekeySource, createRedisPrekeySource; docs/keys.md,
   * "Rotation across replicas"): rotateSharedPrekey() publishes a rotation
   * there, and every replica adopts a newer set within prekeyRefreshMs.
   */
  readonly prekeySource?: PrekeySource;
  /** How often a replica reads the shared prekey set again (ms, default 5,000). */
  readonly prekeyRefreshMs?: number;
}

/** Creates a runtime; throws a TypeError or RangeError naming the option at fault. */
export function createSessionRuntime(options: SessionRuntimeOptions): SessionRuntime {
  return new SessionRuntime(options);
}

export class SessionRuntime implements Transport {
  readonly core: RuntimeCore;
  private readonly alertListeners = new Set<(a: SecurityAlert) => void>();
  private readonly handlerErrorListeners = new Set<(e: HandlerError) => void>();
  private readonly parties = new Map<string, Party>();
  /** The parties receiving on each rpc path (dispatch), made on first use; cleared when a party is added. */
  private readonly receivers = new Map<string, readonly Party[]>();
  private readonly sessions = new Map<string, LocalSession>();
  private readonly handlers = new Map<string, Record<string, (incoming: IncomingValue) => Promise<void> | void>>();
  /** `<code>:<role>` of the roles served by serveReplicated. */
  private readonly replicated = new Set<string>();
  private readonly clients = new Map<string, grpc.Client>();
  /** Work in flight, for shutdown(): messages being opened, calls this runtime made, calls awaiting this runtime's answer. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly unanswered = new Map<OpenedMessage, Responder>();
  private shuttingDown = false;
  private readonly prekeyTimer: ReturnType<typeof setInterval> | undefined;
  private readonly servedServices = new WeakMap<grpc.Server, Set<string>>();
  private readonly clientInterceptorFn = createClientInterceptor((metadata) => this.core.telemetry.inject(metadata));
  readonly receiveTimeoutMs: number | undefined;
  private readonly expiryTimer: ReturnType<typeof setInterval> | undefined;
  private readonly serverInterceptorFn = createServerInterceptor(
    (path, bytes, peer, metadata) => this.core.telemetry.within(metadata, () => this.dispatch(path, bytes, peer)),
    (e, peer) => void this.core.alert(e, "", -1, peer),
  );

  constructor(private readonly options: SessionRuntimeOptions) {
    checkRuntimeOptions(options);
    this.core = new RuntimeCore(
      options.identity,
      options.resolver,
      options.crypto ?? defaultBackend(),
      options.store ?? createMemoryStore(),
      options.replayCache ?? createMemoryReplayCache(options.now),
      options.now ?? Date.now,
      (a) => {
        for (const l of this.alertListeners) l(a);
      },
      (options as { readonly [SKIP_ATTESTATION_CHECKS]?: boolean })[SKIP_ATTESTATION_CHECKS] !== true,
      10_000,
      options.evidence,
      options.protection ?? "full",
    );
    if (options.maxClockSkewMs !== undefined) {
      if (!Number.isSafeInteger(options.maxClockSkewMs) || options.maxClockSkewMs < 0) throw new RangeError(`secsession: maxClockSkewMs must be a whole number of milliseconds ≥ 0, got ${String(options.maxClockSkewMs)}`);
      this.core.maxClockSkewMs = options.maxClockSkewMs;
    }
    const idle = wholeMs("sessionIdleTimeoutMs", options.sessionIdleTimeoutMs, DEFAULT_SESSION_IDLE_TIMEOUT_MS);
    this.core.openSessions = new OpenSessions(idle, wholeMs("maxSessionsPerPrincipal", options.maxSessionsPerPrincipal, DEFAULT_MAX_SESSIONS_PER_PRINCIPAL, "a whole number ≥ 0"));
    this.core.telemetry = new Telemetry(options.telemetry, () => this.core.openSessions.size);
    if (options.prekeySource !== undefined) {
      const every = options.prekeyRefreshMs ?? 5_000;
      checkTimeout("prekeyRefreshMs", every);
      // A failed read (the store unavailable) is tried again at the next tick; a set that does not open is an alert-worthy fault, kept for refreshPrekeys() to throw.
      this.prekeyTimer = setInterval(() => void this.refreshPrekeys().catch(() => undefined), every);
      this.prekeyTimer.unref();
    }
    if (options.receiveTimeoutMs !== undefined) checkTimeout("receiveTimeoutMs", options.receiveTimeoutMs);
    this.receiveTimeoutMs = options.receiveTimeoutMs;
    // Idle sessions are expired even when nothing else happens; the timer does not keep the process alive.
    if (idle > 0) {
      this.expiryTimer = setInterval(() => void this.expireIdleSessions(), Math.min(30_000, Math.max(50, Math.floor(idle / 4))));
      this.expiryTimer.unref();
    }
  }

  /**
   * Expires the sessions idle for longer than sessionIdleTimeoutMs (also
   * done periodically): each is freed from memory — its session object, its
   * keys (zeroed) — and from an in-memory store; a shared store
   * (`detached`) drops it by its TTL, since another replica may have moved
   * it on. Returns how many expired.
   */
  async expireIdleSessions(): Promise<number> {
    if (!defences.idleExpiry) return 0;
    const open = this.core.openSessions;
    const keys = open.takeIdle(this.core.now());
    const reason = `expired: it was idle for more than ${open.idleTimeoutMs} ms (sessionIdleTimeoutMs)`;
    for (const key of keys) {
      const local = this.sessions.get(key);
      this.sessions.delete(key);
      local?.expire(reason);
      const sid = sessionIdOfKey(key);
      if (!open.holdsSession(sid)) this.core.forgetKeys(sid);
      if (this.options.store?.detached !== true) await this.core.store.delete(key).catch(() => undefined);
    }
    return keys.length;
  }

  /** Sessions held open, and by whom (for operators and tests). */
  get openSessions(): { readonly total: number; heldBy(principal: string): number } {
    const open = this.core.openSessions;
    return { total: open.size, heldBy: (p) => open.heldBy(p) };
  }

  /** Listens to refused messages: `{ kind, sessionId, edge, peer, reason }`. */
  on(event: "securityAlert", listener: (a: SecurityAlert) => void): this;
  /**
   * A handler that failed (threw, or a replicated role's handler returned
   * without responding) while its caller waited: the caller gets INTERNAL
   * with a generic reason; the error and where it happened come here, never
   * to the peer.
   */
  on(event: "handlerError", listener: (e: HandlerError) => void): this;
  on(event: "securityAlert" | "handlerError", listener: ((a: SecurityAlert) => void) | ((e: HandlerError) => void)): this {
    if (event === "securityAlert") this.alertListeners.add(listener as (a: SecurityAlert) => void);
    else if (event === "handlerError") this.handlerErrorListeners.add(listener as (e: HandlerError) => void);
    else throw new Error(`secsession: unknown event ${String(event)}`);
    return this;
  }

  /**
   * Gives this peer a new signed prekey, published from now on (hand
   * `publicKeys` to the peers' keyrings). The `keep` newest prekeys stay for
   * first contacts from peers with an older keyring; older ones are zeroed,
   * and first flights sent under them can no longer be opened (docs/keys.md).
   */
  rotatePrekey(keep = PREKEYS_KEPT): PeerPublicKeys {
    if (this.options.prekeySource !== undefined) throw new Error("secsession: this runtime shares its prekeys (prekeySource): rotate with rotateSharedPrekey(), so that every replica holds the new prekey");
    this.core.identity = rotatePrekey(this.core.identity, this.core.crypto, keep);
    return publicKeysOf(this.core.identity);
  }

  /**
   * Rotates the prekey of a principal whose replicas share a prekeySource:
   * reads the newest published set (another replica may have rotated),
   * adds a prekey, keeps `keep` (default 2: the new one and its
   * predecessor), and publishes the set by compare-and-set, retrying when
   * another replica published meanwhile. Returns the public keys to give
   * peers. Publish them after the other replicas have read the set (within
   * prekeyRefreshMs, or call refreshPrekeys() on each): until then a first
   * contact under the new prekey reaching another replica is refused.
   */
  async rotateSharedPrekey(keep = PREKEYS_KEPT): Promise<PeerPublicKeys> {
    const source = this.options.prekeySource;
    if (source === undefined) throw new Error("secsession: rotateSharedPrekey needs the prekeySource option (or use rotatePrekey() for a single process)");
    for (let attempt = 0; attempt < 8; attempt++) {
      const published = await source.read();
      if (published !== undefined) this.adoptPrekeys(openPrekeySet(this.core.crypto, this.core.identity, published));
      // The rotation works on copies: the set held now stays intact until the new one is published.
      const copies = (this.core.identity.prekeys ?? []).map((p) => ({ ...p, privateKey: p.privateKey.slice() }));
      const next = rotatePrekey({ ...this.core.identity, prekeys: copies }, this.core.crypto, keep);
      if (await source.write(published, sealPrekeySet(this.core.crypto, this.core.identity, next.prekeys ?? []))) {
        this.adoptPrekeys(next.prekeys ?? []);
        return publicKeysOf(this.core.identity);
      }
      for (const p of next.prekeys ?? []) zeroize(p.privateKey);
    }
    throw new Error("secsession: rotateSharedPrekey: the shared prekey set kept changing under this rotation (8 attempts)");
  }

  /**
   * Reads the shared prekey set and adopts it when its newest prekey is
   * newer than this runtime's (done every prekeyRefreshMs). True when it
   * adopted a set. A set that does not open under this identity, or holds a
   * prekey without its signature, is refused (an error), and an older one is
   * never adopted.
   */
  async refreshPrekeys(): Promise<boolean> {
    const source = this.options.prekeySource;
    if (source === undefined) return false;
    const published = await source.read();
    if (published === undefined) return false;
    return this.adoptPrekeys(openPrekeySet(this.core.crypto, this.core.identity, published));
  }

  /** Holds `set` (fresh objects) if its newest prekey is newer than those held: the held ones it replaces are zeroed; else `set` is. */
  private adoptPrekeys(set: readonly Prekey[]): boolean {
    const held = this.core.identity.prekeys ?? [];
    if ((set.at(-1)?.id ?? 0) <= (held.at(-1)?.id ?? 0)) {
      for (const p of set) if (!held.includes(p)) zeroize(p.privateKey);
      return false;
    }
    this.core.identity = { ...this.core.identity, prekeys: set };
    for (const h of held) if (!set.includes(h)) zeroize(h.privateKey);
    return true;
  }

  /** Accepted messages and refusals per alert kind. */
  get metrics(): RuntimeMetrics {
    return this.core.metrics;
  }

  /** The interceptor to give every client that carries session messages. */
  clientInterceptor(): grpc.Interceptor {
    return this.clientInterceptorFn;
  }

  /** The interceptor to give `new grpc.Server({ interceptors })`. */
  serverInterceptor(): grpc.ServerInterceptor {
    return this.serverInterceptorFn;
  }

  /** The party playing `def` in this runtime (created on first use). */
  party(def: RoleDefinition): Party {
    const k = `${def.descriptor.code}:${def.role}`;
    let p = this.parties.get(k);
    if (p === undefined) {
      p = new Party(this.core, withProtection(def.descriptor, this.core.protection), def.role, def.file);
      this.parties.set(k, p);
      this.receivers.clear();
    }
    return p;
  }

  /**
   * Starts a session as its initiating role; `bindings` names the principal
   * of each static role (bound at the start). Its type is the role's
   * generated `<Session><Role>Bindings`: every static role is required but
   * the starting role's own, which defaults to this runtime's identity; a
   * dynamic role (bound by a message's `bind`), an unknown role, or a start
   * by a role that does not start the session is a type error, and is
   * refused here at run time too.
   *
   * @example
   * const s0 = await runtime.start(ShoppingC, { o: "office", w: "warehouse" }); // c: this runtime's identity
   */
  async start<M extends Machine, B>(def: RoleDefinition<M, B>, bindings: NoInfer<B>): Promise<RoleState<M, 0>> {
    checkRole("start", def);
    if (this.shuttingDown) throw new Error("secsession: the runtime is shutting down: it starts no new session");
    const roles = def.descriptor.roles.filter((r) => !r.dynamic).map((r) => r.name);
    checkBindings(`start (session ${def.descriptor.name}, role ${def.role})`, bindings, roles);
    const party = this.party(def);
    // Checked at run time as well: a caller without the generated types (or with a cast) gets the same refusals.
    const st = await party.start(bindings as AnyBindings);
    const key = party.key(st.key);
    const local = new LocalSession(party, st.key, this, () => this.sessions.delete(key));
    this.sessions.set(key, local);
    return local.current() as RoleState<M, 0>;
  }

  /**
   * Continues a session whose state is in this runtime's store but which this
   * runtime does not play yet (importSession put it there): registers it at
   * the role's local state `localState` and returns that state's object. Use
   * resumeSession (interceptors/store/resume.ts), which computes the local
   * state; call it before the session's next message can arrive.
   */
  async resume(def: RoleDefinition, sessionKey: string, localState: number): Promise<object> {
    const party = this.party(def);
    const key = party.key(sessionKey);
    if ((await party.state(sessionKey)) === undefined) throw new Error(`secsession: no session ${sessionKey} of role ${def.role} in this runtime's store`);
    if (this.sessions.has(key)) throw new Error(`secsession: session ${sessionKey} is already live in this runtime`);
    const local = new LocalSession(party, sessionKey, this, () => this.sessions.delete(key), undefined, localState);
    this.sessions.set(key, local);
    this.core.openSessions.touch(key, this.core.now());
    return local.current();
  }

  /**
   * Serves the role's gRPC service on `server` (which must have this
   * runtime's server interceptor). `handlers` run when a session starts for
   * this role, with the first message and the state object after it.
   */
  serve<M extends Machine>(server: grpc.Server, def: RoleDefinition<M>, handlers: SessionHandlers<M>): void {
    const party = this.party(def);
    this.handlers.set(`${party.descriptor.code}:${def.role}`, handlers as unknown as Record<string, (i: IncomingValue) => void>);
    const serviceName = def.descriptor.roles.find((r) => r.name === def.role)!.service;
    if (serviceName === null) throw new Error(`secsession: role ${def.role} of ${def.descriptor.name} serves no service`);
    const served = this.servedServices.get(server) ?? new Set<string>();
    this.servedServices.set(server, served);
    if (served.has(serviceName)) return;
    served.add(serviceName);
    const svc = party.service(serviceName);
    const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
    const impl: grpc.UntypedServiceImplementation = {};
    for (const m of svc.methods) {
      const path = `/${svc.typeName}/${m.name}`;
      definition[m.name] = sealedMethod(path, m.localName);
      impl[m.name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => this.connect(call.request, callback as Responder);
    }
    server.addService(definition as grpc.ServiceDefinition, impl);
  }

  /**
   * Serves a role that several replicas play behind one address, sharing a
   * store and replay cache (createRedisStore, createRedisReplayCache): every
   * message the role receives runs the handler of its move, on the replica
   * that received it, with the state object after it; the handler sends what
   * follows and returns (docs/scale-out.md, "Replicated roles"). `handlers`
   * must cover every move the role receives; `receive()` refuses.
   */
  serveReplicated<M extends Machine>(server: grpc.Server, def: RoleDefinition<M>, handlers: ReplicaHandlers<M>): void {
    checkReplicaHandlers(def, handlers);
    this.replicated.add(`${this.party(def).descriptor.code}:${def.role}`);
    this.serve(server, def, handlers as unknown as SessionHandlers<M>);
  }

  /** Closes the clients this runtime opened, and stops expiring sessions. */
  close(): void {
    if (this.expiryTimer !== undefined) clearInterval(this.expiryTimer);
    if (this.prekeyTimer !== undefined) clearInterval(this.prekeyTimer);
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  /**
   * Graceful shutdown: starts no new session, waits (at most `graceMs`,
   * default 10 s) for the work in flight — messages being opened, calls this
   * runtime made, and calls waiting for this runtime's response — then
   * answers any call still waiting with UNAVAILABLE, closes the clients
   * (close()) and, unless `closeStores` is false (stores shared with another
   * runtime), the store and replay cache given to it when they can be closed
   * (the Redis ones). Sessions already open may go on moving
   * until then. Stop the gRPC server first (`server.tryShutdown`) so that no
   * new call arrives; docs/scale-out.md, "Graceful shutdown".
   */
  async shutdown(options: { readonly graceMs?: number; readonly closeStores?: boolean } = {}): Promise<{ readonly drained: boolean; readonly unanswered: number }> {
    const graceMs = options.graceMs ?? 10_000;
    if (!Number.isFinite(graceMs) || graceMs < 0) throw new RangeError(`secsession: shutdown: graceMs must be a number of milliseconds ≥ 0, got ${String(graceMs)}`);
    this.shuttingDown = true;
    const deadline = Date.now() + graceMs;
    while ((this.inFlight.size > 0 || this.unanswered.size > 0) && Date.now() < deadline) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const tick = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.min(50, Math.max(0, deadline - Date.now())))));
      // Wakes when the work in flight settles, or at the next tick (calls waiting for an answer settle no promise here).
      await (this.inFlight.size > 0 ? Promise.race([Promise.allSettled([...this.inFlight]), tick]) : tick);
      clearTimeout(timer);
    }
    const drained = this.inFlight.size === 0 && this.unanswered.size === 0;
    const left = this.unanswered.size;
    for (const [, respond] of [...this.unanswered]) respond({ code: grpc.status.UNAVAILABLE, details: "secsession: the server shut down before this call's response was sent" });
    this.close();
    if (options.closeStores !== false) {
      const closable = [this.options.store, this.options.replayCache] as Array<{ close?: () => Promise<void> | void } | undefined>;
      for (const c of new Set(closable)) if (c !== undefined && typeof c.close === "function") await c.close();
    }
    return { drained, unanswered: left };
  }

  /** Tracks `p` as work in flight until it settles. */
  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    const done = () => void this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  /** Transport: sends a one-way message or request to its receiver and checks the outcome. */
  call(party: Party, send: PendingSend, options: SendOptions, state: SessionState): Promise<Received | "receipt"> {
    return this.track(this.callOnce(send, options, state));
  }

  private callOnce(send: PendingSend, options: SendOptions, state: SessionState): Promise<Received | "receipt"> {
    return new Promise<Received | "receipt">((resolve, reject) => {
      const receiver = send.edge.receiver;
      const principal = send.bindings.find((b) => b.role === receiver)?.principal ?? state.principals[receiver];
      if (principal === undefined) throw new Error(`secsession: role ${receiver} is not bound`);
      const client = this.client(this.addressOf(principal));
      const deadline = options.deadline ?? Date.now() + 30_000;
      client.makeUnaryRequest<PendingSend, unknown>(send.edge.rpc, serialize, deserialize, send, { deadline }, (err, value) => {
        if (err !== null) return reject(fromServiceError(err));
        if (value instanceof RefusedResponse) return reject(value.error);
        if (value instanceof CheckedReceipt) return resolve("receipt");
        if (value !== undefined && value !== null && typeof value === "object" && "edge" in value) return resolve(value as Received);
        reject(new SecSessionError("malformed", "the response was not checked: is the client interceptor installed?"));
      });
    });
  }

  private addressOf(principal: string): string {
    const a = lookUpAddress(this.options.peers, principal);
    if (typeof a !== "string" || a === "") throw new Error(`secsession: no address for principal ${JSON.stringify(principal)}: add it to the runtime's peers`);
    return a;
  }

  private client(address: string): grpc.Client {
    let c = this.clients.get(address);
    if (c === undefined) {
      const interceptors = [this.clientInterceptorFn, ...(this.options.interceptors ?? [])];
      c = new grpc.Client(address, this.options.credentials ?? grpc.credentials.createInsecure(), { ...this.options.channelOptions, interceptors });
      this.clients.set(address, c);
    }
    return c;
  }

  /**
   * The server interceptor's dispatch: decodes the message once and routes it
   * to the party it addresses; once opened, it is delivered at once.
   */
  private dispatch(path: string, bytes: Uint8Array, peer: string): Promise<OpenedMessage> | undefined {
    let candidates = this.receivers.get(path);
    if (candidates === undefined) {
      candidates = [...this.parties.values()].filter((p) => p.receivesOn(path));
      this.receivers.set(path, candidates);
    }
    if (candidates.length === 0) return undefined;
    return this.track(this.dispatchTo(candidates, path, bytes, peer));
  }

  private async dispatchTo(candidates: readonly Party[], path: string, bytes: Uint8Array, peer: string): Promise<OpenedMessage> {
    const env = decodeIncoming(this.core, bytes, peer);
    const party = candidates.length === 1 ? candidates[0]! : await this.route(candidates, env, path);
    const received = await party.unwrapDecoded(env, path, ["oneway", "request"], peer);
    const opened = new OpenedMessage(party, received);
    if (defences.deliverAtCommit) this.deliver(opened);
    return opened;
  }

  /**
   * Which of the parties receiving on `path` a message is for: the one whose
   * role receives the edge it claims (two roles of one protocol may serve one
   * service) and, for a first message, whose session code its start names;
   * among several (protocols sharing a service), the one that holds its
   * session — live here, or in the store (a replicated role keeps its
   * sessions there alone). None: the first refuses it. Routing reads only
   * what the chosen party then checks in full.
   */
  private async route(candidates: readonly Party[], env: WireEnvelope, path: string): Promise<Party> {
    if (candidates.length === 1) return candidates[0]!;
    const addressed = candidates.filter((p) => p.addressedBy(env, path));
    if (addressed.length <= 1 || env.start !== undefined) return addressed[0] ?? candidates[0]!;
    const sid = hex(env.sessionId);
    const live = addressed.find((p) => this.sessions.has(p.key(sid)));
    if (live !== undefined) return live;
    for (const p of addressed) if ((await p.state(sid)) !== undefined) return p;
    return addressed[0]!;
  }

  /** A handler call: connects the call to the session its opened message was delivered to. */
  private connect(value: unknown, callback: Responder): void {
    if (!(value instanceof OpenedMessage)) {
      callback({ code: grpc.status.FAILED_PRECONDITION, details: "secsession: the server interceptor is not installed, so this message was not checked" });
      return;
    }
    if (!value.delivered) this.deliver(value); // the defence switched off (tests only): delivered by the handler, as before
    value.connect(callback);
  }

  /** An opened message reaches its session, in the same turn as its commit (grpc/server-interceptor.ts). */
  private deliver(opened: OpenedMessage): void {
    opened.delivered = true;
    const { party, received } = opened;
    // Until the session answers, the call is waiting on this runtime (shutdown() drains it).
    const respond: Responder = (error, value) => {
      if (!this.unanswered.delete(opened)) return; // answered already (or by shutdown)
      opened.respond(error, value);
    };
    this.unanswered.set(opened, respond);
    const role = `${party.descriptor.code}:${party.role}`;
    // A replicated role gets a session object for this message only, at the local state the store implies
    // (docs/scale-out.md); otherwise the message reaches the session object this process holds, or a new one.
    const replicated = this.replicated.has(role);
    const key = party.key(received.sessionKey);
    const joined = received.joined;
    let local = replicated ? undefined : this.sessions.get(key);
    if (local === undefined) {
      local = replicated
        ? new LocalSession(party, received.sessionKey, this, () => undefined, received.edge.id)
        : new LocalSession(party, received.sessionKey, this, () => this.sessions.delete(key), joined ? undefined : received.edge.id);
      if (!replicated) this.sessions.set(key, local);
    }
    const session = local;
    let incoming: IncomingValue;
    try {
      incoming = session.accept(received, respond);
    } catch (e: unknown) {
      // The detail is for this runtime's alert, never for the peer.
      const err = this.core.alert(SecSessionError.from(e), received.sessionKey, received.edge.id, "");
      respond(refusalStatus(err));
      return;
    }
    if (received.edge.kind === "oneway") respond(null, new PendingReceipt(party, received));
    if (!replicated && !joined) {
      session.deliver(incoming);
      return;
    }
    const handler = this.handlers.get(role)?.[incoming.kind];
    // The reason stays here (handlerError listeners); the caller gets a generic INTERNAL.
    const failed = (error: unknown): void => {
      const abandoned = session.abandon();
      const e: HandlerError = { session: party.descriptor.name, role: party.role, sessionId: received.sessionKey, move: incoming.kind, error, callerWaiting: abandoned };
      for (const l of this.handlerErrorListeners) l(e);
    };
    if (handler === undefined) {
      failed(new Error(`secsession: no handler for ${incoming.kind}`));
      return;
    }
    Promise.resolve()
      .then(() => handler(replicated ? replicaIncoming(incoming) : incoming))
      .then(
        () => {
          if (replicated && session.waitingForResponse()) failed(new Error(`secsession: the handler of ${incoming.kind} returned without responding`));
        },
        failed,
      );
  }
}

/** Throws unless `def` is a role definition (generated code's `<Session><Role>`). */
function checkRole(method: string, def: unknown): asserts def is RoleDefinition {
  const d = def as Partial<RoleDefinition> | null | undefined;
  if (d === null || typeof d !== "object" || typeof d.role !== "string" || d.descriptor === undefined || d.file === undefined) {
    throw new TypeError(`secsession: ${method}: expected a role definition (the generated <Session><Role> export), got ${d === null ? "null" : typeof d}`);
  }
}

function wholeMs(name: string, v: number | undefined, fallback: number, what = "a whole number of milliseconds ≥ 0"): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`secsession: ${name} must be ${what}, got ${String(v)}`);
  return v;
}
