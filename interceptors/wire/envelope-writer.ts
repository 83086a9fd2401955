/**
 * The envelope writer of the hot path: the same bytes as protobuf-es's
 * `toBinary(EnvelopeSchema, env)` (fields in number order, proto3 defaults
 * left out, a set `start` and a set `body` case written even when empty),
 * computed in two passes — sizes, then bytes into one buffer that also holds
 * the MAC trailer — instead of a writer that grows and forks per nested
 * message. `test/fuzz/envelope-writer.test.ts` compares it with protobuf-es
 * over random envelopes; docs/protocol.md ("Envelope") stays the specification.
 */

/** The fields of an envelope the writer reads (a protobuf-es `Envelope` has them all). */
export interface EnvelopeFields {
  readonly version: number;
  readonly sessionId: Uint8Array;
  readonly edge: number;
  readonly step: bigint;
  readonly payload: Uint8Array;
  readonly history: readonly HistoryFields[];
  readonly attestations: readonly AttestationFields[];
  readonly start?: StartFields | undefined;
  readonly keyUpdates: readonly KeyUpdateFields[];
  readonly bindings: readonly BindingFields[];
  readonly ack: boolean;
  readonly payloadKeyVersion: number;
  readonly macKeyVersion: number;
  readonly mac: Uint8Array;
}
interface BindingFields {
  readonly role: string;
  readonly principal: string;
}
interface HistoryFields {
  readonly edge: number;
  readonly step: bigint;
  readonly payloadHash: Uint8Array;
  readonly bindings: readonly BindingFields[];
}
interface AttestationFields {
  readonly role: string;
  readonly target: string;
  readonly step: bigint;
  readonly tag: Uint8Array;
  readonly keyVersion: number;
}
interface StartFields {
  readonly nonce: Uint8Array;
  readonly sessionCode: Uint8Array;
  readonly timeMs: bigint;
  readonly bindings: readonly BindingFields[];
}
export interface KeyUpdateFields {
  readonly from: string;
  readonly to: string;
  readonly version: number;
  readonly step: bigint;
  readonly body: { readonly case: "noise" | "ratchet" | "symmetric"; readonly value: Uint8Array } | { readonly case: undefined; readonly value?: undefined };
  readonly tag: Uint8Array;
}

/** Field 15, length-delimited: the envelope MAC's tag byte. */
const MAC_TAG = (15 << 3) | 2;

const utf8 = new TextEncoder();
const names = new Map<string, Uint8Array>();

/** UTF-8 of a role or principal name; a session's few names are encoded once. */
function text(s: string): Uint8Array {
  let b = names.get(s);
  if (b === undefined) {
    b = utf8.encode(s);
    if (names.size < 1024 && s.length <= 256) names.set(s, b);
  }
  return b;
}

function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

const TWO32 = 0x1_0000_0000n;

function varint64Size(n: bigint): number {
  if (n < TWO32) return varintSize(Number(n));
  let size = 5;
  let v = n >> 35n;
  while (v > 0n) {
    size++;
    v >>= 7n;
  }
  return size;
}

/** Bytes of a length-delimited field with `len` bytes of content (tag of one byte). */
const lenField = (len: number): number => 1 + varintSize(len) + len;

function bindingSize(b: BindingFields): number {
  const r = text(b.role).length;
  const p = text(b.principal).length;
  return (r === 0 ? 0 : lenField(r)) + (p === 0 ? 0 : lenField(p));
}

function bindingsSize(bs: readonly BindingFields[]): number {
  let n = 0;
  for (const b of bs) n += lenField(bindingSize(b));
  return n;
}

function historySize(x: HistoryFields): number {
  return (x.edge === 0 ? 0 : 1 + varintSize(x.edge)) + (x.step === 0n ? 0 : 1 + varint64Size(x.step)) + (x.payloadHash.length === 0 ? 0 : lenField(x.payloadHash.length)) + bindingsSize(x.bindings);
}

function attestationSize(a: AttestationFields): number {
  const r = text(a.role).length;
  const t = text(a.target).length;
  return (r === 0 ? 0 : lenField(r)) + (t === 0 ? 0 : lenField(t)) + (a.step === 0n ? 0 : 1 + varint64Size(a.step)) + (a.tag.length === 0 ? 0 : lenField(a.tag.length)) + (a.keyVersion === 0 ? 0 : 1 + varintSize(a.keyVersion));
}

function startSize(s: StartFields): number {
  return (s.nonce.length === 0 ? 0 : lenField(s.nonce.length)) + (s.sessionCode.length === 0 ? 0 : lenField(s.sessionCode.length)) + (s.timeMs === 0n ? 0 : 1 + varint64Size(s.timeMs)) + bindingsSize(s.bindings);
}

function keyUpdateSize(u: KeyUpdateFields): number {
  const f = text(u.from).length;
  const t = text(u.to).length;
  return (
    (f === 0 ? 0 : lenField(f)) +
    (t === 0 ? 0 : lenField(t)) +
    (u.version === 0 ? 0 : 1 + varintSize(u.version)) +
    (u.step === 0n ? 0 : 1 + varint64Size(u.step)) +
    (u.body.case === undefined ? 0 : lenField(u.body.value.length)) +
    (u.tag.length === 0 ? 0 : lenField(u.tag.length))
  );
}

class Out {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  varint(n: number): void {
    while (n > 0x7f) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  varint64(n: bigint): void {
    if (n < TWO32) return this.varint(Number(n));
    while (n > 0x7fn) {
      this.buf[this.pos++] = Number(n & 0x7fn) | 0x80;
      n >>= 7n;
    }
    this.buf[this.pos++] = Number(n);
  }

