/**
 * The evidence log record format (docs/evidence.md): one JSON object per
 * line, hash-chained. Bytes are lowercase hex, bigints decimal strings, so
 * that a record is plain JSON any tool can read and a line's bytes are fixed
 * once written.
 *
 *   {"seq":1,"prev":"00…00","direction":"sent","sessionCode":"…","sessionId":"…","role":"pc",
 *    "start":{"nonce":"…","code":"…","timeMs":"1700000000000","bindings":[{"role":"pc","principal":"committee"}]},
 *    "items":[{"edge":0,"step":"1","payloadHash":"…","bindings":[]}],
 *    "signatures":[{"role":"pc","step":"1","tag":"…"}],
 *    "payload":"…"}
 */
import { createHash } from "node:crypto";
import type { EvidenceEntry } from "../runtime/evidence.js";
import { hex as hexOf, type RoleBinding } from "../wire/encoding.js";

/** `prev` of the first record: 64 zeros. */
export const GENESIS_PREV = "0".repeat(64);

/** Largest value of a u64 field (steps, times). */
const U64_MAX = (1n << 64n) - 1n;

/** One record of an evidence log, decoded. */
export interface EvidenceRecord {
  /** 1 for the first record (0 in logs numbered from 0), one more for each record. */
  readonly seq: number;
  /** Hex SHA-256 of the previous record's line bytes (without its newline); 64 zeros for the first. */
  readonly prev: string;
  readonly entry: EvidenceEntry;
}

/** Hex SHA-256 of a record's line (UTF-8 bytes, no trailing newline). */
export function lineHash(line: Uint8Array | string): string {
  return createHash("sha256").update(line).digest("hex");
}

/** The line (without newline) of a record: its fields in a fixed order. */
export function encodeRecord(seq: number, prev: string, e: EvidenceEntry): string {
  return JSON.stringify({
    seq,
    prev,
    direction: e.direction,
    sessionCode: e.sessionCode,
    sessionId: hexOf(e.sessionId),
    role: e.role,
    start: { nonce: hexOf(e.start.nonce), code: hexOf(e.start.code), timeMs: e.start.timeMs.toString(), bindings: e.start.bindings.map(binding) },
    items: e.items.map((x) => ({ edge: x.edge, step: x.step.toString(), payloadHash: hexOf(x.payloadHash), bindings: x.bindings.map(binding) })),
    signatures: e.signatures.map((s) => ({ role: s.role, step: s.step.toString(), tag: hexOf(s.tag) })),
    payload: hexOf(e.payload),
  });
}

function binding(b: RoleBinding): { role: string; principal: string } {
  return { role: b.role, principal: b.principal };
}

/** A record that does not have the format; `message` says which field is wrong. */
export class RecordFormatError extends Error {}

/**
 * Decodes one line (already parsed as JSON). Strict: every field must be
 * present with its type, and no other field may be.
 */
export function decodeRecord(value: unknown): EvidenceRecord {
  const r = object(value, "the record", ["seq", "prev", "direction", "sessionCode", "sessionId", "role", "start", "items", "signatures", "payload"]);
  const seq = r["seq"];
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) throw new RecordFormatError("seq must be a non-negative integer");
  const prev = hexField(r["prev"], "prev", 32);
  const direction = r["direction"];
  if (direction !== "sent" && direction !== "received") throw new RecordFormatError(`direction must be "sent" or "received"`);
  const sessionCode = hexField(r["sessionCode"], "sessionCode", 32);
  const sessionId = bytes(r["sessionId"], "sessionId", 32);
  const role = nonEmptyString(r["role"], "role");
  const s = object(r["start"], "start", ["nonce", "code", "timeMs", "bindings"]);
  const start = {
    nonce: bytes(s["nonce"], "start.nonce"),
    code: bytes(s["code"], "start.code", 32),
    timeMs: u64(s["timeMs"], "start.timeMs"),
    bindings: bindings(s["bindings"], "start.bindings"),
  };
  const itemsValue = r["items"];
  if (!Array.isArray(itemsValue) || itemsValue.length === 0) throw new RecordFormatError("items must be a non-empty array");
  const items = itemsValue.map((v, i) => {
    const where = `items[${i}]`;
    const x = object(v, where, ["edge", "step", "payloadHash", "bindings"]);
    const edge = x["edge"];
    if (typeof edge !== "number" || !Number.isInteger(edge) || edge < 0 || edge > 0xffffffff) throw new RecordFormatError(`${where}.edge must be an integer from 0 to 2^32-1`);
    return { edge, step: u64(x["step"], `${where}.step`), payloadHash: bytes(x["payloadHash"], `${where}.payloadHash`, 32), bindings: bindings(x["bindings"], `${where}.bindings`) };
  });
  const sigValue = r["signatures"];
  if (!Array.isArray(sigValue)) throw new RecordFormatError("signatures must be an array");
  const signatures = sigValue.map((v, i) => {
    const where = `signatures[${i}]`;
    const x = object(v, where, ["role", "step", "tag"]);
    return { role: nonEmptyString(x["role"], `${where}.role`), step: u64(x["step"], `${where}.step`), tag: bytes(x["tag"], `${where}.tag`) };
  });
  const payload = bytes(r["payload"], "payload");
  return { seq, prev, entry: { direction, sessionCode, sessionId, role, start, items, signatures, payload } };
}

function object(v: unknown, where: string, fields: readonly string[]): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new RecordFormatError(`${where} must be a JSON object`);
  const o = v as Record<string, unknown>;
  for (const f of fields) if (!(f in o)) throw new RecordFormatError(`${where} has no field "${f}"`);
  for (const k of Object.keys(o)) if (!fields.includes(k)) throw new RecordFormatError(`${where} has an unexpected field ${JSON.stringify(k)}`);
  return o;
}

function nonEmptyString(v: unknown, where: string): string {
  if (typeof v !== "string" || v === "") throw new RecordFormatError(`${where} must be a non-empty string`);
  return v;
}

function hexField(v: unknown, where: string, length?: number): string {
  if (typeof v !== "string" || !/^(?:[0-9a-f]{2})*$/.test(v)) throw new RecordFormatError(`${where} must be lowercase hex with an even number of digits`);
  if (length !== undefined && v.length !== length * 2) throw new RecordFormatError(`${where} must be ${length} bytes (${length * 2} hex digits), got ${v.length} digits`);
  return v;
}

function bytes(v: unknown, where: string, length?: number): Uint8Array {
  return new Uint8Array(Buffer.from(hexField(v, where, length), "hex"));
}

function u64(v: unknown, where: string): bigint {
  if (typeof v !== "string" || !/^(?:0|[1-9][0-9]*)$/.test(v) || BigInt(v) > U64_MAX) throw new RecordFormatError(`${where} must be a decimal string of an integer from 0 to 2^64-1`);
  return BigInt(v);
}

function bindings(v: unknown, where: string): RoleBinding[] {
  if (!Array.isArray(v)) throw new RecordFormatError(`${where} must be an array`);
  return v.map((b, i) => {
    const x = object(b, `${where}[${i}]`, ["role", "principal"]);
    const role = x["role"];
    const principal = x["principal"];
    if (typeof role !== "string" || typeof principal !== "string") throw new RecordFormatError(`${where}[${i}] must have string role and principal`);
    return { role, principal };
  });
}
