/**
 * A canonical, versioned binary encoding of a role's SessionState
 * (docs/save-restore.md, "State encoding"). Every field round-trips exactly:
 * bigints, byte strings, the pair channels with their key buffers (`mine`
 * ratchet key pairs included), carried attestations and key updates, history.
 *
 * Canonical: records are written sorted by key, optional values and booleans
 * have exactly one encoding, and nothing may follow the last field, so
 * `encodeState(decodeState(b))` equals `b` for every `b` of the current format
 * decode accepts. Formats 1 and 2 were written under the earlier key
 * schedule (docs/keys.md, design note 30): their pair channels cannot go on
 * under this one, so they are refused, saying so.
 *
 * Decoding is defensive (the input may be anything): every length and count
 * is checked against the bytes that remain before anything is allocated, every
 * fixed-size field (ids, hashes, keys) has its exact size, strings must be
 * valid UTF-8, and any problem throws a StateCodecError naming the field. The
 * result shares no buffer with the input; on failure, the buffers decoded so
 * far are zeroed (they may hold keys).
 */
import type { DirectionKeys, PairState } from "../keys/pair-channel.js";
import type { KeyPair } from "../keys/crypto/index.js";
import { record, type CarriedAttestation, type CarriedKeyUpdate, type HistoryItem, type SessionStartInfo, type SessionState } from "../monitor/state.js";
import type { RoleBinding } from "../wire/encoding.js";
import { hex } from "../wire/encoding.js";

/** The version of the state encoding this build writes and reads (3: the key schedule of design note 30; the layout of 2). */
export const STATE_FORMAT_VERSION: 3 = 3;

/**
 * Formats 1 and 2 hold pair channels of the earlier key schedule: keys and
 * update tags derived by other formulas, which a peer of this build would
 * not reproduce (its MACs and key updates would be refused as forgeries).
 */
const EARLIER_SCHEDULE = new Set([1, 2]);

/** Upper bound on an encoded state, in bytes (both directions). */
export const MAX_STATE_BYTES = 64 * 1024 * 1024;

/** `SSST`: the first four bytes of every encoded state. */
const MAGIC = Uint8Array.of(0x53, 0x53, 0x53, 0x54);

const ID = 32; // session id, start nonce, session code, transcript and payload hashes
const KEY = 32; // roots, X25519 keys, MAC and encryption keys
const U32_MAX = 0xffff_ffff;
const U64_MAX = (1n << 64n) - 1n;

/** A state that cannot be encoded, or bytes that are not a valid encoded state. */
export class StateCodecError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`secsession: session state encoding: ${message}`, options);
    this.name = "StateCodecError";
  }
}

// ---- field lists: tsc fails here if an interface gains or loses a field ----

type Exactly<T, K extends readonly PropertyKey[]> = [Exclude<keyof T, K[number]>, Exclude<K[number], keyof T>] extends [never, never] ? true : false;

const STATE_FIELDS = ["sessionId", "key", "role", "start", "principals", "state", "step", "h", "history", "lastActed", "carried", "carriedUpdates", "pairs", "values", "version"] as const;
const exhaustive: [
  Exactly<SessionState, typeof STATE_FIELDS>,
  Exactly<SessionStartInfo, ["nonce", "code", "timeMs", "bindings"]>,
  Exactly<RoleBinding, ["role", "principal"]>,
  Exactly<HistoryItem, ["edge", "step", "payloadHash", "bindings", "h"]>,
  Exactly<CarriedAttestation, ["role", "target", "step", "tag", "keyVersion"]>,
  Exactly<CarriedKeyUpdate, ["from", "to", "version", "step", "body", "tag"]>,
  Exactly<CarriedKeyUpdate["body"], ["case", "value"]>,
  Exactly<PairState, ["version", "root", "mine", "theirs", "send", "recv", "mustRatchet", "sent", "dhAtMs"]>,
  Exactly<DirectionKeys, ["version", "mac", "enc"]>,
  Exactly<KeyPair, ["publicKey", "privateKey"]>,
] = [true, true, true, true, true, true, true, true, true, true];
void exhaustive;

