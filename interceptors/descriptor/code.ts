/**
 * The session code: SHA-256 over the canonical JSON of a descriptor without
 * its `code` and `file` fields. The code names the protocol by its
 * fully-qualified names alone (package, services, rpcs, message types), so the
 * same session compiled from different source layouts — the file under
 * another import root or directory — has the same code. Canonical JSON: object keys sorted by UTF-16 code units,
 * no whitespace, numbers and strings as JSON.stringify writes them.
 */
import { createHash } from "node:crypto";
import type { SessionDescriptor } from "./types.js";

/** Serialises a JSON value with sorted keys and no whitespace. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** Computes the session code of a descriptor (its `code` and `file` fields are ignored). */
export function sessionCode(d: Omit<SessionDescriptor, "code"> | SessionDescriptor): string {
  const { code: _code, file: _file, ...rest } = d as SessionDescriptor;
  return createHash("sha256").update(canonicalJson(rest)).digest("hex");
}

/** True when the descriptor's `code` matches its content. */
export function verifySessionCode(d: SessionDescriptor): boolean {
  return sessionCode(d) === d.code;
}
