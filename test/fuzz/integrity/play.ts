/**
 * One case of the integrity property over the buffer API: a world of
 * runtimes, one per principal (each with its own simulated clock, skewed, its
 * own store with high-water marks and its own evidence sink); honest parties
 * that make random legal moves; an adversary that owns the network (drop,
 * delay, duplicate, reorder, replay across sessions and loop iterations,
 * rewrite any byte or field, inject, redirect), a coalition of compromised
 * principals that seal what they like with their own keys and states
 * (made-up histories, lies about earlier messages, re-bindings, relayed
 * attestations), time that passes and stores rolled back; and the oracle
 * (oracle.ts) over everything the honest parties accepted.
 */
import { create, fromBinary, toBinary, type Message } from "@bufbuild/protobuf";
import { EnvelopeSchema } from "../../../gen/secsession/v1/envelope_pb.js";
import type { EdgeDescriptor, SessionDescriptor } from "../../../interceptors/descriptor/types.js";
import {
  createMemoryStore,
  createSessionRuntime,
  decodeState,
  defineRole,
  encodeState,
  generateIdentity,
  publicKeysOf,
  staticResolver,
  withHighWater,
  type EvidenceEntry,
  type Identity,
  type SessionRuntime,
  type SessionRuntimeOptions,
  type SessionStore,
} from "../../../interceptors/index.js";
import { sealMessage } from "../../../interceptors/monitor/seal.js";
import type { CarriedAttestation, CarriedKeyUpdate, SessionState } from "../../../interceptors/monitor/state.js";
import { record } from "../../../interceptors/monitor/state.js";
import type { Party } from "../../../interceptors/runtime/party.js";
import { hex } from "../../../interceptors/wire/encoding.js";
import { lieAbout, pretend } from "../../../examples/support/adversary/forge.js";
import type { DescFile } from "@bufbuild/protobuf";

/** The replay window of generated sessions and the allowed skew: short, so that the runtime's real tombstone timers free a world soon. */
export const WINDOW_MS = 10_000;
export const MAX_SKEW_MS = 4_000;
const T0 = 1_800_000_000_000;

export interface Principal {
  readonly id: string;
  readonly role: string;
  readonly honest: boolean;
  readonly identity: Identity;
  readonly runtime: SessionRuntime;
  /** The store under the runtime's high-water marks (what the adversary rolls back). */
  readonly inner: SessionStore;
  readonly evidence: EvidenceEntry[];
  readonly skew: number;
  /** Its store has high-water marks (withHighWater): only those promise anything after a rollback. */
  readonly marks: boolean;
}

/** An envelope on the network: where it was going. */
export interface InFlight {
  readonly bytes: Uint8Array;
  readonly to: string;
  readonly edge: EdgeDescriptor;
  /** The session of the call a response answers (what the caller checks it against). */
  readonly sid: string;
  readonly from: string;
  /** It carries history items. */
  readonly history?: boolean;
  /** It starts the session for its receiver. */
  readonly start?: boolean;
}

/** What happened to one delivery. */
export interface Delivery {
  readonly principal: string;
  readonly role: string;
  readonly accepted: boolean;
  readonly kind: string;
  readonly sid: string;
  readonly step: bigint | undefined;
  readonly what: string;
}

export interface Stats {
  honestSends: number;
  deliveries: number;
  accepted: number;
  refused: number;
  forged: number;
  forgedAccepted: number;
  mutated: number;
  rollbacks: number;
  timeMoves: number;
  sessions: number;
}

export const newStats = (): Stats => ({ honestSends: 0, deliveries: 0, accepted: 0, refused: 0, forged: 0, forgedAccepted: 0, mutated: 0, rollbacks: 0, timeMoves: 0, sessions: 0 });

/** A deterministic stream of choices from one number (xorshift): each scheduled move is one number of the schedule. */
export class Choices {
  private s: number;
  constructor(seed: number) {
    this.s = (seed ^ 0x9e3779b9) >>> 0 || 1;
  }
  next(n: number): number {
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.s = x;
    return n <= 1 ? 0 : x % n;
  }
  pick<T>(xs: readonly T[]): T | undefined {
    return xs.length === 0 ? undefined : xs[this.next(xs.length)];
  }
  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.next(256));
  }
}

