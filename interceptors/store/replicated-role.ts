/**
 * A role served by several replicas behind one address (docs/scale-out.md,
 * "Replicated roles"). Any replica may receive any message of a session, so
 * no replica can keep a session waiting in a `receive()` between messages:
 * every message the role receives runs the handler of its move, on the
 * replica that received it, with the state object after it. The handler
 * sends what the role sends next and returns; where the session stands lives
 * in the shared store alone.
 *
 * @example
 * runtime.serveReplicated(server, ConfConfman, {
 *   upload: async ({ message, next }) => { await next.uploadOk({ outcome: { case: "ok", value: {} } }); },
 *   submit: async ({ message, next }) => { await next.paper({ paper: message.paper }); },
 *   withdraw: async ({ next }) => { await next.retract({}); },
 *   reqRevision: async ({ next }) => { await next.revise({}); },
 *   close: async ({ next }) => { await next.closeResponse({}); },
 * });
 */
import { moveNameIn } from "../descriptor/names.js";
import type { RoleDefinition } from "../api/role.js";
import type { Incoming, Machine } from "../api/types.js";

/** Every message a role can receive, in any local state. */
export type AnyIncoming<M> = { [S in keyof M]: Incoming<M, S> }[keyof M];

/**
 * One handler per receive move of the role, in any local state (a move that
 * several local states receive gets one handler: narrow on `next.localState`).
 */
export type ReplicaHandlers<M> = {
  readonly [K in AnyIncoming<M>["kind"]]: (incoming: Extract<AnyIncoming<M>, { readonly kind: K }>) => Promise<void> | void;
};

/** Checks that `handlers` covers every move the role receives (a message without a handler would be accepted and lost). */
export function checkReplicaHandlers<M extends Machine>(def: RoleDefinition<M>, handlers: ReplicaHandlers<M>): void {
  const projection = def.descriptor.projections[def.role];
  if (projection === undefined) throw new Error(`secsession: session ${def.descriptor.name} has no role ${def.role}`);
  const moves = new Set(projection.transitions.filter((t) => t.direction === "receive").map((t) => moveNameIn(projection, t)));
  const table = handlers as unknown as Record<string, unknown>;
  const missing = [...moves].filter((m) => typeof table[m] !== "function");
  if (missing.length > 0) throw new Error(`secsession: a replicated role handles every message it receives: role ${def.role} of ${def.descriptor.name} needs handlers for ${missing.join(", ")}`);
  const unknown = Object.keys(table).filter((k) => !moves.has(k));
  if (unknown.length > 0) throw new Error(`secsession: role ${def.role} of ${def.descriptor.name} never receives ${unknown.join(", ")} (it receives ${[...moves].join(", ")})`);
}

const WAITING_REFUSED =
  "secsession: a replicated role does not wait for its next message: that message runs the handler of its move, on whichever replica receives it (serveReplicated)";

/** The state object a replicated handler sees: the same moves, but `receive()` refuses, and so do the states its sends return. */
export function replicaState(obj: object): object {
  if ("final" in obj) return obj;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === "receive") out[k] = () => Promise.reject(new Error(WAITING_REFUSED));
    else if (typeof v === "function") out[k] = (...args: unknown[]) => (v as (...a: unknown[]) => Promise<unknown>)(...args).then(replicaResult);
    else out[k] = v;
  }
  return Object.freeze(out);
}

/** What a send returns (a state object, or the response of a call this role made), seen by a replicated handler. */
function replicaResult(r: unknown): unknown {
  if (r === null || typeof r !== "object") return r;
  if ("kind" in r && "next" in r && typeof r.next === "object" && r.next !== null) return Object.freeze({ ...r, next: replicaState(r.next) });
  return replicaState(r);
}

/** An incoming message as a replicated handler receives it. */
export function replicaIncoming<T extends { readonly next: object }>(incoming: T): T {
  return Object.freeze({ ...incoming, next: replicaState(incoming.next) });
}
