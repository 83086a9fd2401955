/**
 * The state one role keeps for one session: where the session is, the
 * transcript hash, the history other roles have not seen yet, and the
 * attestations it carries for them. States are values: a message is checked
 * against a state and, if accepted, yields the next state; nothing is
 * mutated before every check has passed.
 */
import type { PairState } from "../keys/pair-channel.js";
import { hex, type RoleBinding } from "../wire/encoding.js";
import { transcriptStart } from "../wire/transcript.js";
import type { CryptoBackend } from "../keys/crypto/index.js";

/** How a session started (fixed by its initiator). */
export interface SessionStartInfo {
  readonly nonce: Uint8Array;
  readonly code: Uint8Array;
  readonly timeMs: bigint;
  readonly bindings: readonly RoleBinding[];
}

/** One message of the history. */
export interface HistoryItem {
  readonly edge: number;
  readonly step: bigint;
  readonly payloadHash: Uint8Array;
  readonly bindings: readonly RoleBinding[];
  /** Transcript hash after this message. */
  readonly h: Uint8Array;
}

/** An attestation kept to be forwarded to its target. */
export interface CarriedAttestation {
  readonly role: string;
  readonly target: string;
  readonly step: bigint;
  readonly tag: Uint8Array;
  readonly keyVersion: number;
}

/** A key update kept to be forwarded to its target principal. */
export interface CarriedKeyUpdate {
  readonly from: string;
  readonly to: string;
  readonly version: number;
  readonly step: bigint;
  readonly body: { readonly case: "noise" | "ratchet" | "symmetric"; readonly value: Uint8Array };
  readonly tag: Uint8Array;
}

/** A role's state in one session. */
export interface SessionState {
  readonly sessionId: Uint8Array;
  /** Hex of the session id: the key of this state in stores. */
  readonly key: string;
  readonly role: string;
  readonly start: SessionStartInfo;
  /** Principal of each bound role (start bindings, then dynamic ones). */
  readonly principals: Readonly<Record<string, string>>;
  /** Global state after the last message this role knows of. */
  readonly state: number;
  /** Step of that message (0 before the first message). */
  readonly step: bigint;
  /** Transcript hash after that message. */
  readonly h: Uint8Array;
  /** Messages some role has not seen yet (step above the oldest last action). */
  readonly history: readonly HistoryItem[];
  /** Step of the latest message each role sent or received, as far as this role knows (decimal strings). */
  readonly lastActed: Readonly<Record<string, string>>;
  /** Attestations carried for other roles, keyed `role>target@step`. */
  readonly carried: Readonly<Record<string, CarriedAttestation>>;
  /** Key updates carried for other principals, keyed `from>to@version`. */
  readonly carriedUpdates: Readonly<Record<string, CarriedKeyUpdate>>;
  /** Pair channels with other principals (key establishment `noise`), by principal. */
  readonly pairs: Readonly<Record<string, PairState>>;
  /** Payloads later `where`/`opens` clauses compare with, keyed `rpc|direction`. */
  readonly values: Readonly<Record<string, Uint8Array>>;
  /** Bumped on every accepted message: stores use it for compare-and-set. */
  readonly version: number;
}

/**
 * The prototype of every record: an empty object without a prototype of its
 * own, frozen. A record made with it answers nothing but its own keys, like
 * one made with `Object.create(null)`, but V8 keeps it in fast mode (a
 * prototype-less object is a hash table from the start, several times the
 * size of a record of two or three roles, and slower to read).
 */
const RECORD_PROTOTYPE: object = Object.freeze(Object.create(null) as object);

/**
 * A record keyed by role or principal names, which may be any string:
 * nothing is inherited (its prototype is an empty object without a
 * prototype), so a role or principal named `constructor`, `toString` or
 * `__proto__` is a key like any other (a plain object would answer for
 * them, or change its prototype). Every record of a state keyed by role or
 * principal is one of these.
 */
export function record<T>(from?: Readonly<Record<string, T>>): Record<string, T> {
  const r = Object.create(RECORD_PROTOTYPE) as Record<string, T>;
  if (from !== undefined) for (const k of Object.keys(from)) r[k] = from[k]!;
  return r;
}

/** The step a role last acted at (-1n if never). */
export function lastActed(s: SessionState, role: string): bigint {
  const v = s.lastActed[role];
  return v === undefined ? -1n : BigInt(v);
}

/**
 * The transcript hash after step `step` as `s` knows it: h₀ for a step
 * before the first message (a role that never acted), undefined when the
 * history no longer holds it.
 */
export function transcriptAt(c: CryptoBackend, s: SessionState, step: bigint): Uint8Array | undefined {
  if (step === s.step) return s.h;
  if (step <= 0n) return transcriptStart(c, s.sessionId);
  for (let i = s.history.length - 1; i >= 0; i--) {
    const x = s.history[i]!;
    if (x.step === step) return x.h;
    if (x.step < step) break;
  }
  return undefined;
}

/** True when the session has reached a state where nobody acts. */
export function isOver(s: SessionState, holder: (state: number) => string | null): boolean {
  return holder(s.state) === null;
}

/**
 * A state record: every state the monitor makes comes from here, with its
 * fields in one order, so that the code reading states sees one shape
 * (states spread from one another get shapes of their own, and the reads
 * that meet several of them run slower).
 */
export function sessionState(
  sessionId: Uint8Array,
  key: string,
  role: string,
  start: SessionStartInfo,
  principals: Readonly<Record<string, string>>,
  state: number,
  step: bigint,
  h: Uint8Array,
  history: readonly HistoryItem[],
  lastActed: Readonly<Record<string, string>>,
  carried: Readonly<Record<string, CarriedAttestation>>,
  carriedUpdates: Readonly<Record<string, CarriedKeyUpdate>>,
  pairs: Readonly<Record<string, PairState>>,
  values: Readonly<Record<string, Uint8Array>>,
  version: number,
): SessionState {
  return { sessionId, key, role, start, principals, state, step, h, history, lastActed, carried, carriedUpdates, pairs, values, version };
}

/** The state of `role` before the first message of session `sid` (started or joined). */
export function initialState(c: CryptoBackend, sid: Uint8Array, role: string, start: SessionStartInfo, initial: number): SessionState {
  const principals = record<string>();
  for (const b of start.bindings) principals[b.role] = b.principal;
  return sessionState(sid, hex(sid), role, start, principals, initial, 0n, transcriptStart(c, sid), [], record(), {}, {}, record(), {}, 0);
}

/**
 * What a finished role keeps of `st`: its position, step and transcript hash
 * (enough to refuse late duplicates as replays), no history, extras, values
 * or keys.
 */
export function tombstoneOf(st: SessionState): SessionState {
  return sessionState(st.sessionId, st.key, st.role, st.start, st.principals, st.state, st.step, st.h, [], st.lastActed, {}, {}, record(), {}, st.version + 1);
}
