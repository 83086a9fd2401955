/**
 * Save and restore of one role's session (Themis Secure Session's
 * save/restore, docs/save-restore.md): the state is encoded (state-codec.ts),
 * sealed with ChaCha20-Poly1305 under a key derived from the caller's 32-byte
 * storage key, and bound to its session code, role and session id.
 *
 * Sealed export:
 *
 *   "SSEX" ‖ u8(1) ‖ code (32) ‖ lps(role) ‖ sid (32) ‖ nonce (12) ‖ ChaCha20-Poly1305(k, nonce, encodeState(st), ad)
 *   ad = label("session-export") ‖ u32(1) ‖ lp(code) ‖ lps(role) ‖ lp(sid)
 *   k  = HKDF-SHA256(salt = 0³², ikm = storage key, info = label("session-export key") ‖ ad)
 *
 * The header's code, role and id are in the clear only to give clear errors:
 * the importer builds `ad` from its own party's code and role, so a blob of
 * another role or session code never authenticates.
 *
 * Import refuses, changing nothing, anything that does not authenticate, is
 * for another party, or is stale: the store holds a state of this session
 * with a version ≥ the export's, or the session's high-water mark is above it.
 */
import { SecSessionError } from "../errors.js";
import { aeadNonceLength, constantTimeEqual, zeroize } from "../keys/crypto/index.js";
import { hkdf32 } from "../keys/pairwise.js";
import type { SessionState } from "../monitor/state.js";
import type { Party } from "../runtime/party.js";
import { concat, hex, label, lp, lps, u32 } from "../wire/encoding.js";
import { highWaterKey, highWaterMarksOf, type HighWaterMarks } from "./high-water.js";
import { decodeState, encodeState, MAX_STATE_BYTES, pairKeyBuffers } from "./state-codec.js";

/** The version of the sealed-export format this build writes and reads. */
export const EXPORT_FORMAT_VERSION = 1;

const MAGIC = Uint8Array.of(0x53, 0x53, 0x45, 0x58); // "SSEX"
const AEAD = "chacha20-poly1305";
const NONCE = aeadNonceLength(AEAD);
const TAG = 16;
const MAX_ROLE_BYTES = 1024;
const ZERO32 = new Uint8Array(32);
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Why an import was refused (a stale export is a StaleExportError). */
export type ImportRefusal =
  /** Not a sealed export of this format, or a field out of range. */
  | "malformed"
  /** The tag does not verify: wrong storage key, or any byte changed. */
  | "unauthentic"
  /** An export of another session code or role, or of a role bound to another principal than this runtime. */
  | "wrong-party"
  /** An export of another session than the one the caller asked for. */
  | "wrong-session";

/** A refused import. Nothing was changed. */
export class ImportRefusedError extends Error {
  constructor(
    readonly kind: ImportRefusal,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`secsession: import refused (${kind}): ${reason}`, options);
    this.name = "ImportRefusedError";
  }
}

/** An export older than what the store holds or has held. Nothing was changed. */
export class StaleExportError extends Error {
  constructor(
    /** The session's store key. */
    readonly key: string,
    /** The version of the exported state. */
    readonly exportVersion: number,
    /** The version that makes it stale. */
    readonly storedVersion: number,
    /** `state`: a stored state of version ≥ the export's; `high-water`: the session's mark is above it. */
    readonly source: "state" | "high-water",
  ) {
    super(
      source === "state"
        ? `secsession: stale export: the store holds version ${storedVersion} of session ${key}, the export is version ${exportVersion}`
        : `secsession: stale export: session ${key} reached version ${storedVersion} in this store before, the export is version ${exportVersion}`,
    );
    this.name = "StaleExportError";
  }
}

export interface ImportOptions {
  /** Refuse (`wrong-session`) an export of any other session than this one (hex session id). */
  readonly sessionKey?: string;
  /**
   * The session's high-water marks: the party's store's own (a store made
   * with withHighWater, or a Redis store with `highWater: true`), the
   * default; other marks are refused, since the store's commits would not
   * raise them. `null` imports without a mark: only the stored state can make
   * an export stale (see docs/save-restore.md).
   */
  readonly marks?: HighWaterMarks | null;
}

function checkStorageKey(k: Uint8Array): void {
  if (!(k instanceof Uint8Array) || k.length !== 32) throw new RangeError(`secsession: a storage key is 32 bytes, got ${k instanceof Uint8Array ? k.length : typeof k}`);
}

function associatedData(code: Uint8Array, role: string, sid: Uint8Array): Uint8Array {
  return concat(label("session-export"), u32(EXPORT_FORMAT_VERSION), lp(code), lps(role), lp(sid));
}

function exportKey(party: Party, storageKey: Uint8Array, ad: Uint8Array): Uint8Array {
  return hkdf32(party.core.crypto, ZERO32, storageKey, concat(label("session-export key"), ad));
}

/**
 * Seals `st`, a state of `party`'s role, under `storageKey`. Low level:
 * exportSession seals the state the party's store holds.
 */
