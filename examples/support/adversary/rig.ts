/**
 * An example's parties on loopback with the attacker everywhere: a man in
 * the middle in front of every principal (each runtime's peers map points at
 * the proxies), a clock per principal the attacker can move, stores that
 * remember every state (the memory of a compromised peer), an outsider
 * principal with valid keys that no session binds, and a spare honest peer
 * that serves one role. Servers are started once and reused by every
 * session run on the rig.
 */
import * as grpc from "@grpc/grpc-js";
import { createMemoryReplayCache, createSessionRuntime, generateIdentity, publicKeysOf, staticResolver, type Identity, type SecurityAlert, type SessionRuntime } from "secsession";
import type { EdgeDescriptor } from "../../../interceptors/descriptor/types.js";
import type { Envelope } from "../../../gen/secsession/v1/envelope_pb.js";
import { planOf, type SessionPlan } from "../../../interceptors/monitor/plan.js";
import type { SessionState } from "../../../interceptors/monitor/state.js";
import type { Party } from "../../../interceptors/runtime/party.js";
import { Trace } from "../trace.js";
import type { ExampleSpec, Peer } from "./examples.js";
import { mitm, rawCaller, tryDecode, type Mitm, type Outcome } from "./mitm.js";
import { createRecordingStore, type RecordingStore } from "./recording-store.js";

/** The principal with valid keys that no session binds. */
export const OUTSIDER = "mallory";

/** One session message as it crossed the network. */
export interface Hop {
  /** The session it belongs to: 0 for the first session of the run, and so on. */
  readonly session: number;
  readonly sid: string;
  /** Its position in its session (0: the first message). */
  readonly index: number;
  readonly edge: EdgeDescriptor;
  readonly env: Envelope;
  readonly bytes: Uint8Array;
  /** The rpc it travels on. */
  readonly path: string;
  /** Sender and receiver principals. */
  readonly from: string;
  readonly to: string;
}

/** What the attacker does with the traffic of a run. */
export interface Interceptor {
  /** A one-way message or request on its way to `hop.to`; `forward` delivers bytes (default: the genuine ones). */
  onCall?(hop: Hop, forward: (bytes?: Uint8Array, path?: string) => Promise<Outcome>): Promise<Outcome>;
  /** A response on its way back to its caller: what the caller gets instead. */
  onResponse?(hop: Hop): Promise<Uint8Array>;
}

/** One run of the initiator's honest code (or several at once) under an interceptor. */
export interface Run {
  /** Every session message, in the order it crossed the network. */
  readonly hops: Hop[];
  /** Session ids in order of first appearance. */
  readonly sids: string[];
  readonly trace: Trace;
  /** The initiators' plays, settled. */
  readonly plays: Promise<Array<PromiseSettledResult<unknown>>>;
}

export interface RigPeer extends Peer {
  readonly identity: Identity;
  readonly store: RecordingStore;
  /** Handler invocations so far. */
  handled: number;
}

export interface Rig {
  readonly spec: ExampleSpec;
  readonly plan: SessionPlan;
  readonly peers: Readonly<Record<string, RigPeer>>;
  /** Principals that are honest in every scenario (bound, spare). */
  readonly honest: readonly string[];
  /** Every refused message, with the principal that refused it. */
  readonly alerts: Array<SecurityAlert & { readonly at: string }>;
  /** The principal playing `role` in the honest session. */
  principalOf(role: string): string;
  /** The real address of a principal's server (behind the proxy). */
  addressOf(principal: string): string;
  /** Sends raw bytes straight to a principal's server, as the attacker can. */
  call(principal: string, path: string, bytes: Uint8Array): Promise<Outcome>;
  /** Sends several envelopes on one call to a principal's server. */
  callFramed(principal: string, path: string, messages: readonly Uint8Array[]): Promise<Outcome>;
  /** `principal`'s party for `role` (its keys, our library). */
  party(principal: string, role: string): Party;
  /** The state `principal` keeps as `role` in session `sid`. */
  state(principal: string, role: string, sid: string): SessionState | undefined;
  /** Store key of a role's state in a session. */
  key(role: string, sid: string): string;
  /** Moves `principal`'s clock by `ms` (0: back to real time). */
  skew(principal: string, ms: number): void;
  /** Starts `count` honest sessions at once under `interceptor`. */
  run(interceptor?: Interceptor, count?: number): Run;
  /** Resolves true when every role of session `sid` reached a final state, false after `ms`. */
  finished(sid: string, ms?: number): Promise<boolean>;
  close(): void;
}

