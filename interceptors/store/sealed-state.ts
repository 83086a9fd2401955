/**
 * Session states as a networked store keeps them (docs/scale-out.md,
 * "Sealing"): the canonical encoding of state-codec.ts under
 * ChaCha20-Poly1305, with the key derived from the deployment's 32-byte
 * storage key and bound to the exact store key and version, so a sealed state
 * neither reads as another session's nor as another version of its own.
 *
 *   value = "SSRS" ‖ u8(1) ‖ nonce (12) ‖ ChaCha20-Poly1305(k, nonce, encodeState(st), ad)
 *   ad    = label("stored-state") ‖ u32(1) ‖ lps(store key) ‖ u64(version)
 *   k     = HKDF-SHA256(salt = 0³², ikm = storage key, info = label("stored-state key") ‖ lps(store key))
 *
 * The sealed export (export.ts) has the same construction but binds a party's
 * code, role and session id; here the binding is the store key itself
 * (namespace prefix included), because a store knows keys, not parties.
 */
import { aeadNonceLength, constantTimeEqual, zeroize, type CryptoBackend } from "../keys/crypto/index.js";
import { hkdf32 } from "../keys/pairwise.js";
import type { SessionState } from "../monitor/state.js";
import { concat, label, lps, u32, u64 } from "../wire/encoding.js";
import { decodeState, encodeState, pairKeyBuffers } from "./state-codec.js";

/** The version of the stored-state format this build writes and reads. */
export const STORED_STATE_FORMAT_VERSION = 1;

const MAGIC = Uint8Array.of(0x53, 0x53, 0x52, 0x53); // "SSRS"
const AEAD = "chacha20-poly1305";
const NONCE = aeadNonceLength(AEAD);
const TAG = 16;
const ZERO32 = new Uint8Array(32);

/** A stored value that is not a sealed state of this key and version (wrong storage key, moved, altered). */
export class SealedStateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`secsession: stored state: ${message}`, options);
    this.name = "SealedStateError";
  }
}

/** Checks a storage key: exactly 32 bytes. */
export function checkStorageKey(k: unknown): asserts k is Uint8Array {
  if (!(k instanceof Uint8Array) || k.length !== 32) {
    throw new RangeError(`secsession: a storage key is 32 bytes, got ${k instanceof Uint8Array ? `${k.length} bytes` : typeof k}`);
  }
}

function associatedData(storeKey: string, version: number): Uint8Array {
  return concat(label("stored-state"), u32(STORED_STATE_FORMAT_VERSION), lps(storeKey), u64(BigInt(version)));
}

function sealingKey(c: CryptoBackend, storageKey: Uint8Array, storeKey: string): Uint8Array {
  return hkdf32(c, ZERO32, storageKey, concat(label("stored-state key"), lps(storeKey)));
}

/** Seals `st` for the store key `storeKey` (the state's version is bound too). */
export function sealStoredState(c: CryptoBackend, storageKey: Uint8Array, storeKey: string, st: SessionState): Uint8Array {
  checkStorageKey(storageKey);
  const plaintext = encodeState(st);
  const k = sealingKey(c, storageKey, storeKey);
  try {
    const nonce = c.randomBytes(NONCE);
    return concat(MAGIC, Uint8Array.of(STORED_STATE_FORMAT_VERSION), nonce, c.aeadSeal(AEAD, k, nonce, plaintext, associatedData(storeKey, st.version)));
  } finally {
    zeroize(plaintext, k);
  }
}

/**
 * Opens a value stored under `storeKey` whose version field reads `version`.
 * Throws SealedStateError for anything that is not exactly such a value.
 */
export function openStoredState(c: CryptoBackend, storageKey: Uint8Array, storeKey: string, version: number, sealed: Uint8Array): SessionState {
  checkStorageKey(storageKey);
  const head = MAGIC.length + 1;
  if (sealed.length < head + NONCE + TAG || !constantTimeEqual(sealed.subarray(0, MAGIC.length), MAGIC)) {
    throw new SealedStateError(`the value under ${storeKey} is not a sealed session state`);
  }
  if (sealed[MAGIC.length] !== STORED_STATE_FORMAT_VERSION) {
    throw new SealedStateError(`the value under ${storeKey} has format version ${sealed[MAGIC.length]}, this build reads ${STORED_STATE_FORMAT_VERSION}`);
  }
  const nonce = sealed.subarray(head, head + NONCE);
  const k = sealingKey(c, storageKey, storeKey);
  const plaintext = c.aeadOpen(AEAD, k, nonce, sealed.subarray(head + NONCE), associatedData(storeKey, version));
  zeroize(k);
  if (plaintext === undefined) {
    throw new SealedStateError(`the value under ${storeKey} does not authenticate as version ${version} of that key: wrong storage key, moved from another key, or altered`);
  }
  try {
    const st = decodeState(plaintext);
    if (st.version !== version) {
      zeroStateKeys(st);
      throw new SealedStateError(`the value under ${storeKey} holds version ${st.version}, its version field says ${version}`);
    }
    return st;
  } catch (e: unknown) {
    if (e instanceof SealedStateError) throw e;
    throw new SealedStateError(`the authenticated value under ${storeKey} does not decode`, { cause: e });
  } finally {
    zeroize(plaintext);
  }
}

/** Zeroes every key buffer of a state's pair channels. */
export function zeroStateKeys(st: SessionState): void {
  for (const p of Object.values(st.pairs)) zeroize(...pairKeyBuffers(p));
}