export function sealState(party: Party, st: SessionState, storageKey: Uint8Array): Uint8Array {
  checkStorageKey(storageKey);
  if (st.role !== party.role) throw new Error(`secsession: a state of role ${st.role} cannot be exported as role ${party.role}`);
  if (!constantTimeEqual(st.start.code, party.plan.code)) throw new Error(`secsession: the state is not a session of ${party.descriptor.name}`);
  const c = party.core.crypto;
  const code = party.plan.code;
  const ad = associatedData(code, party.role, st.sessionId);
  const plaintext = encodeState(st);
  const k = exportKey(party, storageKey, ad);
  const nonce = c.randomBytes(NONCE);
  try {
    const sealed = c.aeadSeal(AEAD, k, nonce, plaintext, ad);
    return concat(MAGIC, Uint8Array.of(EXPORT_FORMAT_VERSION), code, lps(party.role), st.sessionId, nonce, sealed);
  } finally {
    zeroize(plaintext, k);
  }
}

/**
 * Exports the party's state of session `sessionKey` (hex session id), sealed
 * under `storageKey` (32 bytes). The export holds live pair-channel keys:
 * see docs/save-restore.md for how to keep it.
 */
export async function exportSession(party: Party, sessionKey: string, storageKey: Uint8Array): Promise<Uint8Array> {
  checkStorageKey(storageKey);
  const st = await party.state(sessionKey);
  if (st === undefined) throw new Error(`secsession: no session ${sessionKey} for role ${party.role} to export`);
  return sealState(party, st, storageKey);
}

interface Header {
  readonly code: Uint8Array;
  readonly role: string;
  readonly sid: Uint8Array;
  readonly nonce: Uint8Array;
  readonly ciphertext: Uint8Array;
}

function parseHeader(b: Uint8Array): Header {
  const bad = (reason: string) => new ImportRefusedError("malformed", reason);
  if (!(b instanceof Uint8Array)) throw bad("expected a Uint8Array");
  if (b.length > MAX_STATE_BYTES + 4096) throw bad(`${b.length} bytes exceed the largest export`);
  if (b.length < MAGIC.length + 1 || !MAGIC.every((x, i) => b[i] === x)) throw bad("not a sealed session export (bad magic)");
  let off = MAGIC.length;
  const version = b[off++]!;
  if (version !== EXPORT_FORMAT_VERSION) throw bad(`unsupported export format version ${version} (this build reads ${EXPORT_FORMAT_VERSION})`);
  const take = (n: number, what: string): Uint8Array => {
    if (n > b.length - off) throw bad(`truncated at ${what}`);
    const out = b.subarray(off, off + n);
    off += n;
    return out;
  };
  const code = take(32, "the session code");
  const roleLength = new DataView(take(4, "the role").slice().buffer).getUint32(0, false);
  if (roleLength > MAX_ROLE_BYTES) throw bad(`a role of ${roleLength} bytes`);
  let role: string;
  try {
    role = strictUtf8.decode(take(roleLength, "the role"));
  } catch (e: unknown) {
    throw new ImportRefusedError("malformed", "the role is not valid UTF-8", { cause: e });
  }
  const sid = take(32, "the session id");
  const nonce = take(NONCE, "the nonce");
  const ciphertext = b.subarray(off);
  if (ciphertext.length < TAG) throw bad("truncated ciphertext");
  return { code, role, sid, nonce, ciphertext };
}

/** Checks of a decoded, authenticated state against the party that imports it. */
function checkAgainstParty(party: Party, st: SessionState, sid: Uint8Array): void {
  const wrong = (reason: string) => new ImportRefusedError("wrong-party", reason);
  if (st.role !== party.role) throw wrong(`the state is of role ${st.role}, not ${party.role}`);
  if (!constantTimeEqual(st.sessionId, sid)) throw new ImportRefusedError("malformed", "the state's session id differs from the header's");
  if (!constantTimeEqual(st.start.code, party.plan.code)) throw wrong(`the state is not a session of ${party.descriptor.name}`);
  const self = party.core.identity.id;
  if (st.principals[party.role] !== self) throw wrong(`role ${party.role} is bound to ${JSON.stringify(st.principals[party.role] ?? "")} in this session, and this runtime is ${JSON.stringify(self)}`);
  const d = party.descriptor;
  if (st.state >= d.states.length) throw new ImportRefusedError("malformed", `global state ${st.state} does not exist in ${d.name}`);
  for (const x of st.history) if (x.edge >= d.edges.length) throw new ImportRefusedError("malformed", `history names edge ${x.edge}, which does not exist in ${d.name}`);
}

function zeroPairs(st: SessionState): void {
  for (const p of Object.values(st.pairs)) zeroize(...pairKeyBuffers(p));
}

/**
 * Imports a sealed export into the party's store and returns the committed
 * state. Refuses (ImportRefusedError, StaleExportError, or SecSessionError
 * `conflict` when another writer commits in between) without changing
 * anything but, for an export newer than everything seen, the session's
 * high-water mark.
 */