// ---- encoding ----

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Collects the parts of the output; byte fields are referenced, not copied, until the single final copy. */
class Writer {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): void {
    this.size += b.length;
    if (this.size > MAX_STATE_BYTES) throw new StateCodecError(`the state exceeds ${MAX_STATE_BYTES} bytes`);
    this.parts.push(b);
  }

  raw(b: Uint8Array): void {
    this.push(b);
  }

  u8(n: number): void {
    this.push(Uint8Array.of(n));
  }

  u32(what: string, n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > U32_MAX) throw new StateCodecError(`${what}: ${String(n)} is not an unsigned 32-bit integer`);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n, false);
    this.push(b);
  }

  u64(what: string, n: bigint): void {
    if (typeof n !== "bigint" || n < 0n || n > U64_MAX) throw new StateCodecError(`${what}: ${String(n)} is not an unsigned 64-bit integer`);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, n, false);
    this.push(b);
  }

  /** A non-negative safe integer (the state's version). */
  safe(what: string, n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new StateCodecError(`${what}: ${String(n)} is not a non-negative safe integer`);
    this.u64(what, BigInt(n));
  }

  /** Exactly `length` bytes, no prefix. */
  fixed(what: string, b: Uint8Array, length: number): void {
    if (!(b instanceof Uint8Array)) throw new StateCodecError(`${what}: expected a Uint8Array`);
    if (b.length !== length) throw new StateCodecError(`${what}: expected ${length} bytes, got ${b.length}`);
    this.push(b);
  }

  /** u32 length, then the bytes. */
  bytes(what: string, b: Uint8Array): void {
    if (!(b instanceof Uint8Array)) throw new StateCodecError(`${what}: expected a Uint8Array`);
    this.u32(what, b.length);
    this.push(b);
  }

  str(what: string, s: string): void {
    if (typeof s !== "string") throw new StateCodecError(`${what}: expected a string`);
    const b = utf8.encode(s);
    // Lone surrogates do not survive UTF-8: refuse rather than change the value.
    if (strictUtf8.decode(b) !== s) throw new StateCodecError(`${what}: ${JSON.stringify(s)} is not well-formed Unicode`);
    this.bytes(what, b);
  }

  bool(what: string, v: boolean): void {
    if (typeof v !== "boolean") throw new StateCodecError(`${what}: expected a boolean`);
    this.u8(v ? 1 : 0);
  }

  /** A record, sorted by key (UTF-16 code units, as everywhere in this library). */
  record<V>(what: string, r: Readonly<Record<string, V>>, value: (what: string, v: V) => void): void {
    if (r === null || typeof r !== "object") throw new StateCodecError(`${what}: expected an object`);
    const keys = Object.keys(r).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.u32(what, keys.length);
    for (const k of keys) {
      this.str(`${what} key`, k);
      value(`${what}[${JSON.stringify(k)}]`, r[k]!);
    }
  }

  list<V>(what: string, xs: readonly V[], value: (what: string, v: V) => void): void {
    if (!Array.isArray(xs)) throw new StateCodecError(`${what}: expected an array`);
    this.u32(what, xs.length);
    xs.forEach((x, i) => value(`${what}[${i}]`, x));
  }

  optional<V>(what: string, v: V | undefined, value: (what: string, v: V) => void): void {
    if (v === undefined) return this.u8(0);
    this.u8(1);
    value(what, v);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let off = 0;
    for (const p of this.parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }
}

function writeBindings(w: Writer, what: string, bs: readonly RoleBinding[]): void {
  w.list(what, bs, (at, b) => {
    w.str(`${at}.role`, b.role);
    w.str(`${at}.principal`, b.principal);
  });
}

function writeDirection(w: Writer, what: string, d: DirectionKeys): void {
  w.u32(`${what}.version`, d.version);
  w.fixed(`${what}.mac`, d.mac, KEY);
  w.fixed(`${what}.enc`, d.enc, KEY);
}

function writePair(w: Writer, what: string, p: PairState): void {
  w.u32(`${what}.version`, p.version);
  w.fixed(`${what}.root`, p.root, KEY);
  w.optional(`${what}.mine`, p.mine, (at, m) => {
    w.fixed(`${at}.publicKey`, m.publicKey, KEY);
    w.fixed(`${at}.privateKey`, m.privateKey, KEY);
  });
  w.optional(`${what}.theirs`, p.theirs, (at, t) => w.fixed(at, t, KEY));
  w.optional(`${what}.send`, p.send, (at, d) => writeDirection(w, at, d));
  w.optional(`${what}.recv`, p.recv, (at, d) => writeDirection(w, at, d));
  w.bool(`${what}.mustRatchet`, p.mustRatchet);
  w.u32(`${what}.sent`, p.sent);
  w.safe(`${what}.dhAtMs`, p.dhAtMs);
}

