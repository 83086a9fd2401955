/**
 * The run of one session through its global graph (docs/evidence.md, check
 * 2.7): from the descriptor's initial state each step's edge leaves the
 * current state, binds exactly its edge's roles, never re-binds a bound role
 * to another principal, and is sent and received by bound roles; the
 * transcript hash is recomputed along the way.
 */
import type { EdgeDescriptor, SessionDescriptor } from "../descriptor/types.js";
import type { CryptoBackend } from "../keys/crypto/index.js";
import type { RoleBinding } from "../wire/encoding.js";
import { transcriptStart, transcriptStep } from "../wire/transcript.js";
import { Fault } from "./fault.js";
import type { LoggedMessage } from "./session-messages.js";

/** One step of the run. */
export interface Step {
  readonly step: bigint;
  readonly edge: EdgeDescriptor;
  readonly message: LoggedMessage;
  /** Transcript hash after this message. */
  readonly h: Uint8Array;
  /** The principal bound to the edge's sender at this step: the speaker is (edge.sender, sender). */
  readonly sender: string;
}

/** The run: its steps, the principals bound at its end, and the global state reached. */
export interface Run {
  readonly steps: readonly Step[];
  readonly principals: Readonly<Record<string, string>>;
  readonly state: number;
}

/** Walks the session's messages (steps 1..n) through `d`'s global graph. */
export function walkPath(crypto: CryptoBackend, d: SessionDescriptor, sessionId: Uint8Array, start: readonly RoleBinding[], messages: readonly LoggedMessage[]): Run {
  const steps: Step[] = [];
  let state = d.initial;
  let h = transcriptStart(crypto, sessionId);
  // Null prototype: a principal or role named like an Object.prototype key is only data here.
  const principals: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const b of start) principals[b.role] = b.principal;
  for (const message of messages) {
    const { item, line } = message;
    const k = item.step;
    const edge = d.edges[item.edge];
    if (edge === undefined) throw new Fault(line, `step ${k} names edge ${item.edge}, which ${d.name} does not have`);
    const what = describeStep(k, edge);
    if (edge.from !== state) throw new Fault(line, `${what} cannot follow global state ${state}: it leaves state ${edge.from}`);
    bind(principals, edge, item.bindings, what, line);
    const sender = principals[edge.sender];
    if (sender === undefined) throw new Fault(line, `${what} is sent by ${edge.sender}, which is not bound yet`);
    if (principals[edge.receiver] === undefined) throw new Fault(line, `${what} is received by ${edge.receiver}, which is not bound yet`);
    h = transcriptStep(crypto, h, item);
    steps.push({ step: k, edge, message, h, sender });
    state = edge.to;
  }
  return { steps, principals: { ...principals }, state };
}

/** `step k (edge e, rpc kind[ case])`, how reasons name a step. */
export function describeStep(k: bigint, edge: EdgeDescriptor): string {
  return `step ${k} (edge ${edge.id}, ${edge.rpc} ${edge.kind}${edge.case === null ? "" : ` ${edge.case.field.name}`})`;
}

/**
 * Applies a message's bindings: exactly its edge's `binds` roles, to
 * non-empty principals. A role already bound keeps its principal: the
 * runtime refuses to re-bind it to another (a speaker is a role with the
 * principal bound to it, and attestations are checked against that pair).
 */
function bind(principals: Record<string, string>, edge: EdgeDescriptor, bindings: readonly RoleBinding[], what: string, line: number): void {
  const want = edge.binds.map((b) => b.role).sort();
  const got = bindings.map((b) => b.role).sort();
  if (want.join("\u0000") !== got.join("\u0000")) throw new Fault(line, `${what} must bind [${want.join(", ")}], it binds [${got.join(", ")}]`);
  for (const b of bindings) {
    if (b.principal === "") throw new Fault(line, `${what} binds a role to an empty principal`);
    const bound = principals[b.role];
    if (bound !== undefined && bound !== b.principal) {
      throw new Fault(line, `${what} binds ${b.role} to ${JSON.stringify(b.principal)}, but ${b.role} is bound to ${JSON.stringify(bound)}: a runtime refuses to re-bind a role to another principal`);
    }
    principals[b.role] = b.principal;
  }
}