/** Starts the parties of `spec` behind proxies. */
export async function createRig(spec: ExampleSpec): Promise<Rig> {
  const plan = planOf(spec.descriptor);
  const bound = [...new Set(Object.values(spec.bindings))];
  const honest = [...bound, spec.spare.principal];
  const ids = [...honest, OUTSIDER];
  const identities = ids.map((id) => generateIdentity(id));
  const resolver = staticResolver(identities.map((i) => [i.id, publicKeysOf(i)] as const));
  const skews: Record<string, number> = {};
  const proxies: Record<string, Mitm> = {};
  const real: Record<string, string> = {};
  const alerts: Rig["alerts"] = [];
  const peers: Record<string, RigPeer> = {};
  const trace = new SwitchTrace();
  const caller = rawCaller();
  let current: RunState | undefined;

  for (const identity of identities) {
    const now = () => Date.now() + (skews[identity.id] ?? 0);
    const store = createRecordingStore();
    const runtime = createSessionRuntime({ identity, resolver, store, replayCache: createMemoryReplayCache(now), now, peers: (p) => proxies[p]?.address });
    runtime.on("securityAlert", (a) => alerts.push({ ...a, at: identity.id }));
    const server = new grpc.Server({ interceptors: [runtime.serverInterceptor()] });
    const peer: RigPeer = { id: identity.id, identity, runtime: counting(runtime, () => peer.handled++), server, store, handled: 0 };
    peers[identity.id] = peer;
  }
  const rolesOf = (principal: string) => Object.keys(spec.roles).filter((r) => spec.bindings[r] === principal || (principal === spec.spare.principal && r === spec.spare.role));
  for (const p of honest) for (const role of rolesOf(p)) spec.serveRole(role, peers[p]!, trace);

  for (const p of honest) {
    const served = spec.descriptor.edges.filter((e) => rolesOf(p).includes(e.receiver) && e.kind !== "response").map((e) => e.rpc);
    if (served.length === 0) continue;
    const peer = peers[p]!;
    const port = await new Promise<number>((resolve, reject) =>
      peer.server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, n) => (e ? reject(e) : resolve(n))),
    );
    real[p] = `127.0.0.1:${port}`;
    const proxy = await mitm(() => real[p]!, served);
    proxy.policy = (path, bytes, forward) => (current === undefined ? forward(path, bytes) : current.pass(p, path, bytes, forward));
    proxies[p] = proxy;
  }

  const rig: Rig = {
    spec,
    plan,
    peers,
    honest,
    alerts,
    principalOf(role) {
      const p = spec.bindings[role];
      if (p === undefined) throw new Error(`adversary: ${spec.name} has no role ${role}`);
      return p;
    },
    addressOf(principal) {
      const a = real[principal];
      if (a === undefined) throw new Error(`adversary: ${principal} serves nothing in ${spec.name}`);
      return a;
    },
    call: (principal, path, bytes) => caller.call(rig.addressOf(principal), path, bytes),
    callFramed: (principal, path, messages) => caller.callFramed(rig.addressOf(principal), path, messages),
    party: (principal, role) => peers[principal]!.runtime.party(spec.roles[role]!),
    state: (principal, role, sid) => peers[principal]?.store.peek(rig.key(role, sid)),
    key: (role, sid) => `${spec.descriptor.code}:${role}:${sid}`,
    skew(principal, ms) {
      skews[principal] = ms;
    },
    run(interceptor = {}, count = 1) {
      const role = spec.descriptor.states[spec.descriptor.initial]!.holder!;
      const initiator = peers[rig.principalOf(role)]!;
      // The run's sessions are those its initiator starts from now on: traffic of earlier runs passes untouched.
      const earlier = new Set(initiator.store.keys());
      const run = new RunState(spec, interceptor, (sid) => {
        const key = rig.key(role, sid);
        return !earlier.has(key) && initiator.store.keys().includes(key);
      });
      current = run;
      trace.target = run.trace;
      const plays = Promise.allSettled(Array.from({ length: count }, () => spec.play(initiator.runtime, run.trace)));
      return { hops: run.hops, sids: run.sids, trace: run.trace, plays };
    },
    async finished(sid, ms = 5_000) {
      const done = () =>
        Object.keys(spec.roles).every((role) => {
          const st = rig.state(rig.principalOf(role), role, sid);
          return st !== undefined && plan.finishedFor(role).has(st.state);
        });
      for (const until = Date.now() + ms; Date.now() < until; await sleep(5)) if (done()) return true;
      return done();
    },
    close() {
      current = undefined;
      for (const p of Object.values(peers)) {
        p.runtime.close();
        p.server.forceShutdown();
        p.store.wipe();
      }
      for (const m of Object.values(proxies)) m.close();
      caller.close();
    },
  };
  return rig;
}

