/**
 * Canonical byte encodings that MACs, signatures and hashes cover
 * (docs/protocol.md, "Byte encodings"). Protobuf encoding is not canonical,
 * so nothing authenticated is ever a re-encoding of a protobuf message.
 */

const utf8 = new TextEncoder();

import { concatBytes } from "../keys/crypto/bytes.js";

/** Concatenates byte arrays (one helper for the whole library). */
export const concat = concatBytes;

/** 32-bit unsigned big-endian. */
export function u32(n: number): Uint8Array {
  const v = n >>> 0;
  return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

/** 64-bit unsigned big-endian. */
export function u64(n: bigint): Uint8Array {
  const v = BigInt.asUintN(64, n);
  const hi = Number(v >> 32n);
  const lo = Number(v & 0xffffffffn);
  return Uint8Array.of(hi >>> 24, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff);
}

/** A length-prefixed (u32) byte string. */
export function lp(bytes: Uint8Array): Uint8Array {
  return concat(u32(bytes.length), bytes);
}

/** A length-prefixed UTF-8 string. */
export function lps(s: string): Uint8Array {
  const hit = names.get(s);
  if (hit !== undefined) return hit.slice();
  const l = lp(utf8.encode(s));
  if (names.size < 1024 && s.length <= 256) names.set(s, l.slice());
  return l;
}

/**
 * The lps of `s` without a copy: the cached bytes themselves when `s` is a
 * cached name. For code that only reads them (copies them into a buffer of
 * its own) at once; never hand the result on.
 */
export function lpsView(s: string): Uint8Array {
  return names.get(s) ?? lps(s);
}

/** Encoded role and principal names: a session's few names are encoded once (each call still returns a copy). */
const names = new Map<string, Uint8Array>();

const labels = new Map<string, Uint8Array>();

/**
 * Domain-separation label: `secsession/v1 <name>` as a length-prefixed string.
 * Labels are a small fixed set, encoded once; each call returns a copy, so a
 * caller that writes into it cannot change the next one.
 */
export function label(name: string): Uint8Array {
  let l = labels.get(name);
  if (l === undefined) {
    l = lps(`secsession/v1 ${name}`);
    if (labels.size < 256) labels.set(name, l);
  }
  return l.slice();
}

/** A role bound to a principal. */
export interface RoleBinding {
  readonly role: string;
  readonly principal: string;
}

/** Bindings sorted by role, as u32 count then (lp role, lp principal) pairs. */
export function bindingsBytes(bs: readonly RoleBinding[]): Uint8Array {
  if (bs.length === 0) return new Uint8Array(4);
  const sorted = [...bs].sort((a, b) => (a.role < b.role ? -1 : a.role > b.role ? 1 : 0));
  return concat(u32(sorted.length), ...sorted.flatMap((b) => [lps(b.role), lps(b.principal)]));
}

const HEX_DIGITS = Array.from("0123456789abcdef", (c) => c.charCodeAt(0));
/** Char codes of the hex of 32 bytes (a session id, a hash) being built: reused, not allocated per call. */
const hexCodes32: number[] = new Array<number>(64).fill(0);

/**
 * Hex of bytes (for map keys and logs of public values only). Short inputs
 * (session ids, hashes) are read byte by byte, never through `b.buffer`:
 * asking a small Uint8Array for its ArrayBuffer moves its bytes off V8's heap
 * for good, into a backing store of their own that costs several times their
 * size, and a session keeps its id for as long as it lives.
 */
export function hex(b: Uint8Array): string {
  const n = b.length;
  if (n > 64) return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
  const codes = n === 32 ? hexCodes32 : new Array<number>(2 * n).fill(0);
  for (let i = 0; i < n; i++) {
    const x = b[i]!;
    codes[2 * i] = HEX_DIGITS[x >>> 4]!;
    codes[2 * i + 1] = HEX_DIGITS[x & 15]!;
  }
  return String.fromCharCode.apply(null, codes);
}

/** Bytes of a hex string. */
export function unhex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "hex"));
}
