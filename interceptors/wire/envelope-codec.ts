/**
 * The envelope's wire codec (docs/protocol.md, "Envelope fields" and "The
 * envelope MAC"). Encoding is protobuf (`proto/secsession/v1/envelope.proto`)
 * with the envelope MAC appended as the very last field, so that it covers
 * every byte before it. Decoding is done once per message, by hand over protobuf-es's
 * BinaryReader rather than `fromBinary`: a hostile envelope of a few MiB must
 * cost little to refuse, so nothing is allocated for fields nobody reads
 * (unknown fields are skipped, not kept), counts are bounded while reading,
 * and strings must be valid UTF-8.
 *
 * The decoder is stricter than protobuf, never laxer: what it accepts,
 * `fromBinary(EnvelopeSchema, …)` decodes to the same values
 * (test/fuzz/envelope-codec.test.ts). It refuses, where protobuf would merge
 * or substitute or read on: a second `start`, a second `body` in a key
 * update, invalid UTF-8, wire types that do not match the schema, a field
 * that overruns its sub-message, a varint over 10 bytes, and anything after
 * the MAC.
 */
import { writeEnvelope, type EnvelopeFields } from "./envelope-writer.js";
import type { RoleBinding } from "./encoding.js";

/** The wire format version this build writes and reads (3: the key schedule of design note 30). */
export const ENVELOPE_VERSION = 3;

/** Field number of the envelope MAC; it must be the last field of an encoding. */
export const MAC_FIELD = 15;

/** Upper bounds applied while decoding (the monitor applies the session's own, tighter ones). */
export const DECODE_LIMITS = {
  history: 100_000,
  attestations: 10_000,
  keyUpdates: 1_000,
  bindings: 256,
} as const;

/** One history entry as decoded. */
export interface WireHistoryEntry {
  readonly edge: number;
  readonly step: bigint;
  readonly payloadHash: Uint8Array;
  readonly bindings: readonly RoleBinding[];
}

/** One attestation as decoded. */
export interface WireAttestation {
  readonly role: string;
  readonly target: string;
  readonly step: bigint;
  readonly tag: Uint8Array;
  readonly keyVersion: number;
}

/** One key update as decoded. */
export interface WireKeyUpdate {
  readonly from: string;
  readonly to: string;
  readonly version: number;
  readonly step: bigint;
  readonly body: { readonly case: "noise" | "ratchet" | "symmetric"; readonly value: Uint8Array } | { readonly case: undefined; readonly value?: undefined };
  readonly tag: Uint8Array;
}

/** A session start as decoded. */
export interface WireStart {
  readonly nonce: Uint8Array;
  readonly sessionCode: Uint8Array;
  readonly timeMs: bigint;
  readonly bindings: readonly RoleBinding[];
}

/**
 * A decoded envelope. Byte fields are views into the decoded buffer (copy
 * what outlives the message); `body` is every byte before the MAC field
 * (the whole encoding when there is no MAC).
 *
 * `history` and `attestations`, the parts whose size the sender chooses, are
 * stepped over and counted by the decoding pass (`historyLength`,
 * `attestationCount`; it keeps where each run of them lies, nothing per
 * item), and read only when first used: a receiver refuses a forged envelope
 * on its MAC before it reads them. Reading them may throw
 * EnvelopeDecodeError (call `readLazyParts` first to get that as a value).
 */
export interface WireEnvelope {
  readonly version: number;
  readonly sessionId: Uint8Array;
  readonly edge: number;
  readonly step: bigint;
  readonly payload: Uint8Array;
  readonly history: readonly WireHistoryEntry[];
  readonly historyLength: number;
  readonly attestations: readonly WireAttestation[];
  readonly attestationCount: number;
  readonly start: WireStart | undefined;
  readonly keyUpdates: readonly WireKeyUpdate[];
  readonly bindings: readonly RoleBinding[];
  readonly ack: boolean;
  readonly payloadKeyVersion: number;
  readonly macKeyVersion: number;
  /** The envelope MAC, or undefined when the envelope has none. */
  readonly mac: Uint8Array | undefined;
  readonly body: Uint8Array;
}