export interface WorldSpec {
  /** Bit i: principal i is compromised. */
  readonly coalition: number;
  /** Per principal (by index, cycled): clock skew in ms. */
  readonly skews: readonly number[];
  /** Bit i: principal i keeps its sessions in a plain memory store, without high-water marks (the default store). */
  readonly plain?: number;
  /** The relay focus: every coalition walk begins with a lie about an authenticated message of an honest principal (when its state has one). */
  readonly relay?: boolean;
}

/** The principals of a session: one per static role, two candidates per dynamic role. */
export function principalsOf(d: SessionDescriptor): Array<{ id: string; role: string }> {
  return d.roles.flatMap((r) => (r.dynamic ? [1, 2].map((i) => ({ id: `${r.name}${i}`, role: r.name })) : [{ id: `${r.name}0`, role: r.name }]));
}

export class World {
  readonly principals: Record<string, Principal> = {};
  readonly clock = { t: T0 };
  readonly pool: InFlight[] = [];
  /** Every envelope the network saw, for replays (all sessions of this world). */
  readonly seen: InFlight[] = [];
  readonly deliveries: Delivery[] = [];
  readonly sids: string[] = [];
  /** Sealed copies of every state each party committed, oldest first (for rollbacks). */
  readonly snapshots = new Map<string, Uint8Array[]>();
  /** Finished sessions and when the runtime's timer forgets them (the receiver's clock). */
  readonly tombstones = new Map<string, { principal: string; key: string; until: number }>();
  readonly violations: string[] = [];
  readonly stats: Stats;
  readonly relay: boolean;

  constructor(
    readonly descriptor: SessionDescriptor,
    readonly file: DescFile,
    spec: WorldSpec,
    stats: Stats = newStats(),
    extra: (id: string) => Partial<SessionRuntimeOptions> = () => ({}),
  ) {
    this.stats = stats;
    this.relay = spec.relay ?? false;
    const list = principalsOf(descriptor);
    const identities = list.map((p) => generateIdentity(p.id));
    const resolver = staticResolver(identities.map((i) => [i.id, publicKeysOf(i)] as const));
    list.forEach((p, i) => {
      const inner = createMemoryStore();
      const evidence: EvidenceEntry[] = [];
      const skew = spec.skews.length === 0 ? 0 : spec.skews[i % spec.skews.length]!;
      const marks = (((spec.plain ?? 0) >> i) & 1) === 0;
      const runtime = createSessionRuntime({
        identity: identities[i]!,
        resolver,
        store: marks ? withHighWater(inner) : inner,
        now: () => this.clock.t + skew,
        maxClockSkewMs: MAX_SKEW_MS,
        evidence: { append: (e) => void evidence.push(e) },
        ...extra(p.id),
      });
      this.principals[p.id] = { id: p.id, role: p.role, honest: ((spec.coalition >> i) & 1) === 0, identity: identities[i]!, runtime, inner, evidence, skew, marks };
    });
  }

  party(principal: string, role = this.principals[principal]!.role): Party {
    return this.principals[principal]!.runtime.party(defineRole(this.descriptor, role, this.file));
  }

  get coalition(): Principal[] {
    return Object.values(this.principals).filter((p) => !p.honest);
  }

  candidates(role: string): string[] {
    return Object.values(this.principals)
      .filter((p) => p.role === role)
      .map((p) => p.id);
  }

  /** The initiator starts a session; returns its id. */
  async start(): Promise<string | undefined> {
    const initiator = this.descriptor.states[this.descriptor.initial]!.holder!;
    const p = Object.values(this.principals).find((x) => x.role === initiator)!;
    const bindings = Object.fromEntries(this.descriptor.roles.filter((r) => !r.dynamic).map((r) => [r.name, `${r.name}0`]));
    try {
      const st = await this.party(p.id).start(bindings);
      this.sids.push(st.key);
      this.stats.sessions++;
      await this.snapshot(p.id, p.role, st.key);
      return st.key;
    } catch {
      return undefined; // its store was rolled back under it (fail closed)
    }
  }

  /** A payload of `edge`'s type as an honest sender makes it (`text` is the principal a field-bound `bind` names). */
  payload(party: Party, edge: EdgeDescriptor, c: Choices, bound: string | undefined, honest = true): Message {
    return create(party.schema(edge.messageType), this.payloadInit(party, edge, c, bound, honest) as never) as Message;
  }

