/**
 * Random legal runs of any session, over gRPC on loopback: one principal,
 * SessionRuntime and gRPC server per role, driven through the role API the
 * generated code uses (defineRole + the state objects), with no generated
 * code. Each session is one run of the global protocol: at every send state
 * the role picks one of its legal moves at random (seeded, so that every mode
 * plays the same runs), and after `steer` messages it takes the moves that
 * end the session soonest.
 *
 * Messages carry default values, except what the protocol fixes: the oneof
 * case of a response branch, the principal a binding message names, and the
 * fields a `where` clause makes equal to an earlier one.
 */
import * as grpc from "@grpc/grpc-js";
import { create, ScalarType, type DescField, type DescFile, type DescMessage, type FileRegistry, type Message } from "@bufbuild/protobuf";
import type { EdgeDescriptor, LocalTransitionDescriptor, SessionDescriptor } from "../../interceptors/descriptor/types.js";
import { moveName } from "../../interceptors/descriptor/names.js";
import { createSessionRuntime, defineRole, generateIdentity, publicKeysOf, staticResolver, type RoleDefinition, type SessionRuntime, type SessionRuntimeOptions } from "../../interceptors/index.js";

/** One message of a run: its edge, in the order the messages were sent. */
export type Trace = number[];

export interface Driver {
  /** Plays one session with seed `seed`; resolves when every role has finished. */
  play(seed: number): Promise<Trace>;
  /** Messages refused by any runtime so far (must stay 0). */
  refused(): number;
  close(): void;
}

export interface DriverOptions {
  readonly runtime?: Partial<SessionRuntimeOptions>;
  /** Messages after which every choice steers to the end (default 64). */
  readonly steer?: number;
}

/** Refuses, with the reason, a session the driver cannot play. */
export function unplayable(d: SessionDescriptor): string | undefined {
  const opens = d.edges.find((e) => e.opens !== null);
  if (opens !== undefined) return `its message ${opens.rpc} must open an earlier commitment, which random runs cannot produce`;
  return undefined;
}

/** A deterministic generator in [0, 1) (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Messages from each global state to the end of the session (Infinity where none leads there). */
export function distancesToEnd(d: SessionDescriptor): number[] {
  const dist = d.states.map((s) => (s.holder === null ? 0 : Infinity));
  for (let changed = true; changed; ) {
    changed = false;
    for (const e of d.edges) {
      if (dist[e.to]! + 1 < dist[e.from]!) {
        dist[e.from] = dist[e.to]! + 1;
        changed = true;
      }
    }
  }
  return dist;
}

interface StateObject {
  readonly final?: true;
  readonly localState?: number;
  receive?(): Promise<{ readonly kind: string; readonly message: Message; readonly next: StateObject }>;
  readonly [move: string]: unknown;
}