/** The traffic of one run: numbers each session's messages and hands them to the interceptor. */
class RunState {
  readonly hops: Hop[] = [];
  readonly sids: string[] = [];
  readonly trace = new Trace();
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly spec: ExampleSpec,
    private readonly interceptor: Interceptor,
    private readonly owns: (sid: string) => boolean,
  ) {}

  async pass(to: string, path: string, bytes: Uint8Array, forward: (path: string, bytes: Uint8Array) => Promise<Outcome>): Promise<Outcome> {
    const hop = this.hop(path, bytes, to);
    if (hop === undefined) return forward(path, bytes);
    const send = (b: Uint8Array = bytes, p: string = path) => forward(p, b);
    const outcome = this.interceptor.onCall === undefined ? await send() : await this.interceptor.onCall(hop, send);
    if (!outcome.ok || hop.edge.kind !== "request") return outcome;
    const response = this.hop(path, outcome.bytes, this.spec.bindings[hop.edge.sender] ?? "");
    if (response === undefined || this.interceptor.onResponse === undefined) return outcome;
    return { ok: true, bytes: await this.interceptor.onResponse(response) };
  }

  private hop(path: string, bytes: Uint8Array, to: string): Hop | undefined {
    const env = tryDecode(bytes);
    const edge = env === undefined || env.ack ? undefined : this.spec.descriptor.edges[env.edge];
    if (env === undefined || edge === undefined) return undefined;
    const sid = Buffer.from(env.sessionId).toString("hex");
    if (!this.sids.includes(sid)) {
      if (!this.owns(sid)) return undefined;
      this.sids.push(sid);
    }
    const index = this.counts.get(sid) ?? 0;
    this.counts.set(sid, index + 1);
    const hop: Hop = { session: this.sids.indexOf(sid), sid, index, edge, env, bytes, path, from: this.spec.bindings[edge.sender] ?? "", to };
    this.hops.push(hop);
    return hop;
  }
}

/** The trace the served parties write to: the current run's. */
class SwitchTrace extends Trace {
  target = new Trace();
  override got(to: string, from: string, what: string): void {
    this.target.got(to, from, what);
  }
  override end(role: string, state: Parameters<Trace["end"]>[1]): void {
    this.target.end(role, state);
  }
}

/** The runtime as the example's parties see it, counting handler invocations. */
function counting(runtime: SessionRuntime, ran: () => void): SessionRuntime {
  return new Proxy(runtime, {
    get(target, prop) {
      if (prop === "serve") {
        return (server: grpc.Server, def: Parameters<SessionRuntime["serve"]>[1], handlers: Record<string, (i: unknown) => unknown>) =>
          target.serve(server, def, Object.fromEntries(Object.entries(handlers).map(([k, h]) => [k, (i: unknown) => (ran(), h(i))])) as never);
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