/** Carried key update bodies, by their byte in the encoding. */
const UPDATE_CASES: readonly (string | undefined)[] = ["noise", "ratchet", "symmetric"];

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/**
 * Encodes a role's session state. Throws StateCodecError for a state that
 * does not have the shape of SessionState (an unknown field included: the
 * codec would otherwise drop it silently) or exceeds MAX_STATE_BYTES.
 */
export function encodeState(st: SessionState): Uint8Array {
  if (st === null || typeof st !== "object") throw new StateCodecError("expected a SessionState object");
  const known: ReadonlySet<string> = new Set(STATE_FIELDS);
  for (const k of Object.keys(st)) if (!known.has(k)) throw new StateCodecError(`unknown field ${JSON.stringify(k)}: the state codec must be extended before such states can be exported`);
  const w = new Writer();
  w.raw(MAGIC);
  w.u8(STATE_FORMAT_VERSION);
  w.fixed("sessionId", st.sessionId, ID);
  if (st.key !== hex(st.sessionId)) throw new StateCodecError("key: must be the hex of sessionId");
  w.str("role", st.role);
  const s = st.start;
  if (s === null || typeof s !== "object") throw new StateCodecError("start: expected an object");
  w.fixed("start.nonce", s.nonce, ID);
  w.fixed("start.code", s.code, ID);
  w.u64("start.timeMs", s.timeMs);
  writeBindings(w, "start.bindings", s.bindings);
  w.record("principals", st.principals, (at, p) => w.str(at, p));
  w.u32("state", st.state);
  w.u64("step", st.step);
  w.fixed("h", st.h, ID);
  w.list("history", st.history, (at, x) => {
    w.u32(`${at}.edge`, x.edge);
    w.u64(`${at}.step`, x.step);
    w.fixed(`${at}.payloadHash`, x.payloadHash, ID);
    writeBindings(w, `${at}.bindings`, x.bindings);
    w.fixed(`${at}.h`, x.h, ID);
  });
  w.record("lastActed", st.lastActed, (at, v) => {
    if (typeof v !== "string" || !DECIMAL.test(v)) throw new StateCodecError(`${at}: ${JSON.stringify(v)} is not a canonical decimal step`);
    w.u64(at, BigInt(v));
  });
  w.record("carried", st.carried, (at, a) => {
    w.str(`${at}.role`, a.role);
    w.str(`${at}.target`, a.target);
    w.u64(`${at}.step`, a.step);
    w.bytes(`${at}.tag`, a.tag);
    w.u32(`${at}.keyVersion`, a.keyVersion);
  });
  w.record("carriedUpdates", st.carriedUpdates, (at, u) => {
    w.str(`${at}.from`, u.from);
    w.str(`${at}.to`, u.to);
    w.u32(`${at}.version`, u.version);
    w.u64(`${at}.step`, u.step);
    const c = UPDATE_CASES.indexOf(u.body?.case);
    if (c < 0) throw new StateCodecError(`${at}.body.case: expected "noise", "ratchet" or "symmetric"`);
    w.u8(c);
    w.bytes(`${at}.body.value`, u.body.value);
    w.bytes(`${at}.tag`, u.tag);
  });
  w.record("pairs", st.pairs, (at, p) => writePair(w, at, p));
  w.record("values", st.values, (at, v) => w.bytes(at, v));
  w.safe("version", st.version);
  return w.finish();
}

// ---- decoding ----

class Reader {
  private off = 0;
  /** Every buffer handed out (zeroed if decoding fails: some are keys). */
  readonly taken: Uint8Array[] = [];

  constructor(private readonly b: Uint8Array) {}

  get remaining(): number {
    return this.b.length - this.off;
  }

  get offset(): number {
    return this.off;
  }

  private need(what: string, n: number): void {
    if (n > this.remaining) throw new StateCodecError(`${what}: needs ${n} bytes at offset ${this.off}, ${this.remaining} left`);
  }

  private view(n: number): DataView {
    return new DataView(this.b.buffer, this.b.byteOffset + this.off, n);
  }

  u8(what: string): number {
    this.need(what, 1);
    return this.b[this.off++]!;
  }

