/**
 * The values of one session's messages (docs/evidence.md, check 2.10), with
 * the runtime's own check (runtime/values.ts): every payload the log has in
 * the clear decodes as its edge's message type, and a message of an edge
 * with a response case, a principal bound from a field, `where` or `opens`
 * passes the check its receiver makes.
 *
 * The receiver compares `where` and `opens` with the latest message of the
 * named rpc and direction that it sent or received itself; the verifier
 * finds that message among the steps. Only payloads recorded in the clear
 * can be checked: a record holds the payload of its own message only (the
 * history it carries has hashes), and the ciphertext on a direction with
 * privacy. What cannot be checked is counted, not guessed.
 */
import { fromBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import type { EarlierFieldRef, EdgeDescriptor, SessionDescriptor } from "../descriptor/types.js";
import type { CryptoBackend } from "../keys/crypto/index.js";
import { checkValues, type EarlierMessage, type SchemaLookup } from "../runtime/values.js";
import type { RoleBinding } from "../wire/encoding.js";
import { Fault } from "./fault.js";
import { describeStep, type Step } from "./session-path.js";

/** How many messages with value checks were checked fully, and how many could not be (in whole or in part). */
export interface ValuesChecked {
  readonly checked: number;
  readonly unchecked: number;
}

/** A step's payload decoded, when the log has it in the clear. */
type Decoded =
  | { readonly kind: "clear"; readonly message: Message; readonly schema: DescMessage; readonly payload: Uint8Array; readonly line: number }
  | { readonly kind: "unknown" };

/** Checks the values of every message of the run `steps` of a session of `d`. */
export function checkSessionValues(crypto: CryptoBackend, d: SessionDescriptor, schemas: SchemaLookup, start: readonly RoleBinding[], steps: readonly Step[]): ValuesChecked {
  const referenced = referencedKeys(d);
  // Per role, the latest step of each referenced `rpc|direction` it sent or received (what its runtime keeps), decoded.
  const handled = new Map<string, Map<string, Decoded>>();
  const principals: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const b of start) principals[b.role] = b.principal;
  let checked = 0;
  let unchecked = 0;
  for (const s of steps) {
    for (const b of s.message.item.bindings) principals[b.role] = b.principal;
    const mine = decode(schemas, s);
    if (hasValueChecks(s.edge)) {
      const earlier = (ref: EarlierFieldRef): Decoded | undefined => handled.get(s.edge.receiver)?.get(valueKey(ref.rpc, ref.direction));
      // The clauses the log can support: those whose earlier message it has in the clear, or that has none (the runtime refuses that).
      const known = (ref: EarlierFieldRef): boolean => earlier(ref)?.kind !== "unknown";
      const view: EdgeDescriptor = { ...s.edge, where: s.edge.where.filter((w) => known(w.equals)), opens: s.edge.opens !== null && known(s.edge.opens) ? s.edge.opens : null };
      if (mine.kind === "clear") {
        const lookup = (ref: EarlierFieldRef): EarlierMessage | undefined => {
          const x = earlier(ref);
          return x?.kind === "clear" ? { message: x.message, schema: x.schema } : undefined;
        };
        const reason = checkValues(crypto, view, mine.schema, mine.message, mine.payload, principals, lookup);
        if (reason !== undefined) throw new Fault(mine.line, `${describeStep(s.step, s.edge)}: ${reason}: its receiver refuses it`);
      }
      if (mine.kind === "clear" && view.where.length === s.edge.where.length && view.opens === s.edge.opens) checked++;
      else unchecked++;
    }
    const key = valueKey(s.edge.rpc, s.edge.kind === "response" ? "response" : "request");
    if (referenced.has(key)) {
      for (const role of [s.edge.sender, s.edge.receiver]) {
        const m = handled.get(role) ?? new Map<string, Decoded>();
        m.set(key, mine);
        handled.set(role, m);
      }
    }
  }
  return { checked, unchecked };
}

/**
 * The payload of step `s` decoded as its edge's message type, when the log
 * has it in the clear: recorded here, on a direction without privacy. (The
 * runtime decodes a kept payload as the type of the first edge of its rpc
 * and direction: the same type, since it is the same rpc.)
 */
function decode(schemas: SchemaLookup, s: Step): Decoded {
  const p = s.message.payload;
  if (p === undefined || s.edge.security.privacy !== "none") return { kind: "unknown" };
  const schema = schemas(s.edge.messageType);
  if (schema === undefined) throw new Fault(p.line, `${describeStep(s.step, s.edge)} carries ${s.edge.messageType}, which the message types given do not have: pass the file the session's messages are generated in`);
  try {
    return { kind: "clear", message: fromBinary(schema, p.bytes), schema, payload: p.bytes, line: p.line };
  } catch {
    throw new Fault(p.line, `the payload of ${describeStep(s.step, s.edge)} does not decode as ${schema.typeName}: its receiver refuses it as malformed`);
  }
}

function hasValueChecks(e: EdgeDescriptor): boolean {
  return e.case !== null || e.binds.some((b) => b.field !== null) || e.where.length > 0 || e.opens !== null;
}

/** `rpc|direction` of every message a `where` or `opens` compares with. */
function referencedKeys(d: SessionDescriptor): Set<string> {
  const out = new Set<string>();
  for (const e of d.edges) {
    for (const w of e.where) out.add(valueKey(w.equals.rpc, w.equals.direction));
    if (e.opens !== null) out.add(valueKey(e.opens.rpc, e.opens.direction));
  }
  return out;
}

function valueKey(rpc: string, direction: "request" | "response"): string {
  return `${rpc}|${direction}`;
}
