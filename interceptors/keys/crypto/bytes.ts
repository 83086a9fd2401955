/**
 * Byte helpers shared by the crypto backends and the Noise state objects:
 * entry-point assertions with precise messages, constant-time comparison and
 * zeroization (the habits of noble's `abytes` / `equalBytes` / `clean`).
 */

/**
 * Asserts that `value` is a Uint8Array, and when `length` is given, that it
 * has exactly that many bytes.
 *
 * @example
 * assertBytes("privateKey", key, 32); // "secsession: privateKey: expected 32 bytes, got 31"
 */
export function assertBytes(name: string, value: unknown, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`secsession: ${name}: expected Uint8Array, got ${describe(value)}`);
  }
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`secsession: ${name}: expected ${length} bytes, got ${value.length}`);
  }
}

/**
 * Compares two byte strings in time that depends only on their lengths, never
 * on their contents (use it for tags, MACs and hashes). Different lengths
 * compare unequal.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  assertBytes("a", a);
  assertBytes("b", b);
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/**
 * Overwrites each buffer with zeros; `undefined` entries are skipped so that
 * optional keys can be passed directly.
 */
export function zeroize(...bufs: ReadonlyArray<Uint8Array | undefined>): void {
  for (const b of bufs) {
    if (b === undefined) continue;
    b.fill(0);
    for (const f of zeroizeListeners) f(b);
  }
}

const zeroizeListeners: Array<(b: Uint8Array) => void> = [];

/** Registers `f` to be told of every buffer `zeroize` clears, so that whatever was derived from it is dropped too. */
export function onZeroize(f: (b: Uint8Array) => void): void {
  zeroizeListeners.push(f);
}

/** Concatenates byte strings into a fresh buffer. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** True when every byte is zero (constant time in the length). */
export function isAllZero(a: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < a.length; i++) acc |= a[i] as number;
  return acc === 0;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return (value as object).constructor?.name ?? "object";
}