/** Thrown for bytes that are not an envelope this decoder accepts. */
export class EnvelopeDecodeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EnvelopeDecodeError";
  }
}

const EMPTY: Uint8Array = new Uint8Array(0);

/** Decodes envelope bytes. Throws EnvelopeDecodeError. */
export function decodeEnvelope(bytes: Uint8Array): WireEnvelope {
  void SHAPES; // referenced, so that it lives as long as this module
  return readEnvelope(new Reader(bytes), bytes);
}

function fail(reason: string): never {
  throw new EnvelopeDecodeError(reason);
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * A protobuf wire reader over one buffer. Sub-messages are read in place
 * (their end is a bound, not a new reader), and every read checks its bounds.
 */
class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  /** A varint of at most 32 significant bits (protobuf truncates longer ones for uint32 fields; so do we). */
  uint32(): number {
    const b = this.buf;
    let v = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= b.length) fail("truncated varint");
      const x = b[this.pos++]!;
      if (shift < 32) v |= (x & 0x7f) << shift;
      if ((x & 0x80) === 0) return v >>> 0;
    }
    return fail("varint longer than 10 bytes");
  }

  /** A varint as a uint64. */
  uint64(): bigint {
    const b = this.buf;
    let lo = 0;
    let hi = 0n;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= b.length) fail("truncated varint");
      const x = b[this.pos++]!;
      if (shift < 28) lo |= (x & 0x7f) << shift;
      else hi |= BigInt(x & 0x7f) << BigInt(shift - 28);
      if ((x & 0x80) === 0) return shift < 28 ? BigInt(lo >>> 0) : BigInt.asUintN(64, (hi << 28n) | BigInt(lo >>> 0));
    }
    return fail("varint longer than 10 bytes");
  }

  /** A field tag, `field number << 3 | wire type` (compare with `key(no, wt)`). */
  tag(end: number): number {
    if (this.pos >= end) fail("truncated tag");
    const start = this.pos;
    const t = this.uint32();
    const n = this.pos - start;
    if (n > 5 || (n === 5 && this.buf[this.pos - 1]! > 0x0f)) fail("illegal tag: it overflows 32 bits");
    if (t >>> 3 === 0 || (t & 7) > 5) fail(`illegal tag: field ${t >>> 3}, wire type ${t & 7}`);
    return t;
  }

  /** The end of a length-delimited field whose length is next. */
  delimited(end: number): number {
    const len = this.uint32();
    const to = this.pos + len;
    if (to > end) fail("length-delimited field overruns its message");
    return to;
  }

  bytes(end: number): Uint8Array {
    const to = this.delimited(end);
    const out = this.buf.subarray(this.pos, to);
    this.pos = to;
    return out;
  }

  string(end: number, field: string): string {
    const to = this.delimited(end);
    const b = this.buf;
    let ascii = true;
    for (let i = this.pos; i < to; i++) {
      if (b[i]! > 0x7f) {
        ascii = false;
        break;
      }
    }
    let s: string;
    if (ascii) s = to - this.pos < 64 ? String.fromCharCode(...b.subarray(this.pos, to)) : strictUtf8.decode(b.subarray(this.pos, to));
    else {
      try {
        s = strictUtf8.decode(b.subarray(this.pos, to));
      } catch {
        return fail(`field ${field} is not valid UTF-8`);
      }
    }
    this.pos = to;
    return s;
  }

  bool(): boolean {
    return this.uint64() !== 0n;
  }

  /** Skips a field of an unknown number. Groups (wire types 3, 4) are refused: no field of ours is one. */
  skip(wt: number, end: number): void {
    switch (wt) {
      case 0: this.uint64(); return;
      case 1: this.advance(8, end); return;
      case 2: this.pos = this.delimited(end); return;
      case 5: this.advance(4, end); return;
      default: fail(`wire type ${wt} (groups) is not allowed`);
    }
  }

  private advance(n: number, end: number): void {
    if (this.pos + n > end) fail("truncated fixed-width field");
    this.pos += n;
  }
}

