/**
 * A role's live session in this process: its position in the role's local
 * state machine, the messages waiting to be received, and the call waiting
 * for its response. State objects are made here; each may be used once.
 */
import { create, type Message } from "@bufbuild/protobuf";
import type { EdgeDescriptor, LocalTransitionDescriptor, ProjectionDescriptor } from "../descriptor/types.js";
import { moveNameIn } from "../descriptor/names.js";
import { SecSessionError } from "../errors.js";
import { PendingSend } from "../grpc/sealed.js";
import type { Party, Received } from "../runtime/party.js";
import { caseMismatch } from "../runtime/values.js";
import type { RoleBinding } from "../wire/encoding.js";
import type { SessionState } from "../monitor/state.js";
import type { ReceiveOptions, SendOptions } from "./types.js";

/** What a receive resolves with, untyped (the typed view is `Incoming`). */
export interface IncomingValue {
  readonly kind: string;
  readonly message: Message;
  readonly next: object;
}

/** How a session reaches its peers: sends a request or one-way message, returns the checked outcome. */
export interface Transport {
  /** `state`: the session's state the message is sent from (its principals say who receives it). */
  call(party: Party, send: PendingSend, options: SendOptions, state: SessionState): Promise<Received | "receipt">;
  /** How long a `receive()` waits by default (ms); undefined: until the session expires. */
  readonly receiveTimeoutMs: number | undefined;
}

/**
 * A `receive()` that saw no message in time. The session is unchanged: the
 * same state object may receive again (a message arriving later waits for it).
 */
export class ReceiveTimeoutError extends Error {
  constructor(
    readonly sessionId: string,
    readonly timeoutMs: number,
  ) {
    super(`secsession: no message within ${timeoutMs} ms in session ${sessionId}; the session is unchanged and this state object may receive again`);
    this.name = "ReceiveTimeoutError";
  }
}

/** A session this runtime expired (idle too long) or otherwise freed: its state is gone, nothing more can be sent or received in it. */
export class SessionExpiredError extends Error {
  constructor(
    readonly sessionId: string,
    reason: string,
  ) {
    super(`secsession: session ${sessionId} ${reason}`);
    this.name = "SessionExpiredError";
  }
}

/** Throws unless `ms` is a whole positive number of milliseconds (a timeout). */
export function checkTimeout(name: string, ms: unknown): void {
  if (typeof ms !== "number" || !Number.isSafeInteger(ms) || ms <= 0) throw new RangeError(`secsession: ${name} must be a whole number of milliseconds > 0, got ${String(ms)}`);
}

/** The grpc-js callback of a received call, kept until the response is sent. */
export type Responder = (error: { code: number; details: string } | null, value?: unknown) => void;

export class LocalSession {
  private local: number;
  private readonly inbox: IncomingValue[] = [];
  private readonly waiting: Array<{ resolve: (v: IncomingValue) => void; reject: (e: unknown) => void }> = [];
  /** Why the session is gone, once it is. */
  private gone: string | undefined;
  private pendingCall: { rpc: string; respond: Responder } | undefined;
  private readonly projection: ProjectionDescriptor;

  constructor(
    readonly party: Party,
    readonly key: string,
    private readonly transport: Transport,
    /** Called once when the role's part of the session is over. */
    private readonly onFinal: () => void = () => undefined,
    /** Resume at the local state where `edge` is received (a session this process did not see start). */
    resumeAt?: number,
    /** Resume at this local state (a session restored from an export: docs/save-restore.md). */
    atLocal?: number,
  ) {
    this.projection = party.descriptor.projections[party.role]!;
    this.local = this.projection.initial;
    if (resumeAt !== undefined) {
      const t = this.projection.transitions.find((x) => x.direction === "receive" && x.edges.includes(resumeAt));
      if (t !== undefined) this.local = t.from;
    }
    if (atLocal !== undefined) {
      if (this.projection.states[atLocal] === undefined) throw new Error(`secsession: role ${party.role} has no local state ${atLocal}`);
      this.local = atLocal;
    }
  }

  /** The state object of the current local state. */
  current(): object {
    return this.stateObject(this.local);
  }

  /** Records an accepted incoming message; returns its typed view. */
  accept(r: Received, respond: Responder | undefined): IncomingValue {
    const t = this.transition(this.local, "receive", r.edge.id);
    this.moveTo(t.to);
    if (r.edge.kind === "request") this.pendingCall = { rpc: r.edge.rpc, respond: respond! };
    return { kind: moveNameIn(this.projection, t), message: r.message, next: this.stateObject(t.to) };
  }

