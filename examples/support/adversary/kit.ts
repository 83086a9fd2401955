/**
 * What a scenario of the catalogue is: a function of a running example (its
 * descriptor, its parties, one honest run's messages) that either says why it
 * does not apply, or plans an attack — an interceptor over a later run of the
 * same honest code, the refusal it expects, and what the honest session can
 * still do afterwards. Helpers shared by the scenarios live here too.
 */
import { create, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { status as grpcStatusCodes, type status } from "@grpc/grpc-js";
import type { AlertKind } from "secsession";
import type { EdgeDescriptor, SessionDescriptor } from "../../../interceptors/descriptor/types.js";
import type { Envelope } from "../../../gen/secsession/v1/envelope_pb.js";
import type { SessionState } from "../../../interceptors/monitor/state.js";
import type { Hop, Interceptor, Rig } from "./rig.js";
import type { Outcome } from "./mitm.js";

/** The refusal an attempt must meet: an alert kind and its status, or a transport status with no alert. */
export interface Expectation {
  readonly kind: AlertKind | undefined;
  readonly status: status;
  /** Words the victim's alert reason must contain (e.g. whose attestation failed). */
  readonly about?: string;
  /** Other refusals that are as good, when which check refuses first depends on the victim's state (its transcript, its keys). */
  readonly or?: readonly Expectation[];
}

/** What the attacker can do during a run; every attempt it makes is measured. */
export interface Attacker {
  readonly rig: Rig;
  /** The messages of the honest sessions run before the attacked one. */
  readonly prior: ReadonlyArray<readonly Hop[]>;
  /** Session ids of the attacked run, in order of first appearance. */
  readonly sids: readonly string[];
  /** The messages of the attacked run so far. */
  readonly hops: readonly Hop[];
  /** Sends bytes straight to `victim`'s server (the genuine message, if any, is held meanwhile). */
  inject(victim: string, path: string, bytes: Uint8Array, what: string, expect?: Expectation): Promise<Outcome>;
  /**
   * Sends several envelopes on one call to `victim`'s server. Counted as
   * delivered if any of them changed the victim's state or reached its code.
   */
  injectFramed(victim: string, path: string, messages: readonly Uint8Array[], what: string, expect?: Expectation): Promise<Outcome>;
  /** Registers bytes about to be handed to the caller of `hop` instead of its genuine response; returns them. */
  substitute(hop: Hop, bytes: Uint8Array, what: string, expect?: Expectation): Uint8Array;
  /** Resolves when every substitution so far has been answered by its caller. */
  settled(): Promise<void>;
}

/** An attack planned against one example. */
export interface Plan {
  /** The message or moment attacked, for the report. */
  readonly target: string;
  readonly expect: Expectation;
  /**
   * "completes": the attacked session then runs to its honest end;
   * "fresh": by construction it cannot (the attack replaced or dropped the
   * only copy of a message, which the network can always do) — a new
   * session must then complete on the same parties.
   */
  readonly after: "completes" | "fresh";
  /** Honest sessions run first (their messages are `Attacker.prior`). */
  readonly prior?: number;
  /** Sessions the initiator runs at once in the attacked run. */
  readonly concurrent?: number;
  interceptor(a: Attacker): Interceptor;
  /** Runs once the attacked session finished (replays of what it sent, once it is over). */
  atEnd?(a: Attacker): Promise<void>;
}

/** Why a scenario does not apply to an example. */
export interface NotApplicable {
  readonly na: string;
}

/** What a scenario sees of an example when it plans. */
export interface Planning {
  readonly rig: Rig;
  /** One honest session's messages, in order. */
  readonly hops: readonly Hop[];
}

export interface Scenario {
  readonly id: string;
  /** One line: what the attacker does. */
  readonly title: string;
  /** The attacker's power: network, or compromised peers. */
  readonly attacker: "network" | "compromised peer" | "coalition" | "outsider";
  /** A few sentences for docs/attacks.md. */
  readonly explanation: string;
  /** The check that stops it (docs/protocol.md, "Receiving a message"). */
  readonly defence: string;
  plan(p: Planning): Plan | NotApplicable;
}

export const isNa = (p: Plan | NotApplicable): p is NotApplicable => "na" in p;

/** One-way messages and requests: the attacker can deliver its own copies of these with a call. */
export const injectable = (e: EdgeDescriptor): boolean => e.kind !== "response";

export const authenticated = (e: EdgeDescriptor): boolean => e.security.authenticity !== "none";

/** An edge's message in reports: `Offer`, `Request response`, `Request response [fault]` for a response branch. */
export function messageName(e: EdgeDescriptor): string {
  const method = e.rpc.slice(e.rpc.lastIndexOf("/") + 1);
  return `${method}${e.kind === "response" ? " response" : ""}${e.case === null ? "" : ` [${e.case.field.name}]`}`;
}

/** The label of a message in reports: `Offer (w→c) #2`. */
export function label(hop: Hop, hops: readonly Hop[] = []): string {
  const n = hops.filter((h) => h.session === hop.session && h.index <= hop.index && h.edge.id === hop.edge.id).length;
  return `${messageName(hop.edge)} (${hop.edge.sender}→${hop.edge.receiver})${n > 1 ? ` #${n}` : ""}`;
}

/** The first message of session 0 that satisfies `pred`. */
export function firstHop(hops: readonly Hop[], pred: (h: Hop) => boolean): Hop | undefined {
  return hops.find((h) => h.session === 0 && pred(h));
}

/**
 * An interceptor that acts on message `index` of the attacked session: for
 * a call, `act` runs while the genuine message is held, then the genuine one
 * is delivered (unless `act` returns an outcome to give the sender instead);
 * for a response, `respond` returns what its caller gets.
 */
export function at(
  index: number,
  act: {
    call?: (hop: Hop, forward: (bytes?: Uint8Array, path?: string) => Promise<Outcome>) => Promise<Outcome | void>;
    response?: (hop: Hop) => Promise<Uint8Array> | Uint8Array;
  },
  session = 0,
): Interceptor {
  return {
    async onCall(hop, forward) {
      if (hop.session === session && hop.index === index && act.call !== undefined) {
        const o = await act.call(hop, forward);
        if (o !== undefined) return o;
      }
      return forward();
    },
    async onResponse(hop) {
      if (hop.session === session && hop.index === index && act.response !== undefined) return act.response(hop);
      return hop.bytes;
    },
  };
}

/** The latest state `principal` committed as `role` in `sid` before step `step` (what it held before sending it). */
export function stateBefore(rig: Rig, principal: string, role: string, sid: string, step: bigint): SessionState {
  const copies = rig.peers[principal]!.store.history(rig.key(role, sid)).filter((s) => s.step < step);
  const st = copies.at(-1);
  if (st === undefined) throw new Error(`adversary: ${principal} held no state as ${role} before step ${step}`);
  return st;
}

/** A payload of `edge`'s message type the honest code could send (the default message; a response branch carries its case). */
export function plausiblePayload(rig: Rig, edge: EdgeDescriptor): Uint8Array {
  const schema = schemaOf(rig, edge);
  const init: Record<string, unknown> = {};
  if (edge.case !== null) {
    const field = schema.fields.find((f) => f.number === edge.case!.field.number)!;
    if (field.oneof !== undefined && field.fieldKind === "message") init[field.oneof.localName] = { case: field.localName, value: create(field.message) };
  }
  return toBinary(schema, create(schema, init as never));
}

/** The protobuf schema of `edge`'s message. */
export function schemaOf(rig: Rig, edge: EdgeDescriptor): DescMessage {
  return rig.party(rig.principalOf(edge.receiver), edge.receiver).schema(edge.messageType);
}

/** True when the global graph has a cycle (a `rec` the protocol can go round). */
export function hasLoop(d: SessionDescriptor): boolean {
  const next = new Map<number, number[]>();
  for (const e of d.edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const colour = new Map<number, "grey" | "black">();
  const visit = (s: number): boolean => {
    if (colour.get(s) === "grey") return true;
    if (colour.get(s) === "black") return false;
    colour.set(s, "grey");
    const cyclic = (next.get(s) ?? []).some(visit);
    colour.set(s, "black");
    return cyclic;
  };
  return visit(d.initial);
}

/** Why a scenario that needs a loop iteration does not apply. */
export function noLoop(d: SessionDescriptor): NotApplicable {
  return { na: hasLoop(d) ? "the honest run goes round no loop with a message of this kind" : "the protocol has no loop" };
}

/**
 * The cryptographic refusal of a message sealed for another session or
 * another start: a key update the victim has not applied yet fails first
 * (first contacts and ratchet steps are bound to the session id), otherwise
 * the MAC over this session's transcript does.
 */
export function cryptoRefusal(env: Envelope, victim: string, st: SessionState | undefined): Expectation {
  const fresh = env.keyUpdates.some((u) => u.to === victim && u.version > (st?.pairs[u.from]?.version ?? 0));
  return { kind: fresh ? "bad-key-update" : "bad-attestation", status: grpcStatusCodes.UNAUTHENTICATED };
}

/** Statuses by name, for expectations. */
export { status as grpcStatus } from "@grpc/grpc-js";