const VARINT = 0;
const LEN = 2;
const V = (no: number): number => (no << 3) | VARINT;
const L = (no: number): number => (no << 3) | LEN;

/** Skips an unknown field; a known field number with another wire type is refused. */
function other(r: Reader, t: number, end: number, known: number, what: string): void {
  const no = t >>> 3;
  if (no <= 31 && (known & (1 << no)) !== 0) fail(`field ${no} of ${what} has wire type ${t & 7}, which its type does not allow`);
  r.skip(t & 7, end);
}

const ENVELOPE_FIELDS = 0b1011111111111110; // 1..13 and 15
const BINDING_FIELDS = 0b110;
const HISTORY_FIELDS = 0b11110;
const ATTESTATION_FIELDS = 0b111110;
const START_FIELDS = 0b11110;
const KEY_UPDATE_FIELDS = 0b111111110;

function readEnvelope(r: Reader, bytes: Uint8Array): WireEnvelope {
  const end = bytes.length;
  let version = 0;
  let sessionId = EMPTY;
  let edge = 0;
  let step = 0n;
  let payload = EMPTY;
  const history = new Spans(DECODE_LIMITS.history);
  const attestations = new Spans(DECODE_LIMITS.attestations);
  let start: WireStart | undefined;
  const keyUpdates: WireKeyUpdate[] = [];
  const bindings: RoleBinding[] = [];
  let ack = false;
  let payloadKeyVersion = 0;
  let macKeyVersion = 0;
  let mac: Uint8Array | undefined;
  let body = bytes;
  while (r.pos < end) {
    const at = r.pos;
    const t = r.tag(end);
    if (mac !== undefined) fail("a field follows the envelope MAC: it must be the last field");
    switch (t) {
      case V(1): version = r.uint32(); break;
      case L(2): sessionId = r.bytes(end); break;
      case V(3): edge = r.uint32(); break;
      case V(4): step = r.uint64(); break;
      case L(5): payload = r.bytes(end); break;
      case L(6): r.pos = history.locateRun(r, bytes, end, L(6), "history entries"); break;
      case L(7): r.pos = attestations.locateRun(r, bytes, end, L(7), "attestations"); break;
      case L(8):
        if (start !== undefined) fail("a second session start");
        start = readStart(r, r.delimited(end));
        break;
      case L(9):
        if (keyUpdates.length >= DECODE_LIMITS.keyUpdates) fail(`more than ${DECODE_LIMITS.keyUpdates} key updates`);
        keyUpdates.push(readKeyUpdate(r, r.delimited(end)));
        break;
      case L(10): pushBinding(bindings, r, r.delimited(end)); break;
      case V(11): ack = r.bool(); break;
      case V(12): payloadKeyVersion = r.uint32(); break;
      case V(13): macKeyVersion = r.uint32(); break;
      case L(MAC_FIELD):
        mac = r.bytes(end);
        body = bytes.subarray(0, at);
        break;
      default:
        other(r, t, end, ENVELOPE_FIELDS, "Envelope"); // unknown fields are dropped, never kept
    }
  }
  return new DecodedEnvelope(bytes, version, sessionId, edge, step, payload, history, attestations, start, keyUpdates, bindings, ack, payloadKeyVersion, macKeyVersion, mac, body);
}

/**
 * Where the occurrences of one repeated sub-message field are in the buffer,
 * and how many there are: decoding only steps over them (tag, length, skip),
 * counting, and keeps one (start, end) pair per run of consecutive
 * occurrences, not one per occurrence. A forged envelope's hundred thousand
 * history entries cost a counter and one pair here; they are located again,
 * one by one, only if the envelope passes its MAC and they are read.
 */
class Spans {
  /** Runs: where each starts (the length of its first occurrence, after the tag) and ends. */
  readonly runs: number[] = [];
  /** Number of occurrences. */
  count = 0;
  constructor(private readonly limit: number) {}