export async function importSession(party: Party, sealed: Uint8Array, storageKey: Uint8Array, options: ImportOptions = {}): Promise<SessionState> {
  checkStorageKey(storageKey);
  const h = parseHeader(sealed);
  const sidHex = hex(h.sid);
  if (!constantTimeEqual(h.code, party.plan.code)) throw new ImportRefusedError("wrong-party", `the export is of session code ${hex(h.code)}, this party plays ${party.descriptor.name} (${party.descriptor.code})`);
  if (h.role !== party.role) throw new ImportRefusedError("wrong-party", `the export is of role ${JSON.stringify(h.role)}, this party plays role ${party.role}`);
  if (options.sessionKey !== undefined && options.sessionKey !== sidHex) throw new ImportRefusedError("wrong-session", `the export is of session ${sidHex}, not ${options.sessionKey}`);
  const own = highWaterMarksOf(party.core.store);
  const marks = options.marks === undefined ? own : options.marks;
  if (marks === undefined) {
    throw new Error("secsession: importSession: the party's store keeps no high-water marks: create the runtime with `store: withHighWater(store, marks)`, or pass `{ marks: null }` to rely on stored states alone (docs/save-restore.md)");
  }
  if (marks !== null && marks !== own) {
    // Marks the store does not raise are not raised by the messages accepted after the import either, so the same
    // export would import again after the next restart and the party would accept those messages twice.
    throw new Error("secsession: importSession: the marks must be the party's store's own, raised by every commit: create the runtime with `store: withHighWater(store, marks)` (docs/save-restore.md)");
  }

  // Authenticate with this party's code and role, never the header's.
  const ad = associatedData(party.plan.code, party.role, h.sid);
  const k = exportKey(party, storageKey, ad);
  const plaintext = party.core.crypto.aeadOpen(AEAD, k, h.nonce, h.ciphertext, ad);
  zeroize(k);
  if (plaintext === undefined) {
    throw new ImportRefusedError("unauthentic", "the export does not authenticate: wrong storage key, or the bytes were changed");
  }
  let st: SessionState;
  try {
    st = decodeState(plaintext);
  } catch (e: unknown) {
    throw new ImportRefusedError("malformed", "the authenticated state does not decode", { cause: e });
  } finally {
    zeroize(plaintext);
  }

  const key = party.key(st.sessionId);
  let replaced: SessionState | undefined;
  try {
    checkAgainstParty(party, st, h.sid);
    // Stale-export rule: the stored state, then the mark (it outlives deleted states).
    // Raising the mark is the only write before the commit, and only for an export newer than the mark.
    const current = await party.core.store.get(key);
    if (current !== undefined && current.version >= st.version) throw new StaleExportError(key, st.version, current.version, "state");
    if (marks !== null) {
      const prev = await marks.raise(highWaterKey(key), st.version);
      if (prev !== undefined && prev > st.version) throw new StaleExportError(key, st.version, prev, "high-water");
    }
    if (!(await party.core.store.commit(key, current?.version, st))) {
      throw new SecSessionError("conflict", `another writer changed session ${key} during the import`);
    }
    replaced = current;
  } catch (e: unknown) {
    zeroPairs(st);
    throw e;
  }
  adoptKeys(party, st, replaced);
  // Defence in depth (the state itself now refuses a replayed start); the import is done even if this fails.
  await party.core.replay.add(`${party.role}:${st.key}`, party.startRememberedUntil(st)).catch(() => false);
  if (party.plan.finishedFor(party.role).has(st.state)) scheduleTombstoneDeletion(party, key, st);
  return st;
}

/**
 * After the commit: the state the import replaced (if any) loses its keys,
 * and the imported keys enter the key vault at their versions, so that the
 * runtime retires them like any others (docs/keys.md, "Versions and enforced
 * deletion").
 */
function adoptKeys(party: Party, st: SessionState, replaced: SessionState | undefined): void {
  const vault = party.core.vault;
  vault.closeAll(`${st.key}:${party.role}:`);
  if (replaced !== undefined) zeroPairs(replaced);
  if (party.plan.finishedFor(party.role).has(st.state)) {
    zeroPairs(st); // a tombstone keeps no live key
    return;
  }
  for (const [peer, pair] of Object.entries(st.pairs)) {
    const scope = `${st.key}:${party.role}:${peer}`;
    while (vault.version(scope) < pair.version) vault.bump(scope);
    for (const b of pairKeyBuffers(pair)) if (b.some((x) => x !== 0)) vault.issue(scope, b);
  }
}

/** A finished session's tombstone is kept until its start can no longer be replayed, as Party does. */
function scheduleTombstoneDeletion(party: Party, key: string, st: SessionState): void {
  const timer = setTimeout(() => {
    void party.core.store
      .get(key)
      .then((cur) => (cur?.version === st.version ? party.core.store.delete(key) : undefined))
      .catch(() => undefined);
  }, party.startRememberedUntil(st) - party.core.now());
  timer.unref();
}