  payloadInit(party: Party, edge: EdgeDescriptor, c: Choices, bound: string | undefined, honest = true): Record<string, unknown> {
    const schema = party.schema(edge.messageType);
    const word = honest ? "ok" : (c.pick(["ok", "no", "", "x".repeat(c.next(40))]) ?? "ok");
    let init: Record<string, unknown> = {};
    if (schema.typeName.endsWith(".Note")) init = { text: bound ?? word, count: honest ? 7n : BigInt(c.next(9)), digest: c.bytes(c.next(3)) };
    else if (schema.typeName.endsWith(".Answer")) init = { text: `${word}${c.next(100)}` };
    else if (schema.typeName.endsWith(".Verdict")) {
      const kase = edge.case?.field.name ?? (c.next(2) === 0 ? "yes" : "no");
      init = { outcome: { case: kase, value: { text: word } } };
    }
    return init;
  }

  /** The sends a party can make now: the edges leaving its global state that its role sends. */
  async moves(principal: string, sid: string): Promise<{ st: SessionState; edges: EdgeDescriptor[] } | undefined> {
    const p = this.principals[principal]!;
    let st: SessionState | undefined;
    try {
      st = await this.party(principal).state(sid);
    } catch {
      return undefined;
    }
    if (st === undefined) return undefined;
    const edges = this.descriptor.edges.filter((e) => e.from === st!.state && e.sender === p.role);
    return edges.length === 0 ? undefined : { st, edges };
  }

  /** An honest move: a party that can send sends a legal message (an honest party's bindings keep what its state knows). */
  async honestSend(c: Choices, sid: string, who?: readonly string[]): Promise<boolean> {
    const ready: Array<{ principal: string; st: SessionState; edges: EdgeDescriptor[] }> = [];
    for (const id of who ?? Object.keys(this.principals)) {
      const m = await this.moves(id, sid);
      if (m !== undefined) ready.push({ principal: id, ...m });
    }
    const r = c.pick(ready);
    if (r === undefined) return false;
    const edge = c.pick(r.edges)!;
    const party = this.party(r.principal);
    const bindings = edge.binds.map((b) => ({ role: b.role, principal: r.st.principals[b.role] ?? c.pick(this.candidates(b.role))! }));
    const field = edge.binds.find((b) => b.field !== null);
    const message = this.payload(party, edge, c, field === undefined ? undefined : bindings.find((b) => b.role === field.role)!.principal);
    let bytes: Uint8Array;
    try {
      bytes = (await party.wrap(sid, edge, message, bindings)).bytes;
    } catch {
      return false; // a store rolled back under it, say
    }
    this.stats.honestSends++;
    await this.snapshot(r.principal, edge.sender, sid);
    const to = edge.kind === "response" ? r.st.principals[edge.receiver]! : (bindings.find((b) => b.role === edge.receiver)?.principal ?? r.st.principals[edge.receiver]!);
    const env = fromBinary(EnvelopeSchema, bytes);
    const f: InFlight = { bytes, to, edge, sid, from: r.principal, history: env.history.length > 0, start: env.start !== undefined };
    this.pool.push(f);
    this.seen.push(f);
    return true;
  }