  /**
   * Steps over the occurrence whose tag (`tag`, one byte) the reader has
   * just read, and those of the same field that follow it directly, in one
   * tight loop (an envelope's history is one run of entries), and records the
   * run. Returns the position after it. Lengths of one or two bytes are read
   * here; longer ones, and anything else, go through the reader's own checks.
   */
  locateRun(r: Reader, b: Uint8Array, end: number, tag: number, what: string): number {
    const runStart = r.pos;
    let pos = runStart;
    let n = this.count;
    const limit = this.limit;
    for (;;) {
      if (n >= limit) fail(`more than ${limit} ${what}`);
      let to: number;
      const b0 = pos < end ? b[pos]! : 0x80;
      const b1 = pos + 1 < end ? b[pos + 1]! : 0x80;
      if (b0 < 0x80) to = pos + 1 + b0;
      else if (b1 < 0x80) to = pos + 2 + ((b0 & 0x7f) | (b1 << 7));
      else {
        r.pos = pos;
        to = r.delimited(end);
      }
      if (to > end) fail("length-delimited field overruns its message");
      n++;
      this.count = n;
      pos = to;
      if (pos >= end || b[pos] !== tag) break;
      pos++;
    }
    this.runs.push(runStart, pos);
    return pos;
  }

  /** Reads the occurrences with `read`, run by run (decoding checked their framing). */
  readEach<T>(bytes: Uint8Array, read: (r: Reader, end: number) => T): T[] {
    const r = new Reader(bytes);
    const out: T[] = new Array<T>(this.count);
    let k = 0;
    for (let i = 0; i < this.runs.length; i += 2) {
      r.pos = this.runs[i]!;
      const runEnd = this.runs[i + 1]!;
      for (;;) {
        const to = r.delimited(runEnd);
        out[k++] = read(r, to);
        r.pos = to;
        if (to >= runEnd) break;
        r.pos++; // the tag of the next occurrence, the same one-byte tag
      }
    }
    return out;
  }
}

/** A decoded envelope: its history and attestations are read from their spans when first used. */
class DecodedEnvelope implements WireEnvelope {
  private historyRead: WireHistoryEntry[] | undefined;
  private attestationsRead: WireAttestation[] | undefined;
  readonly historyLength: number;
  readonly attestationCount: number;

  constructor(
    private readonly bytes: Uint8Array,
    readonly version: number,
    readonly sessionId: Uint8Array,
    readonly edge: number,
    readonly step: bigint,
    readonly payload: Uint8Array,
    private readonly historyAt: Spans,
    private readonly attestationsAt: Spans,
    readonly start: WireStart | undefined,
    readonly keyUpdates: readonly WireKeyUpdate[],
    readonly bindings: readonly RoleBinding[],
    readonly ack: boolean,
    readonly payloadKeyVersion: number,
    readonly macKeyVersion: number,
    readonly mac: Uint8Array | undefined,
    readonly body: Uint8Array,
  ) {
    this.historyLength = historyAt.count;
    this.attestationCount = attestationsAt.count;
  }

  get history(): readonly WireHistoryEntry[] {
    return (this.historyRead ??= this.historyAt.readEach(this.bytes, readHistoryEntry));
  }

  get attestations(): readonly WireAttestation[] {
    return (this.attestationsRead ??= this.attestationsAt.readEach(this.bytes, readAttestation));
  }
}

/**
 * One live object of each class the decoder allocates per envelope. V8 holds
 * an object shape (map) only weakly from its class: when the last object of a
 * shape dies, the next full GC drops the shape and deoptimizes every function
 * whose optimized code depends on it. Without these, each envelope decoded
 * after a full GC ran the decoder in the interpreter until it was optimized
 * again: 3–5 ms to locate the 6,000 entries of a forged 256 KiB history, against
 * 0.2 ms with the optimized code kept (bench/refusal.ts measures after a full GC).
 */
const SHAPES: readonly object[] = [
  new Reader(EMPTY),
  new Spans(0),
  new DecodedEnvelope(EMPTY, 0, EMPTY, 0, 0n, EMPTY, new Spans(0), new Spans(0), undefined, [], [], false, 0, 0, undefined, EMPTY),
];

/**
 * Reads the parts of `env` that decoding located but did not read (its
 * history and attestations), so that what is malformed in them is refused as
 * a value rather than thrown where they are used. Returns the reason, or
 * undefined.
 */
