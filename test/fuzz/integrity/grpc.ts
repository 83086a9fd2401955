/**
 * The property's gRPC sample: generated sessions played over real gRPC on
 * loopback, through the runtime's own interceptors, with the typed role API
 * driven generically (each party picks a random move of its state object,
 * or waits with `receive()`); each runtime's server serves its role with
 * `runtime.serve`, whose handler of a first message starts that party's
 * driver. The network sits in each runtime's client interceptor chain, after
 * sealing: it sees every envelope, and before passing one on it may send the
 * receiver several envelopes on one call (copies of it, or it and an earlier
 * one of the same rpc: a client stream on the unary path), or replay an
 * earlier one; after the run it replays and rewrites what it saw. The oracle
 * is the buffer property's (oracle.ts), plus: every message a party
 * committed (logged as accepted) reached that party's session (its handler,
 * its `receive()` or its call) exactly once.
 */
import * as grpc from "@grpc/grpc-js";
import { fromBinary } from "@bufbuild/protobuf";
import { EnvelopeSchema } from "../../../gen/secsession/v1/envelope_pb.js";
import { defineRole, type SessionRuntime } from "../../../interceptors/index.js";
import { moveName } from "../../../interceptors/descriptor/names.js";
import type { SessionDescriptor } from "../../../interceptors/descriptor/types.js";
import { SealedBytes, sealedMethod } from "../../../interceptors/grpc/sealed.js";
import { defaultBackend } from "../../../interceptors/keys/crypto/index.js";
import { hex } from "../../../interceptors/wire/encoding.js";
import { checkWorld } from "./oracle.js";
import { Choices, newStats, World, type Stats } from "./play.js";
import { shortWindow, type CaseSpec } from "./run.js";
import { applyAttributes, compileRendered, render } from "./sessions.js";

const crypto = defaultBackend();

/** True when some local state offers two sends under one move name (the typed API could not tell them apart). */
export function ambiguousMoves(d: SessionDescriptor): boolean {
  return Object.values(d.projections).some((p) =>
    p.states.some((s) => {
      const names = p.transitions.filter((t) => t.from === s.id).map(moveName);
      return new Set(names).size !== names.length;
    }),
  );
}

/**
 * True when a caller takes part in the body of its own call (the checker accepts it): the typed API cannot play
 * that — the caller's call returns only with the response, which waits for the caller's own move.
 */
export function callerInBody(d: SessionDescriptor): boolean {
  return Object.values(d.projections).some((p) =>
    p.transitions.some((t) => {
      if (t.direction !== "send" || !t.label.endsWith("/request")) return false;
      const rpc = t.label.slice(0, -"/request".length);
      return p.transitions.some((u) => u.from === t.to && !(u.direction === "receive" && u.label.startsWith(`${rpc}/response`)));
    }),
  );
}

interface Seen {
  readonly path: string;
  readonly to: string;
  readonly bytes: Uint8Array;
}

export interface GrpcResult {
  readonly rejected?: string;
  readonly violations: readonly string[];
  readonly calls: { honest: number; framed: number; replayed: number; rewritten: number };
  readonly deliveries: number;
}

type StateObject = Record<string, unknown> & { final?: boolean; sessionId: string; localState?: number };
type Incoming = { kind: string; message: unknown; next: StateObject };

const isIncoming = (x: unknown): x is Incoming => typeof x === "object" && x !== null && "kind" in x && "next" in x;