  uint(no: number, v: number): void {
    if (v === 0) return;
    this.byte(no << 3);
    this.varint(v);
  }

  uint64(no: number, v: bigint): void {
    if (v === 0n) return;
    this.byte(no << 3);
    this.varint64(v);
  }

  bytes(no: number, v: Uint8Array, always = false): void {
    if (v.length === 0 && !always) return;
    this.byte((no << 3) | 2);
    this.varint(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  str(no: number, s: string): void {
    this.bytes(no, text(s));
  }

  head(no: number, len: number): void {
    this.byte((no << 3) | 2);
    this.varint(len);
  }

  bindings(no: number, bs: readonly BindingFields[]): void {
    for (const b of bs) {
      this.head(no, bindingSize(b));
      this.str(1, b.role);
      this.str(2, b.principal);
    }
  }
}

const NO_SIZES: readonly number[] = Object.freeze([]);

/** The size of each item of a repeated field (no array for an empty one). */
function sizes<T>(items: readonly T[], size: (x: T) => number): readonly number[] {
  if (items.length === 0) return NO_SIZES;
  const out = new Array<number>(items.length);
  for (let i = 0; i < items.length; i++) out[i] = size(items[i]!);
  return out;
}

/**
 * Encodes `env` (which must not carry its MAC yet); with `macOf`, appends
 * field 15 holding `macOf(body)`, where `body` is every byte before it — the
 * bytes the envelope MAC covers (docs/protocol.md, "The envelope MAC").
 * `macOf` must return 32 bytes.
 */
export function writeEnvelope(env: EnvelopeFields, macOf?: (body: Uint8Array) => Uint8Array): Uint8Array {
  if (env.mac.length !== 0) throw new Error("secsession: internal error: an envelope to encode already carries its MAC");
  const history = sizes(env.history, historySize);
  const attestations = sizes(env.attestations, attestationSize);
  const updates = sizes(env.keyUpdates, keyUpdateSize);
  const start = env.start === undefined ? -1 : startSize(env.start);
  let size =
    (env.version === 0 ? 0 : 1 + varintSize(env.version)) +
    (env.sessionId.length === 0 ? 0 : lenField(env.sessionId.length)) +
    (env.edge === 0 ? 0 : 1 + varintSize(env.edge)) +
    (env.step === 0n ? 0 : 1 + varint64Size(env.step)) +
    (env.payload.length === 0 ? 0 : lenField(env.payload.length)) +
    (start < 0 ? 0 : lenField(start)) +
    bindingsSize(env.bindings) +
    (env.ack ? 2 : 0) +
    (env.payloadKeyVersion === 0 ? 0 : 1 + varintSize(env.payloadKeyVersion)) +
    (env.macKeyVersion === 0 ? 0 : 1 + varintSize(env.macKeyVersion));
  for (const n of history) size += lenField(n);
  for (const n of attestations) size += lenField(n);
  for (const n of updates) size += lenField(n);
  const MAC_TRAILER = 2 + 32;
  const o = new Out(new Uint8Array(size + (macOf === undefined ? 0 : MAC_TRAILER)));
  o.uint(1, env.version);
  o.bytes(2, env.sessionId);
  o.uint(3, env.edge);
  o.uint64(4, env.step);
  o.bytes(5, env.payload);
  for (let i = 0; i < history.length; i++) {
    const x = env.history[i]!;
    o.head(6, history[i]!);
    o.uint(1, x.edge);
    o.uint64(2, x.step);
    o.bytes(3, x.payloadHash);
    o.bindings(4, x.bindings);
  }
  for (let i = 0; i < attestations.length; i++) {
    const a = env.attestations[i]!;
    o.head(7, attestations[i]!);
    o.str(1, a.role);
    o.str(2, a.target);
    o.uint64(3, a.step);
    o.bytes(4, a.tag);
    o.uint(5, a.keyVersion);
  }
  if (env.start !== undefined) {
    const s = env.start;
    o.head(8, start);
    o.bytes(1, s.nonce);
    o.bytes(2, s.sessionCode);
    o.uint64(3, s.timeMs);
    o.bindings(4, s.bindings);
  }
  for (let i = 0; i < updates.length; i++) {
    const u = env.keyUpdates[i]!;
    o.head(9, updates[i]!);
    o.str(1, u.from);
    o.str(2, u.to);
    o.uint(3, u.version);
    o.uint64(4, u.step);
    if (u.body.case === "noise" || u.body.case === "ratchet") o.bytes(u.body.case === "noise" ? 5 : 6, u.body.value, true);
    o.bytes(7, u.tag);
    if (u.body.case === "symmetric") o.bytes(8, u.body.value, true); // field order, as toBinary writes it
  }
  o.bindings(10, env.bindings);
  if (env.ack) {
    o.byte(11 << 3);
    o.byte(1);
  }
  o.uint(12, env.payloadKeyVersion);
  o.uint(13, env.macKeyVersion);
  if (o.pos !== size) throw new Error(`secsession: internal error: envelope size ${size} computed, ${o.pos} written`);
  if (macOf === undefined) return o.buf;
  const mac = macOf(o.buf.subarray(0, size));
  if (mac.length !== 32) throw new Error("secsession: internal error: an envelope MAC is 32 bytes");
  o.byte(MAC_TAG);
  o.byte(32);
  o.buf.set(mac, o.pos);
  return o.buf;
}
