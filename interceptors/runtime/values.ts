/**
 * Value checks on decoded payloads: the oneof case of a response branch,
 * principals bound from request fields, `where` equalities and `opens`
 * commitments (docs/protocol.md, "Values").
 */
import { equals, fromBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import type { EarlierFieldRef, EdgeDescriptor } from "../descriptor/types.js";
import { constantTimeEqual, type CryptoBackend } from "../keys/crypto/index.js";
import type { ValueCheck } from "../monitor/open.js";

/** Looks up the schema of a message type. */
export type SchemaLookup = (typeName: string) => DescMessage | undefined;

/** An earlier message a `where` or `opens` clause compares with, decoded with its schema. */
export interface EarlierMessage {
  readonly message: Message;
  readonly schema: DescMessage;
}

/**
 * The earlier message of `ref.rpc` in `ref.direction` the checking role
 * keeps (the latest one it sent or received), or undefined when it has none.
 */
export type EarlierLookup = (ref: EarlierFieldRef) => EarlierMessage | undefined;

/**
 * The value check of one message: decodes the payload in the clear as
 * `schema` (left in `out.message`), then checks its values.
 */
export function valueCheck(
  schemas: SchemaLookup,
  typeOf: (ref: EarlierFieldRef) => string | undefined,
  crypto: CryptoBackend,
  schema: DescMessage,
  out: { message?: Message },
): ValueCheck {
  return (edge: EdgeDescriptor, principals, state, payload) => {
    let message: Message;
    try {
      message = fromBinary(schema, payload);
    } catch {
      return { kind: "malformed", reason: `the payload of edge ${edge.id} does not decode as ${schema.typeName}` };
    }
    out.message = message;
    const earlier: EarlierLookup = (ref) => {
      const bytes = state.values[`${ref.rpc}|${ref.direction}`];
      const type = typeOf(ref);
      const s = type === undefined ? undefined : schemas(type);
      return bytes === undefined || s === undefined ? undefined : { message: decodedEarlier(s, bytes), schema: s };
    };
    const reason = checkValues(crypto, edge, schema, message, payload, principals, earlier);
    return reason === undefined ? undefined : { kind: "value", reason };
  };
}

/**
 * Earlier payloads as decoded, by the bytes a state keeps (a state's values
 * are its own copies, never written to): a `where` checked on every message
 * of a loop decodes the message it compares with once, not on every turn.
 * Read only by the checks here, which never change a message.
 */
const decodedValues = new WeakMap<Uint8Array, { readonly schema: DescMessage; readonly message: Message }>();

function decodedEarlier(schema: DescMessage, bytes: Uint8Array): Message {
  const hit = decodedValues.get(bytes);
  if (hit !== undefined && hit.schema === schema) return hit.message;
  const message = fromBinary(schema, bytes);
  decodedValues.set(bytes, { schema, message });
  return message;
}

/**
 * The values of a decoded message of `edge` (its payload `payload`, in the
 * clear): the oneof case of a response branch, principals bound from its
 * fields (`principals`: after this message's bindings), `where` equalities
 * and `opens` commitments against the earlier messages `earlier` finds.
 * Returns why the message is refused, or undefined. The runtime's receivers
 * and the offline evidence verifier both check with this.
 */
export function checkValues(
  crypto: CryptoBackend,
  edge: EdgeDescriptor,
  schema: DescMessage,
  message: Message,
  payload: Uint8Array,
  principals: Readonly<Record<string, string>>,
  earlier: EarlierLookup,
): string | undefined {
  const wrongCase = caseMismatch(edge, schema, message);
  if (wrongCase !== undefined) {
    return `edge ${edge.id} is the ${edge.case!.field.name} branch, but the response carries ${wrongCase.actual === undefined ? "no case" : `case ${wrongCase.actual}`}`;
  }
  for (const b of edge.binds) {
    if (b.field === null) continue;
    const v = fieldValue(message, schema, b.field.number);
    if (v !== principals[b.role]) return `${b.field.name} must name the principal bound to ${b.role} (${JSON.stringify(principals[b.role])}), got ${JSON.stringify(v)}`;
  }
  const earlierValue = (ref: EarlierFieldRef): { value: unknown; ok: boolean } => {
    const e = earlier(ref);
    return e === undefined ? { value: undefined, ok: false } : { value: fieldValue(e.message, e.schema, ref.field.number), ok: true };
  };
  for (const w of edge.where) {
    const mine = fieldValue(message, schema, w.field.number);
    const theirs = earlierValue(w.equals);
    if (!theirs.ok) return `no earlier ${w.equals.rpc} ${w.equals.direction} to compare ${w.field.name} with`;
    const f = schema.fields.find((x) => x.number === w.field.number);
    if (!sameValue(mine, theirs.value, f?.message)) return `${w.field.name} must equal ${w.equals.field.name} of the earlier ${w.equals.rpc} ${w.equals.direction}`;
  }
  if (edge.opens !== null) {
    const c = earlierValue(edge.opens);
    if (!c.ok || !(c.value instanceof Uint8Array)) return `no earlier commitment ${edge.opens.field.name} to open`;
    if (!constantTimeEqual(crypto.sha256(payload), c.value)) return `the payload does not open the earlier ${edge.opens.field.name} (its SHA-256 differs)`;
  }
  return undefined;
}

/**
 * Whether `message` lacks the oneof case that `edge`, a response branch,
 * carries: the expected case and the one set (protoc-gen-es local names), or
 * undefined when it has it or the edge is not a branch. The receiver refuses
 * such a message (checkValues) and the sender refuses to send it
 * (api/local-session.ts): both ask this.
 */
export function caseMismatch(edge: EdgeDescriptor, schema: DescMessage, message: Message): { readonly oneof: string; readonly expected: string; readonly actual: string | undefined } | undefined {
  if (edge.case === null) return undefined;
  const oneof = schema.oneofs.find((o) => o.name === edge.case!.oneof);
  const field = schema.fields.find((f) => f.number === edge.case!.field.number);
  const actual = oneof === undefined ? undefined : (message as unknown as Record<string, { case?: string } | undefined>)[oneof.localName]?.case;
  if (field !== undefined && actual === field.localName) return undefined;
  return { oneof: oneof?.localName ?? edge.case.oneof, expected: field?.localName ?? edge.case.field.name, actual };
}

/** The value of field `number` of `m` (undefined when it is a oneof member that is not set). */
function fieldValue(m: Message, s: DescMessage, number: number): unknown {
  const f = s.fields.find((x) => x.number === number);
  if (f === undefined) return undefined;
  if (f.oneof !== undefined) {
    const o = (m as unknown as Record<string, { case?: string; value?: unknown }>)[f.oneof.localName];
    return o?.case === f.localName ? o.value : undefined;
  }
  return (m as unknown as Record<string, unknown>)[f.localName];
}

function sameValue(a: unknown, b: unknown, messageSchema: DescMessage | undefined): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((x, i) => x === b[i]);
  if (messageSchema !== undefined && isMessage(a) && isMessage(b)) return equals(messageSchema, a, b);
  return a === b;
}

function isMessage(x: unknown): x is Message {
  return typeof x === "object" && x !== null && "$typeName" in x;
}