  u32(what: string): number {
    this.need(what, 4);
    const v = this.view(4).getUint32(0, false);
    this.off += 4;
    return v;
  }

  u64(what: string): bigint {
    this.need(what, 8);
    const v = this.view(8).getBigUint64(0, false);
    this.off += 8;
    return v;
  }

  safe(what: string): number {
    const v = this.u64(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new StateCodecError(`${what}: ${v} exceeds the largest safe integer`);
    return Number(v);
  }

  /** A fresh copy of the next `n` bytes (never a Buffer, never a view of the input). */
  fixed(what: string, n: number): Uint8Array {
    this.need(what, n);
    const out = new Uint8Array(n);
    out.set(this.b.subarray(this.off, this.off + n));
    this.off += n;
    this.taken.push(out);
    return out;
  }

  bytes(what: string): Uint8Array {
    const n = this.u32(what);
    return this.fixed(what, n);
  }

  str(what: string): string {
    const n = this.u32(what);
    this.need(what, n);
    let s: string;
    try {
      s = strictUtf8.decode(this.b.subarray(this.off, this.off + n));
    } catch (e: unknown) {
      throw new StateCodecError(`${what}: not valid UTF-8`, { cause: e });
    }
    this.off += n;
    return s;
  }

  bool(what: string): boolean {
    const v = this.u8(what);
    if (v > 1) throw new StateCodecError(`${what}: expected 0 or 1, got ${v}`);
    return v === 1;
  }

  /** A count of items each at least `min` bytes long: refused before any work if the bytes cannot hold them. */
  count(what: string, min: number): number {
    const n = this.u32(what);
    if (n * min > this.remaining) throw new StateCodecError(`${what}: ${n} entries cannot fit in the ${this.remaining} bytes left`);
    return n;
  }

  list<V>(what: string, min: number, value: (what: string) => V): V[] {
    const n = this.count(what, min);
    const out: V[] = [];
    for (let i = 0; i < n; i++) out.push(value(`${what}[${i}]`));
    return out;
  }

  record<V>(what: string, min: number, value: (what: string) => V): Record<string, V> {
    const n = this.count(what, 4 + min);
    const entries: Array<[string, V]> = [];
    let prev: string | undefined;
    for (let i = 0; i < n; i++) {
      const k = this.str(`${what} key ${i}`);
      if (prev !== undefined && !(prev < k)) throw new StateCodecError(`${what}: keys must be unique and sorted (${JSON.stringify(k)} after ${JSON.stringify(prev)})`);
      prev = k;
      entries.push([k, value(`${what}[${JSON.stringify(k)}]`)]);
    }
    // fromEntries defines own properties (a key such as "__proto__" stays data), copied into a record without a prototype.
    return record(Object.fromEntries(entries));
  }

  optional<V>(what: string, value: (what: string) => V): V | undefined {
    const tag = this.u8(what);
    if (tag === 0) return undefined;
    if (tag !== 1) throw new StateCodecError(`${what}: expected presence byte 0 or 1, got ${tag}`);
    return value(what);
  }
}

function readBindings(r: Reader, what: string): RoleBinding[] {
  return r.list(what, 8, (at) => ({ role: r.str(`${at}.role`), principal: r.str(`${at}.principal`) }));
}

function readDirection(r: Reader, what: string): DirectionKeys {
  return { version: r.u32(`${what}.version`), mac: r.fixed(`${what}.mac`, KEY), enc: r.fixed(`${what}.enc`, KEY) };
}

function readPair(r: Reader, what: string): PairState {
  return {
    version: r.u32(`${what}.version`),
    root: r.fixed(`${what}.root`, KEY),
    mine: r.optional(`${what}.mine`, (at) => ({ publicKey: r.fixed(`${at}.publicKey`, KEY), privateKey: r.fixed(`${at}.privateKey`, KEY) })),
    theirs: r.optional(`${what}.theirs`, (at) => r.fixed(at, KEY)),
    send: r.optional(`${what}.send`, (at) => readDirection(r, at)),
    recv: r.optional(`${what}.recv`, (at) => readDirection(r, at)),
    mustRatchet: r.bool(`${what}.mustRatchet`),
    sent: r.u32(`${what}.sent`),
    dhAtMs: r.safe(`${what}.dhAtMs`),
  };
}

function readState(r: Reader): SessionState {
  const magic = r.fixed("magic", MAGIC.length);
  if (!magic.every((b, i) => b === MAGIC[i])) throw new StateCodecError("not an encoded session state (bad magic)");
  const version = r.u8("format version");
  if (EARLIER_SCHEDULE.has(version)) {
    throw new StateCodecError(
      `format version ${version} was written under the earlier key schedule (envelope version 2): its pair channels cannot continue under this build's (state format ${STATE_FORMAT_VERSION}, envelope version 3); finish the session with the build that saved it`,
    );
  }
  if (version !== STATE_FORMAT_VERSION) throw new StateCodecError(`unsupported format version ${version} (this build reads ${STATE_FORMAT_VERSION})`);
  const sessionId = r.fixed("sessionId", ID);
  const role = r.str("role");
  const start: SessionStartInfo = {
    nonce: r.fixed("start.nonce", ID),
    code: r.fixed("start.code", ID),
    timeMs: r.u64("start.timeMs"),
    bindings: readBindings(r, "start.bindings"),
  };
  const principals = r.record("principals", 4, (at) => r.str(at));
  const state = r.u32("state");
  const step = r.u64("step");
  const h = r.fixed("h", ID);
  const history = r.list("history", 4 + 8 + ID + 4 + ID, (at): HistoryItem => ({
    edge: r.u32(`${at}.edge`),
    step: r.u64(`${at}.step`),
    payloadHash: r.fixed(`${at}.payloadHash`, ID),
    bindings: readBindings(r, `${at}.bindings`),
    h: r.fixed(`${at}.h`, ID),
  }));
  const lastActed = r.record("lastActed", 8, (at) => r.u64(at).toString());
  const carried = r.record("carried", 4 + 4 + 8 + 4 + 4, (at): CarriedAttestation => ({
    role: r.str(`${at}.role`),
    target: r.str(`${at}.target`),
    step: r.u64(`${at}.step`),
    tag: r.bytes(`${at}.tag`),
    keyVersion: r.u32(`${at}.keyVersion`),
  }));
  const carriedUpdates = r.record("carriedUpdates", 4 + 4 + 4 + 8 + 1 + 4 + 4, (at): CarriedKeyUpdate => {
    const from = r.str(`${at}.from`);
    const to = r.str(`${at}.to`);
    const version = r.u32(`${at}.version`);
    const step = r.u64(`${at}.step`);
    const c = r.u8(`${at}.body.case`);
    if (c > 2) throw new StateCodecError(`${at}.body.case: expected 0 (noise), 1 (ratchet) or 2 (symmetric), got ${c}`);
    const body = { case: (["noise", "ratchet", "symmetric"] as const)[c]!, value: r.bytes(`${at}.body.value`) };
    return { from, to, version, step, body, tag: r.bytes(`${at}.tag`) };
  });
  const pairs = r.record("pairs", 4 + KEY + 5 + 4 + 8, (at) => readPair(r, at));
  const values = r.record("values", 4, (at) => r.bytes(at));
  const v = r.safe("version");
  if (r.remaining !== 0) throw new StateCodecError(`${r.remaining} unexpected bytes after the state at offset ${r.offset}`);
  return { sessionId, key: hex(sessionId), role, start, principals, state, step, h, history, lastActed, carried, carriedUpdates, pairs, values, version: v };
}

/**
 * Decodes bytes written by encodeState. Throws StateCodecError (and nothing
 * else) for anything that is not exactly such an encoding.
 */
export function decodeState(bytes: Uint8Array): SessionState {
  if (!(bytes instanceof Uint8Array)) throw new StateCodecError("expected a Uint8Array");
  if (bytes.length > MAX_STATE_BYTES) throw new StateCodecError(`${bytes.length} bytes exceed the limit of ${MAX_STATE_BYTES}`);
  const r = new Reader(bytes);
  try {
    return readState(r);
  } catch (e: unknown) {
    for (const b of r.taken) b.fill(0);
    if (e instanceof StateCodecError) throw e;
    throw new StateCodecError("the state does not decode", { cause: e });
  }
}

/** Every key buffer of a state's pair channels (to zero them, or register them in the key vault). */
export function pairKeyBuffers(p: PairState): Uint8Array[] {
  return [p.root, ...(p.mine ? [p.mine.privateKey] : []), ...(p.send ? [p.send.mac, p.send.enc] : []), ...(p.recv ? [p.recv.mac, p.recv.enc] : [])];
}