export function readLazyParts(env: WireEnvelope): string | undefined {
  try {
    void env.history;
    void env.attestations;
    return undefined;
  } catch (e: unknown) {
    if (e instanceof EnvelopeDecodeError) return e.message;
    throw e;
  }
}

function pushBinding(out: RoleBinding[], r: Reader, end: number): void {
  if (out.length >= DECODE_LIMITS.bindings) fail(`more than ${DECODE_LIMITS.bindings} bindings`);
  let role = "";
  let principal = "";
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === L(1)) role = r.string(end, "Binding.role");
    else if (t === L(2)) principal = r.string(end, "Binding.principal");
    else other(r, t, end, BINDING_FIELDS, "Binding");
  }
  out.push({ role, principal });
}

const NO_BINDINGS: readonly RoleBinding[] = Object.freeze([]);

function readHistoryEntry(r: Reader, end: number): WireHistoryEntry {
  let edge = 0;
  let step = 0n;
  let payloadHash = EMPTY;
  let bindings: RoleBinding[] | undefined;
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case V(1): edge = r.uint32(); break;
      case V(2): step = r.uint64(); break;
      case L(3): payloadHash = r.bytes(end); break;
      case L(4): pushBinding((bindings ??= []), r, r.delimited(end)); break;
      default: other(r, t, end, HISTORY_FIELDS, "HistoryEntry");
    }
  }
  return { edge, step, payloadHash, bindings: bindings ?? NO_BINDINGS };
}

function readAttestation(r: Reader, end: number): WireAttestation {
  let role = "";
  let target = "";
  let step = 0n;
  let tag = EMPTY;
  let keyVersion = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case L(1): role = r.string(end, "Attestation.role"); break;
      case L(2): target = r.string(end, "Attestation.target"); break;
      case V(3): step = r.uint64(); break;
      case L(4): tag = r.bytes(end); break;
      case V(5): keyVersion = r.uint32(); break;
      default: other(r, t, end, ATTESTATION_FIELDS, "Attestation");
    }
  }
  return { role, target, step, tag, keyVersion };
}

function readStart(r: Reader, end: number): WireStart {
  let nonce = EMPTY;
  let sessionCode = EMPTY;
  let timeMs = 0n;
  const bindings: RoleBinding[] = [];
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case L(1): nonce = r.bytes(end); break;
      case L(2): sessionCode = r.bytes(end); break;
      case V(3): timeMs = r.uint64(); break;
      case L(4): pushBinding(bindings, r, r.delimited(end)); break;
      default: other(r, t, end, START_FIELDS, "SessionStart");
    }
  }
  return { nonce, sessionCode, timeMs, bindings };
}

function readKeyUpdate(r: Reader, end: number): WireKeyUpdate {
  let from = "";
  let to = "";
  let version = 0;
  let step = 0n;
  let body: WireKeyUpdate["body"] = { case: undefined };
  let tag = EMPTY;
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case L(1): from = r.string(end, "KeyUpdate.from"); break;
      case L(2): to = r.string(end, "KeyUpdate.to"); break;
      case V(3): version = r.uint32(); break;
      case V(4): step = r.uint64(); break;
      case L(5):
      case L(6):
      case L(8):
        if (body.case !== undefined) fail("a key update with two bodies");
        body = { case: t === L(5) ? "noise" : t === L(6) ? "ratchet" : "symmetric", value: r.bytes(end) };
        break;
      case L(7): tag = r.bytes(end); break;
      default: other(r, t, end, KEY_UPDATE_FIELDS, "KeyUpdate");
    }
  }
  return { from, to, version, step, body, tag };
}

/**
 * Encodes an envelope (a protobuf-es `Envelope`, or the same fields as a
 * plain object; its `mac` must be empty) and, when `macOf` is given,
 * appends the MAC it computes over the encoded bytes as the last field.
 * Returns the bytes to send.
 */
export function encodeEnvelope(env: EnvelopeFields, macOf?: (body: Uint8Array) => Uint8Array): Uint8Array {
  return writeEnvelope(env, macOf);
}

