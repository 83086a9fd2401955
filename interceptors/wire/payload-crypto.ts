/**
 * Payload privacy: AEAD of the payload for the addressed role, with the
 * header as associated data (docs/protocol.md, "Privacy").
 *
 *   payload = nonce ‖ AEAD(key, nonce, plaintext, ad)
 *   nonce   = fresh random bytes (12, or 24 for XSalsa20-Poly1305)
 *   ad      = label("payload") ‖ lp(sid) ‖ u32(edge) ‖ u64(step) ‖ lps(sender) ‖ lps(receiver) ‖ u32(key version)
 *
 * The nonce is random rather than the step: two copies of one saved state
 * (a restored export, a replica that lost a race) may both seal at the same
 * step under the same key, and must still never reuse (key, nonce). Under
 * one key version a pair sends far fewer than the 2³² messages that bound
 * random 96-bit nonces.
 *
 * XSalsa20-Poly1305 (NaCl secretbox) takes no associated data: for it the
 * header is bound by the key instead, key' = HMAC-SHA256(key, ad), with no AD.
 */
import type { PrivacyTechnique } from "../descriptor/types.js";
import { aeadNonceLength, zeroize, type CryptoBackend } from "../keys/crypto/index.js";
import { concat, label, lp, lps, u32, u64 } from "./encoding.js";

export interface PayloadHeader {
  readonly sid: Uint8Array;
  readonly edge: number;
  readonly step: bigint;
  readonly sender: string;
  readonly receiver: string;
  readonly keyVersion: number;
}

function ad(h: PayloadHeader): Uint8Array {
  return concat(label("payload"), lp(h.sid), u32(h.edge), u64(h.step), lps(h.sender), lps(h.receiver), u32(h.keyVersion));
}

const NO_AD = new Uint8Array(0);

/** Runs `f` with the key and associated data the algorithm takes. */
function withHeader<T>(c: CryptoBackend, alg: Exclude<PrivacyTechnique, "none">, key: Uint8Array, h: PayloadHeader, f: (k: Uint8Array, a: Uint8Array) => T): T {
  if (alg !== "xsalsa20-poly1305") return f(key, ad(h));
  const bound = c.hmacSha256(key, ad(h));
  try {
    return f(bound, NO_AD);
  } finally {
    zeroize(bound);
  }
}

/** Encrypts a payload under a fresh random nonce, which it carries in front. */
export function sealPayload(c: CryptoBackend, alg: Exclude<PrivacyTechnique, "none">, key: Uint8Array, h: PayloadHeader, plaintext: Uint8Array): Uint8Array {
  const nonce = c.randomBytes(aeadNonceLength(alg));
  const sealed = withHeader(c, alg, key, h, (k, a) => c.aeadSeal(alg, k, nonce, plaintext, a));
  const out = new Uint8Array(nonce.length + sealed.length);
  out.set(nonce);
  out.set(sealed, nonce.length);
  return out;
}

/** Decrypts a payload; undefined when it is too short or does not authenticate. */
export function openPayload(c: CryptoBackend, alg: Exclude<PrivacyTechnique, "none">, key: Uint8Array, h: PayloadHeader, payload: Uint8Array): Uint8Array | undefined {
  const n = aeadNonceLength(alg);
  if (payload.length < n) return undefined;
  return withHeader(c, alg, key, h, (k, a) => c.aeadOpen(alg, k, payload.subarray(0, n), payload.subarray(n), a));
}