  /**
   * Delivers bytes to `to` as a message of `edge`'s rpc and direction (for a
   * response: an answer to a call of session `sid`). A request or one-way
   * message goes to the party of `to` that serves the rpc, as the server
   * interceptor's dispatch picks it. Checks that a refusal changed nothing.
   */
  async deliver(f: InFlight, what: string): Promise<boolean> {
    const p = this.principals[f.to];
    if (p === undefined) return false;
    // A response reaches the caller's role; a request or one-way message the role whose service the rpc is.
    const role = f.edge.kind === "response" ? f.edge.receiver : this.descriptor.roles.find((r) => r.service !== null && f.edge.rpc.startsWith(`/${r.service}/`))?.name;
    if (role !== p.role) return false; // no call of this principal's to answer, or not a service it serves
    const party = this.party(p.id, role);
    let named: string | undefined;
    try {
      named = hex(fromBinary(EnvelopeSchema, f.bytes).sessionId);
    } catch {
      named = undefined; // it does not decode: it can name no session
    }
    const before = await this.stateBytes(p.id, role, named);
    const entries = p.evidence.length;
    this.stats.deliveries++;
    try {
      const r = await party.unwrap(f.bytes, f.edge.rpc, f.edge.kind === "response" ? ["response"] : ["oneway", "request"], f.from, f.edge.kind === "response" ? f.sid : undefined);
      this.stats.accepted++;
      this.deliveries.push({ principal: p.id, role, accepted: true, kind: "accepted", sid: r.sessionKey, step: r.state.step, what });
      const added = p.evidence.slice(entries);
      if (added.length !== 1 || added[0]!.direction !== "received") this.violations.push(`${p.id} accepted ${what} with ${added.length} evidence entries (delivered once: one entry)`);
      else if (added[0]!.items.at(-1)?.step !== r.state.step) this.violations.push(`${p.id} accepted ${what}: its evidence ends at step ${added[0]!.items.at(-1)?.step}, its state at ${r.state.step}`);
      if (!this.sids.includes(r.sessionKey)) this.sids.push(r.sessionKey);
      await this.snapshot(p.id, role, r.sessionKey);
      return true;
    } catch (e: unknown) {
      this.stats.refused++;
      const kind = e instanceof Error && "kind" in e ? String((e as { kind: unknown }).kind) : String(e);
      this.deliveries.push({ principal: p.id, role, accepted: false, kind, sid: f.sid, step: undefined, what });
      if (kind === "internal" || !(e instanceof Error && "kind" in e)) this.violations.push(`${p.id} refused ${what} with an internal error: ${e instanceof Error ? e.message : String(e)}`);
      const after = await this.stateBytes(p.id, role, named);
      if (after !== before) this.violations.push(`${p.id} refused ${what} (${kind}) but its state changed`);
      if (p.evidence.length !== entries) this.violations.push(`${p.id} refused ${what} (${kind}) but logged evidence`);
      return false;
    }
  }

  /** The party's state of the session an envelope names, encoded (what a refusal must leave byte-identical). */
  private async stateBytes(principal: string, role: string, sid: string | undefined): Promise<string> {
    const p = this.principals[principal]!;
    const party = this.party(principal, role);
    const parts: string[] = [];
    if (sid !== undefined) {
      const st = await p.inner.get(party.key(sid));
      parts.push(st === undefined ? "-" : hex(encodeState(st)));
    }
    return parts.join("|");
  }

  private async snapshot(principal: string, role: string, sid: string): Promise<void> {
    const p = this.principals[principal]!;
    const party = this.party(principal, role);
    const key = party.key(sid);
    const st = await p.inner.get(key);
    if (st === undefined) return;
    const copies = this.snapshots.get(`${principal}|${key}`) ?? [];
    copies.push(encodeState(st));
    this.snapshots.set(`${principal}|${key}`, copies);
    if (party.plan.finishedFor(role).has(st.state) && !this.tombstones.has(`${principal}|${key}`)) {
      this.tombstones.set(`${principal}|${key}`, { principal, key, until: party.startRememberedUntil(st) });
    }
  }

  /** Time passes (every clock alike); the runtime's timers forget the finished sessions that are due. */
  async pass(ms: number): Promise<void> {
    this.clock.t += ms;
    this.stats.timeMoves++;
    for (const [k, t] of this.tombstones) {
      const p = this.principals[t.principal]!;
      if (this.clock.t + p.skew >= t.until) {
        await p.inner.delete(t.key);
        this.tombstones.delete(k);
      }
    }
  }

  /** The adversary puts an older copy of a party's state back in its store (a restored backup, a Redis rollback). */
  async rollback(c: Choices): Promise<boolean> {
    // Only a store with high-water marks promises to notice (a plain store rolled back accepts again what it had).
    const keys = [...this.snapshots.keys()].filter((k) => this.snapshots.get(k)!.length >= 2 && this.principals[k.split("|")[0]!]!.marks);
    const k = c.pick(keys);
    if (k === undefined) return false;
    const [principal, key] = k.split("|") as [string, string];
    const copies = this.snapshots.get(k)!;
    const old = decodeState(copies[c.next(copies.length - 1)]!);
    const p = this.principals[principal]!;
    const cur = await p.inner.get(key);
    if (!(await p.inner.commit(key, cur?.version, old))) return false;
    this.stats.rollbacks++;
    return true;
  }