/** Sets up the roles of `d` (its messages in `file`/`registry`) on loopback. */
export async function createDriver(d: SessionDescriptor, file: DescFile, registry: FileRegistry, options: DriverOptions = {}): Promise<Driver> {
  const why = unplayable(d);
  if (why !== undefined) throw new Error(`session ${d.name} cannot be benchmarked: ${why}`);
  const steer = options.steer ?? 64;
  const principal = (role: string) => `bench-${role}`;
  const identities = d.roles.map((r) => generateIdentity(principal(r.name)));
  const resolver = staticResolver(identities.map((i) => [i.id, publicKeysOf(i)] as const));
  const addresses: Record<string, string> = {};
  const runtimes = new Map<string, SessionRuntime>();
  const servers: grpc.Server[] = [];
  const roles = new Map<string, RoleDefinition>(d.roles.map((r) => [r.name, defineRole(d, r.name, file)]));
  const dist = distancesToEnd(d);
  const initiator = d.states[d.initial]!.holder!;

  // The run in progress: its random choices, trace, values sent, open role drives.
  let run: { random: () => number; trace: Trace; values: Map<string, unknown>; open: Set<Promise<void>>; failure: unknown } | undefined;

  const messageOf = (typeName: string): DescMessage => {
    const m = registry.getMessage(typeName);
    if (m === undefined) throw new Error(`no message type ${typeName}`);
    return m;
  };
  const valueKey = (rpc: string, direction: "request" | "response", field: string) => `${rpc}|${direction}|${field}`;
  const directionOf = (e: EdgeDescriptor) => (e.kind === "response" ? "response" : "request");

  /** The message `e` sends in this run, and the bindings it makes. */
  const initFor = (e: EdgeDescriptor): { init: Record<string, unknown>; bind: Record<string, string> } => {
    const schema = messageOf(e.messageType);
    const init: Record<string, unknown> = {};
    const field = (name: string): DescField | undefined => schema.fields.find((f) => f.name === name);
    const set = (name: string, value: unknown) => {
      const f = field(name);
      if (f === undefined) return;
      if (f.oneof !== undefined) init[f.oneof.localName] = { case: f.localName, value };
      else init[f.localName] = value;
    };
    if (e.case !== null) {
      const f = field(e.case.field.name);
      if (f !== undefined && f.oneof !== undefined) init[f.oneof.localName] = { case: f.localName, value: f.fieldKind === "message" ? create(f.message) : defaultScalar(f) };
    }
    const bind: Record<string, string> = {};
    for (const b of e.binds) {
      bind[b.role] = principal(b.role);
      if (b.field !== null) set(b.field.name, principal(b.role));
    }
    for (const w of e.where) {
      const v = run!.values.get(valueKey(w.equals.rpc, w.equals.direction, w.equals.field.name));
      if (v !== undefined) set(w.field.name, v);
    }
    for (const f of schema.fields) {
      const v = f.oneof === undefined ? init[f.localName] : undefined;
      if (v !== undefined) run!.values.set(valueKey(e.rpc, directionOf(e), f.name), v);
    }
    return { init, bind };
  };

  /** Plays `role` from `state` to its end. */
  const drive = async (role: string, state: StateObject): Promise<void> => {
    const projection = d.projections[role]!;
    for (;;) {
      if (state.final === true) return;
      const local = state.localState!;
      const sends = projection.transitions.filter((t) => t.from === local && t.direction === "send");
      if (sends.length === 0) {
        state = (await state.receive!()).next;
        continue;
      }
      const t = choose(sends);
      // Sessions are sequential: the global state is where the last message sent led.
      const at = run!.trace.length === 0 ? d.initial : d.edges[run!.trace.at(-1)!]!.to;
      const edge = t.edges.map((id) => d.edges[id]!).find((e) => e.from === at);
      if (edge === undefined) throw new Error(`internal error: no edge of ${t.label} leaves global state ${at}`);
      const { init, bind } = initFor(edge);
      run!.trace.push(edge.id);
      const move = state[moveName(t)] as (init: object, options: object) => Promise<StateObject | { next: StateObject }>;
      const after = await move(init, Object.keys(bind).length === 0 ? {} : { bind });
      // A request returns the response as an incoming value; other moves return the next state.
      state = edge.kind === "request" ? (after as { next: StateObject }).next : (after as StateObject);
    }
  };

  /** A random legal move; past `steer` messages, one that ends the session soonest. */
  const choose = (moves: readonly LocalTransitionDescriptor[]): LocalTransitionDescriptor => {
    const r = run!;
    const toEnd = (t: LocalTransitionDescriptor) => Math.min(...t.edges.map((id) => dist[d.edges[id]!.to]!));
    if (r.trace.length >= steer) {
      const best = Math.min(...moves.map(toEnd));
      moves = moves.filter((t) => toEnd(t) === best);
    }
    return moves[Math.floor(r.random() * moves.length)]!;
  };

  for (const r of d.roles) {
    const runtime = createSessionRuntime({ identity: identities.find((i) => i.id === principal(r.name))!, resolver, peers: addresses, ...options.runtime });
    runtimes.set(r.name, runtime);
    if (r.service === null) continue;
    const server = new grpc.Server({ interceptors: [runtime.serverInterceptor()] });
    const projection = d.projections[r.name]!;
    const handlers: Record<string, (incoming: { next: StateObject }) => Promise<void>> = {};
    for (const t of projection.transitions.filter((x) => x.from === projection.initial && x.direction === "receive")) {
      handlers[moveName(t)] = (incoming) => {
        const p = drive(r.name, incoming.next).catch((e: unknown) => {
          if (run !== undefined) run.failure ??= e;
        });
        run?.open.add(p);
        return p;
      };
    }
    runtime.serve(server, roles.get(r.name)! as RoleDefinition, handlers as never);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    addresses[principal(r.name)] = `127.0.0.1:${port}`;
    servers.push(server);
  }

  const bindings = Object.fromEntries(d.roles.filter((r) => !r.dynamic).map((r) => [r.name, principal(r.name)]));
  return {
    async play(seed) {
      run = { random: rng(seed), trace: [], values: new Map(), open: new Set(), failure: undefined };
      const runtime = runtimes.get(initiator)!;
      const s0 = (await runtime.start(roles.get(initiator)!, bindings)) as unknown as StateObject;
      await drive(initiator, s0);
      // The other roles end after their last message, which may come after the initiator's end.
      for (let size = -1; size !== run.open.size; ) {
        size = run.open.size;
        await Promise.all(run.open);
        await new Promise((r) => setImmediate(r));
      }
      if (run.failure !== undefined) throw run.failure;
      return run.trace;
    },
    refused: () => [...runtimes.values()].reduce((n, r) => n + Object.values(r.metrics.refused).reduce((a, b) => a + b, 0), 0),
    close() {
      for (const r of runtimes.values()) r.close();
      for (const s of servers) s.forceShutdown();
    },
  };
}

/** The zero value of a scalar or enum field. */
function defaultScalar(f: DescField): unknown {
  if (f.fieldKind === "enum") return f.enum.values[0]?.number ?? 0;
  if (f.fieldKind !== "scalar") return undefined;
  switch (f.scalar) {
    case ScalarType.STRING:
      return "";
    case ScalarType.BYTES:
      return new Uint8Array(0);
    case ScalarType.BOOL:
      return false;
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return 0n;
    default:
      return 0;
  }
}