  /** Queues an accepted message for `receive()`. */
  deliver(v: IncomingValue): void {
    const w = this.waiting.shift();
    if (w !== undefined) w.resolve(v);
    else this.inbox.push(v);
  }

  /**
   * Frees the session (it expired): receives waiting reject, a call waiting
   * for this role's response fails, and every later move throws
   * SessionExpiredError.
   */
  expire(reason: string): void {
    if (this.gone !== undefined) return;
    this.gone = reason;
    this.inbox.length = 0;
    for (const w of this.waiting.splice(0)) w.reject(new SessionExpiredError(this.key, reason));
    const p = this.pendingCall;
    this.pendingCall = undefined;
    p?.respond({ code: 10, details: "secsession: the session expired before its response was sent" });
  }

  /**
   * Fails a call still waiting for its response (its handler failed) with a
   * generic reason: what failed is for this runtime (handlerError), not the
   * peer. True when a call was waiting.
   */
  abandon(): boolean {
    const p = this.pendingCall;
    this.pendingCall = undefined;
    p?.respond({ code: 13, details: "secsession: the handler failed before responding" });
    return p !== undefined;
  }

  /** True while a call waits for this role's response. */
  waitingForResponse(): boolean {
    return this.pendingCall !== undefined;
  }

  private moveTo(to: number): void {
    this.local = to;
    if (this.projection.states[to]!.final) this.onFinal();
  }

  private transition(from: number, direction: "send" | "receive", edge: number): LocalTransitionDescriptor {
    const t = this.projection.transitions.find((x) => x.from === from && x.direction === direction && x.edges.includes(edge));
    if (t === undefined) throw new Error(`secsession: internal error: edge ${edge} is not a ${direction} of local state ${from}`);
    return t;
  }

  private stateObject(localId: number): object {
    const st = this.projection.states[localId]!;
    if (st.final) return { final: true, sessionId: this.key };
    let used = false;
    const use = (): void => {
      if (used) throw new Error("secsession: this state object was already used: continue from the state the previous move returned");
      used = true;
    };
    const obj: Record<string, unknown> = { sessionId: this.key, localState: localId };
    const moves = movesOf(this.projection, localId);
    for (const { t, name } of moves.sends) {
      obj[name] = (init: object, options: SendOptions = {}) => {
        let message: Message;
        try {
          message = this.messageOf(name, t, init);
        } catch (e: unknown) {
          // Refused before anything moved: nothing is sent and this state object may send again.
          return Promise.reject(e);
        }
        use();
        return this.send(localId, t, message, options);
      };
    }
    if (moves.receives) {
      obj["receive"] = (options: ReceiveOptions = {}) => {
        const timeoutMs = options.timeoutMs ?? this.transport.receiveTimeoutMs;
        if (timeoutMs !== undefined) checkTimeout("receive({ timeoutMs })", timeoutMs);
        use();
        // Timed out, nothing moved: the same state object may receive again.
        return this.receive(timeoutMs).catch((e: unknown) => {
          if (e instanceof ReceiveTimeoutError) used = false;
          throw e;
        });
      };
    }
    return Object.freeze(obj);
  }