  /** The network rewrites an envelope (a byte, or a field of the decoded envelope) and delivers it, maybe elsewhere. */
  async mutate(c: Choices): Promise<void> {
    // Envelopes that carry history are the interesting ones to rewrite, half the time.
    const f = (c.next(2) === 0 ? c.pick(this.seen.filter((x) => x.history)) : undefined) ?? c.pick(this.seen);
    if (f === undefined) return;
    let bytes = f.bytes;
    const op = c.next(3) === 0 ? 7 : c.next(17);
    if (op < 3) {
      bytes = Uint8Array.from(bytes);
      if (op === 0 && bytes.length > 0) {
        const i = c.next(bytes.length);
        bytes[i] = bytes[i]! ^ (1 << c.next(8));
      }
      else if (op === 1) bytes = bytes.slice(0, c.next(bytes.length));
      else bytes = Uint8Array.from([...bytes, ...c.bytes(1 + c.next(8))]);
    } else {
      const env = fromBinary(EnvelopeSchema, bytes);
      const other = fromBinary(EnvelopeSchema, c.pick(this.seen)!.bytes);
      switch (op) {
        case 3:
          env.step = env.step + (c.next(2) === 0 ? 1n : -1n);
          if (env.step < 0n) env.step = 0n;
          break;
        case 4:
          env.edge = c.next(this.descriptor.edges.length);
          break;
        case 5:
          env.sessionId = other.sessionId;
          break;
        case 6:
          if (env.history.length > 0) env.history.splice(c.next(env.history.length), 1);
          break;
        case 7:
          if (env.history.length > 0) env.history[c.next(env.history.length)]!.payloadHash = c.next(2) === 0 ? (other.history[0]?.payloadHash ?? c.bytes(32)) : c.bytes(32);
          break;
        case 8:
          env.attestations = [];
          break;
        case 9:
          env.attestations = [...other.attestations, ...env.attestations.slice(c.next(env.attestations.length + 1))];
          break;
        case 10:
          for (const b of [...env.bindings, ...env.history.flatMap((h) => h.bindings)]) if (c.next(2) === 0) b.principal = c.pick(Object.keys(this.principals))!;
          break;
        case 11:
          env.payload = other.payload;
          break;
        case 12:
          env.mac = new Uint8Array();
          break;
        case 13:
          env.keyUpdates = c.next(2) === 0 ? [] : other.keyUpdates;
          break;
        case 14:
          env.start = other.start;
          break;
        case 15:
          env.history = other.history;
          break;
        default:
          env.step = 2n ** 64n - 1n;
      }
      bytes = toBinary(EnvelopeSchema, env);
    }
    this.stats.mutated++;
    const to = c.next(4) === 0 ? c.pick(Object.keys(this.principals))! : f.to;
    await this.deliver({ ...f, bytes, to, sid: c.next(3) === 0 ? (c.pick(this.sids) ?? f.sid) : f.sid }, `a rewritten ${label(f.edge)} (op ${op})`);
  }