/** Plays one case over gRPC (the case's coalition and skews are not used: the network is the adversary here). */
export async function runGrpcCase(spec: CaseSpec, stats: Stats = newStats()): Promise<GrpcResult> {
  const calls = { honest: 0, framed: 0, replayed: 0, rewritten: 0 };
  const rendered = render(spec.tree);
  const compiled = compileRendered(rendered);
  if (typeof compiled === "string") return { rejected: compiled, violations: [], calls, deliveries: 0 };
  const descriptor = shortWindow(applyAttributes(compiled.descriptor, spec.attrs));
  if (ambiguousMoves(descriptor)) return { rejected: "two moves of one state share a name", violations: [], calls, deliveries: 0 };
  if (callerInBody(descriptor)) return { rejected: "a caller takes part in its own call's body", violations: [], calls, deliveries: 0 };
  const addresses: Record<string, string> = {};
  const seen: Seen[] = [];
  const attacker = new Map<string, grpc.Client>();
  const rawClient = (address: string) => {
    let c = attacker.get(address);
    if (c === undefined) attacker.set(address, (c = new grpc.Client(address, grpc.credentials.createInsecure())));
    return c;
  };
  const violations: string[] = [];
  let closed = false;
  const network = new Choices(spec.schedules.flat().reduce((a, b) => (a * 31 + b) >>> 0, 7));
  /** The attacker's own call: `envelopes` on one call to `to` (one: a plain unary call). */
  const inject = (to: string, path: string, envelopes: readonly Uint8Array[]): Promise<number> =>
    new Promise((resolve) => {
      const address = addresses[to];
      if (address === undefined || closed) return resolve(-1);
      const m = sealedMethod(path, path);
      const deadline = Date.now() + 5_000;
      try {
        if (envelopes.length === 1) {
          rawClient(address).makeUnaryRequest(path, m.requestSerialize, m.responseDeserialize, new SealedBytes(envelopes[0]!), new grpc.Metadata(), { deadline }, (err) => resolve(err?.code ?? 0));
          return;
        }
        const call = rawClient(address).makeClientStreamRequest(path, m.requestSerialize, m.responseDeserialize, new grpc.Metadata(), { deadline }, (err) => resolve(err?.code ?? 0));
        for (const b of envelopes) call.write(new SealedBytes(b));
        call.end();
      } catch {
        resolve(-1); // the case is over: its channels are closed
      }
    });
  let world: World;
  /** The network in a runtime's client chain, after sealing. */
  const tap =
    (from: string): grpc.Interceptor =>
    (options, nextCall) =>
      new grpc.InterceptingCall(nextCall(options), {
        sendMessage(message: unknown, next: (m: unknown) => void) {
          if (!(message instanceof SealedBytes)) return next(message);
          const path = options.method_definition.path;
          const env = fromBinary(EnvelopeSchema, message.bytes);
          const edge = descriptor.edges[env.edge]!;
          void world
            .party(from)
            .state(hex(env.sessionId))
            .then(async (st) => {
              const to = env.bindings.find((b) => b.role === edge.receiver)?.principal ?? st?.principals[edge.receiver] ?? "";
              calls.honest++;
              const earlier = seen.filter((s) => s.path === path && s.to === to);
              seen.push({ path, to, bytes: message.bytes });
              const move = network.next(6);
              if (move <= 1) {
                // Several envelopes on one call, before the genuine one: copies of it, or it after an earlier one.
                calls.framed++;
                const other = network.pick(earlier)?.bytes ?? message.bytes;
                await inject(to, path, move === 0 ? Array(2 + network.next(2)).fill(message.bytes) : [other, message.bytes]);
              } else if (move === 2 && earlier.length > 0) {
                calls.replayed++;
                await inject(to, path, [network.pick(earlier)!.bytes]);
              }
              next(message);
            })
            .catch(() => next(message));
        },
      });
  world = new World(descriptor, compiled.file, { coalition: 0, skews: [] }, stats, (id) => ({ peers: addresses, interceptors: [tap(id)], now: Date.now }));
  const servers: grpc.Server[] = [];
  const delivered = new Map<string, number>();
  let progress = 0;
  const count = (principal: string, sid: string) => {
    delivered.set(`${principal}|${sid}`, (delivered.get(`${principal}|${sid}`) ?? 0) + 1);
    progress++;
  };
  /** An honest party playing its role from `obj` on: random moves, or waiting for the next message. */
  const drive = async (principal: string, runtime: SessionRuntime, obj: StateObject, c: Choices): Promise<void> => {
    const role = world.principals[principal]!.role;
    const party = world.party(principal);
    for (let i = 0; i < 100 && obj.final !== true; i++) {
      const projection = descriptor.projections[role]!;
      const sends = projection.transitions.filter((t) => t.from === obj.localState && t.direction === "send");
      if (sends.length === 0) {
        const incoming = (await (obj["receive"] as () => Promise<Incoming>)()) as Incoming;
        count(principal, obj.sessionId);
        obj = incoming.next;
        continue;
      }
      const t = c.pick(sends)!;
      const st = await party.state(obj.sessionId);
      const edge = t.edges.map((id) => descriptor.edges[id]!).find((e) => e.from === st?.state);
      if (st === undefined || edge === undefined) return;
      const bind = Object.fromEntries(edge.binds.map((b) => [b.role, st.principals[b.role] ?? c.pick(world.candidates(b.role))!]));
      const field = edge.binds.find((b) => b.field !== null);
      const init = world.payloadInit(party, edge, c, field === undefined ? undefined : bind[field.role]);
      let result: unknown;
      try {
        result = await (obj[moveName(t)] as (i: object, o: object) => Promise<unknown>)(init, { bind, deadline: Date.now() + 10_000 });
      } catch {
        // The call failed (the network delivered a copy first, say) though the message may be in: the session goes on
        // from where the runtime's session object stands, so that what reaches it later is still taken.
        const live = (runtime as unknown as { sessions: Map<string, { current(): object }> }).sessions.get(party.key(obj.sessionId));
        if (live === undefined) return;
        obj = live.current() as StateObject;
        continue;
      }
      if (isIncoming(result)) {
        count(principal, obj.sessionId);
        obj = result.next;
      } else obj = result as StateObject;
    }
  };
  try {
    for (const p of Object.values(world.principals)) {
      const server = new grpc.Server({ interceptors: [p.runtime.serverInterceptor()] });
      const c = new Choices(p.id.length * 977 + spec.schedules.length);
      const handlers = new Proxy(
        {},
        {
          get:
            () =>
            (incoming: Incoming): void => {
              count(p.id, incoming.next.sessionId);
              void drive(p.id, p.runtime, incoming.next, c).catch(() => undefined);
            },
        },
      );
      p.runtime.serve(server, defineRole(descriptor, p.role, compiled.file), handlers as never);
      servers.push(server);
      addresses[p.id] = `127.0.0.1:${await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, port) => (e ? reject(e) : resolve(port))))}`;
    }
    const initiator = Object.values(world.principals).find((p) => p.role === descriptor.states[descriptor.initial]!.holder)!;
    const bindings = Object.fromEntries(descriptor.roles.filter((r) => !r.dynamic).map((r) => [r.name, `${r.name}0`]));
    const quiet = async () => {
      for (let last = -1, i = 0; i < 60 && last !== progress + calls.honest; i++) {
        last = progress + calls.honest;
        await new Promise((r) => setTimeout(r, 150));
      }
    };
    for (const schedule of spec.schedules.slice(0, 2)) {
      const obj = (await initiator.runtime.start(defineRole(descriptor, initiator.role, compiled.file), bindings)) as unknown as StateObject;
      world.sids.push(obj.sessionId);
      void drive(initiator.id, initiator.runtime, obj, new Choices(schedule[0] ?? 1)).catch(() => undefined);
      await quiet();
    }
    // Afterwards: replays (single, and several on one call) and rewrites of what the network saw.
    for (let i = 0; i < 4 && seen.length > 0; i++) {
      const s = network.pick(seen)!;
      const op = network.next(3);
      if (op === 0) {
        calls.replayed++;
        await inject(s.to, s.path, [s.bytes]);
      } else if (op === 1) {
        calls.framed++;
        await inject(s.to, s.path, [s.bytes, network.pick(seen.filter((x) => x.path === s.path))!.bytes]);
      } else {
        calls.rewritten++;
        const b = Uint8Array.from(s.bytes);
        const k = network.next(b.length);
        b[k] = b[k]! ^ (1 << network.next(8));
        await inject(s.to, s.path, [b]);
      }
    }
    await quiet();
    violations.push(...checkWorld(world, crypto), ...world.violations);
    for (const p of Object.values(world.principals)) {
      // Messages that reached a live session the driver has not taken yet (with receive()) reached it too.
      const live = (p.runtime as unknown as { sessions: Map<string, { inbox: unknown[] }> }).sessions;
      for (const [key, session] of live) for (let i = 0; i < session.inbox.length; i++) count(p.id, key.split(":").pop()!);
      const committed = new Map<string, number>();
      for (const e of p.evidence) if (e.direction === "received") committed.set(hex(e.sessionId), (committed.get(hex(e.sessionId)) ?? 0) + 1);
      for (const [sid, n] of committed) {
        const got = delivered.get(`${p.id}|${sid}`) ?? 0;
        if (got !== n) violations.push(`${p.id} (${p.role}) in session ${sid.slice(0, 8)}: accepted ${n} messages, its session got ${got}`);
      }
    }
    return { violations, calls, deliveries: progress };
  } finally {
    closed = true;
    for (const c of attacker.values()) c.close();
    for (const p of Object.values(world.principals)) p.runtime.close();
    for (const s of servers) s.forceShutdown();
  }
}