  private receive(timeoutMs: number | undefined): Promise<IncomingValue> {
    const v = this.inbox.shift();
    if (v !== undefined) return Promise.resolve(v);
    if (this.gone !== undefined) return Promise.reject(new SessionExpiredError(this.key, this.gone));
    return new Promise((resolve, reject) => {
      const w = { resolve, reject };
      this.waiting.push(w);
      if (timeoutMs === undefined) return;
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(w);
        if (i < 0) return;
        this.waiting.splice(i, 1);
        reject(new ReceiveTimeoutError(this.key, timeoutMs));
      }, timeoutMs);
      timer.unref();
      w.resolve = (x) => {
        clearTimeout(timer);
        resolve(x);
      };
      w.reject = (e) => {
        clearTimeout(timer);
        reject(e);
      };
    });
  }

  /**
   * The message of send move `name` (transition `t`) made from `init`.
   * Throws a SecSessionError (`value`) when the move is a response branch and
   * the message does not carry its case: the peer would refuse it, so it is
   * refused here, before it is sealed (the generated types make such a call a
   * type error; this catches the untyped or cast ones).
   */
  private messageOf(name: string, t: LocalTransitionDescriptor, init: object): Message {
    // The edges of one transition share its label, hence rpc, message type and case.
    const edge = this.party.plan.edges[t.edges[0]!]!;
    const schema = this.party.schema(edge.messageType);
    const message = create(schema, init as never) as Message;
    const wrong = caseMismatch(edge, schema, message);
    if (wrong !== undefined) {
      const got = wrong.actual === undefined ? `no case of ${wrong.oneof}` : `case ${JSON.stringify(wrong.actual)}`;
      throw new SecSessionError("value", `${name} is the ${wrong.expected} branch of ${edge.rpc}: its message must set ${wrong.oneof} to { case: ${JSON.stringify(wrong.expected)}, value }, got ${got}; nothing was sent`);
    }
    return message;
  }

  private async send(from: number, t: LocalTransitionDescriptor, message: Message, options: SendOptions): Promise<unknown> {
    if (this.gone !== undefined) throw new SessionExpiredError(this.key, this.gone);
    if (this.local !== from) throw new Error("secsession: internal error: the session moved on under this state object");
    const st = await this.party.state(this.key);
    if (st === undefined) throw new Error(`secsession: session ${this.key} is gone`);
    const edges = this.party.plan.edges;
    const id = t.edges.find((e) => edges[e]!.from === st.state);
    const edge = id === undefined ? undefined : edges[id]!;
    if (edge === undefined) throw new Error(`secsession: internal error: no edge of ${t.label} leaves global state ${st.state}`);
    const bindings = bindingsOf(edge, message, options, this.party);
    if (edge.kind === "response") {
      const send = new PendingSend(this.party, this.key, edge, message, bindings);
      const pending = this.pendingCall;
      if (pending === undefined || pending.rpc !== edge.rpc) throw new Error(`secsession: no ${edge.rpc} call is waiting for a response`);
      this.pendingCall = undefined;
      pending.respond(null, send);
      await send.done;
      this.moveTo(t.to);
      return this.stateObject(t.to);
    }
    // The receiver may answer before this call returns: move on as soon as the message is sealed.
    const send = new PendingSend(this.party, this.key, edge, message, bindings, () => this.moveTo(t.to));
    const outcome = await this.transport.call(this.party, send, options, st);
    if (outcome === "receipt") return this.stateObject(t.to);
    return this.accept(outcome, undefined);
  }
}

/** The moves of one local state: its sends, named, and whether it receives. */
interface StateMoves {
  readonly sends: ReadonlyArray<{ readonly t: LocalTransitionDescriptor; readonly name: string }>;
  readonly receives: boolean;
}
const movesByProjection = new WeakMap<ProjectionDescriptor, Map<number, StateMoves>>();

/** The moves of local state `localId` of `p`, found once per projection and state (a state object is made per message). */
function movesOf(p: ProjectionDescriptor, localId: number): StateMoves {
  let byState = movesByProjection.get(p);
  if (byState === undefined) movesByProjection.set(p, (byState = new Map()));
  let m = byState.get(localId);
  if (m === undefined) {
    const moves = p.transitions.filter((t) => t.from === localId);
    m = { sends: moves.filter((x) => x.direction === "send").map((t) => ({ t, name: moveNameIn(p, t) })), receives: moves.some((t) => t.direction === "receive") };
    byState.set(localId, m);
  }
  return m;
}

function bindingsOf(edge: EdgeDescriptor, message: Message, options: SendOptions, party: Party): RoleBinding[] {
  return edge.binds.map((b) => {
    let principal = options.bind?.[b.role];
    if (b.field !== null) {
      const f = party.schema(edge.messageType).fields.find((x) => x.number === b.field!.number)!;
      const v = (message as unknown as Record<string, unknown>)[f.localName];
      if (typeof v !== "string" || v === "") throw new Error(`secsession: ${edge.rpc} binds ${b.role} to its field ${b.field.name}, which is empty`);
      if (principal !== undefined && principal !== v) throw new Error(`secsession: bind.${b.role} (${principal}) differs from field ${b.field.name} (${v})`);
      principal = v;
    }
    if (principal === undefined || principal === "") throw new SecSessionError("value", `${edge.rpc} binds role ${b.role}: pass { bind: { ${b.role}: "<principal>" } }`);
    return { role: b.role, principal };
  });
}