  /**
   * A coalition member forges: from a state of its own (or a fellow's) in the
   * session, a chain of up to four steps — made-up messages (`pretend`,
   * binding dynamic roles to honest principals, say), a lie about an earlier
   * message's payload, or a message sealed with a member's keys (binding
   * anyone, re-binding included) whose attestations and key updates the next
   * member carries on — then delivers the last sealed message to its receiver.
   */
  async forge(c: Choices, sid: string): Promise<void> {
    const members = this.coalition;
    if (members.length === 0) return;
    const states: Array<{ p: Principal; st: SessionState }> = [];
    for (const m of members) {
      const st = await this.party(m.id).state(sid).catch(() => undefined);
      if (st !== undefined && st.history !== undefined) states.push({ p: m, st });
    }
    const base = c.pick(states);
    if (base === undefined) return;
    let st: SessionState = { ...base.st };
    let holder = base.p;
    let last: InFlight | undefined;
    const honest = Object.values(this.principals).filter((p) => p.honest);
    const isMember = (role: string, principals: Readonly<Record<string, string>>) =>
      principals[role] !== undefined ? members.some((m) => m.id === principals[role]) : members.some((m) => m.role === role);
    let delivered = false;
    try {
      // A walk through the protocol from the base state: the members seal their own roles' messages, make up the
      // honest ones' (pretend), now and then lie about an earlier message; a sealed message to an honest principal
      // is delivered (and the walk ends) half the time.
      for (let i = 0, n = 1 + c.next(6); i < n && !delivered; i++) {
        const holderParty = this.party(holder.id);
        const honestItems = st.history.filter((x) => honest.some((p) => p.id === st.principals[this.descriptor.edges[x.edge]!.sender]));
        // The relay focus: the walk begins with a lie about an honest principal's authenticated message.
        const lies = this.relay ? honestItems.filter((x) => this.descriptor.edges[x.edge]!.security.authenticity !== "none") : honestItems;
        if ((this.relay && i === 0 ? true : c.next(4) === 0) && lies.length > 0) {
          st = lieAbout(holderParty, st, c.pick(lies)!.step, c.bytes(1 + c.next(6)));
          continue;
        }
        const e = c.pick(this.descriptor.edges.filter((x) => x.from === st.state));
        if (e === undefined) break;
        if (!isMember(e.sender, st.principals)) {
          const bind = Object.fromEntries(e.binds.map((b) => [b.role, c.pick(honest.filter((h) => h.role === b.role))?.id ?? c.pick(this.candidates(b.role))!]));
          st = pretend(holderParty, st, [e], bind);
          continue;
        }
        const sealer = members.find((m) => m.id === st.principals[e.sender]) ?? c.pick(members.filter((m) => m.role === e.sender))!;
        const party = this.party(sealer.id);
        // Unbound roles bound to an honest principal or a fellow; bound ones kept, or re-bound (to a fellow, mostly).
        const bindings = e.binds.map((b) => {
          const had = st.principals[b.role];
          const others = this.candidates(b.role).filter((x) => x !== had);
          const fellows = others.filter((x) => !this.principals[x]!.honest);
          const principal = had !== undefined && c.next(2) === 0 ? had : (c.pick(fellows.length > 0 && c.next(3) > 0 ? fellows : others) ?? had!);
          return { role: b.role, principal };
        });
        const principals = record(st.principals);
        for (const b of bindings) delete principals[b.role];
        const own = sealer.id === holder.id ? st.pairs : ((await this.party(sealer.id).state(sid).catch(() => undefined))?.pairs ?? record());
        const field = e.binds.find((b) => b.field !== null);
        const payload = party.core.encode(party.schema(e.messageType), this.payload(party, e, c, field === undefined ? undefined : bindings.find((b) => b.role === field.role)!.principal, c.next(2) === 0));
        const sealed = sealMessage({ ...party.ctx, role: e.sender }, { ...st, principals, pairs: own, state: e.from }, e, payload, bindings);
        const carried: Record<string, CarriedAttestation> = { ...st.carried };
        for (const a of sealed.envelope.attestations) carried[`${a.role}>${a.target}@${a.step}`] = { role: a.role, target: a.target, step: a.step, tag: a.tag, keyVersion: a.keyVersion };
        const updates: Record<string, CarriedKeyUpdate> = { ...st.carriedUpdates };
        for (const u of sealed.envelope.keyUpdates) {
          if (u.body.case !== undefined) updates[`${u.from}>${u.to}@${u.version}`] = { from: u.from, to: u.to, version: u.version, step: u.step, body: { case: u.body.case, value: u.body.value }, tag: u.tag };
        }
        st = { ...sealed.state, carried, carriedUpdates: updates };
        holder = sealer;
        const to = sealed.state.principals[e.receiver] ?? "";
        last = { bytes: sealed.bytes, to, edge: e, sid, from: sealer.id, history: sealed.envelope.history.length > 0, start: sealed.envelope.start !== undefined };
        this.seen.push(last);
        if ((this.principals[to]?.honest ?? false) && c.next(2) === 0) delivered = true;
      }
    } catch {
      // the library refuses what it cannot seal (a bad binding, say): the coalition tries something else
    }
    if (last === undefined) return;
    this.stats.forged++;
    if (await this.deliver(last, `a forged ${label(last.edge)} from ${last.from}`)) this.stats.forgedAccepted++;
  }
}

export function label(e: EdgeDescriptor): string {
  return `${e.rpc.slice(e.rpc.lastIndexOf("/") + 1)}${e.kind === "response" ? ` response${e.case === null ? "" : `.${e.case.field.name}`}` : ""} (${e.sender}→${e.receiver}, edge ${e.id})`;
}
