/**
 * Static pairwise keys: the MAC key of two principals in one session, from
 * their long-term X25519 keys (no forward secrecy; the Noise handshake and
 * ratchet replace these keys when key establishment is `noise`).
 *
 *   K = HKDF-SHA256(ikm = X25519(own, peer), salt = session id,
 *                   info = label("pairwise") || lp(min id) || lp(max id))   (RFC 5869)
 */
import { concat, label, lps } from "../wire/encoding.js";
import { zeroize, type CryptoBackend } from "./crypto/index.js";

/** HKDF-SHA256 with one output block (RFC 5869 §2.2–2.3, L = 32). */
export function hkdf32(c: CryptoBackend, salt: Uint8Array, ikm: Uint8Array, info: Uint8Array): Uint8Array {
  const prk = c.hmacSha256(salt, ikm);
  const okm = c.hmacSha256(prk, concat(info, Uint8Array.of(1)));
  zeroize(prk);
  return okm;
}

const ONE = Uint8Array.of(1);

/**
 * HKDF-SHA512-Expand(prk, info, 64) (RFC 5869 §2.3, one block): 64 bytes,
 * HMAC-SHA512(prk, info ‖ 0x01). For a `prk` that is already a uniform key
 * (a root: an HKDF output), with no extract before it (RFC 5869 §3.3).
 */
export function expand64(c: CryptoBackend, prk: Uint8Array, ...info: Uint8Array[]): Uint8Array {
  return c.hmacSha512(prk, ...info, ONE);
}

/** HKDF-SHA512 (RFC 5869) with one 64-byte output block: extract with `salt`, then {@link expand64}. */
export function hkdf64(c: CryptoBackend, salt: Uint8Array, ikm: Uint8Array, info: Uint8Array): Uint8Array {
  const prk = c.hmacSha512(salt, ikm);
  const okm = expand64(c, prk, info);
  zeroize(prk);
  return okm;
}

/** The static pairwise key of `selfId` and `peerId` in session `sid`. */
export function staticPairwiseKey(
  c: CryptoBackend,
  ownPrivate: Uint8Array,
  peerPublic: Uint8Array,
  selfId: string,
  peerId: string,
  sid: Uint8Array,
): Uint8Array {
  const dh = c.x25519(ownPrivate, peerPublic);
  const [a, b] = selfId < peerId ? [selfId, peerId] : [peerId, selfId];
  const key = hkdf32(c, sid, dh, concat(label("pairwise"), lps(a), lps(b)));
  zeroize(dh);
  return key;
}
