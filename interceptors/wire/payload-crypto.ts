/**
 * Payload privacy: AEAD of the payload for the addressed role, with the
 * header as associated data (docs/protocol.md, "Privacy").
 *
 *   nonce = zeros ‖ u64(step)   (12 bytes, or 24 for XSalsa20-Poly1305)
 *   ad    = label("payload") ‖ lp(sid) ‖ u32(edge) ‖ u64(step) ‖ lps(sender) ‖ lps(receiver) ‖ u32(key version)
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

function nonce(alg: Exclude<PrivacyTechnique, "none">, step: bigint): Uint8Array {
  const n = new Uint8Array(aeadNonceLength(alg));
  n.set(u64(step), n.length - 8);
  return n;
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

/** Encrypts a payload; every step is used once per session, so (key, nonce) never repeats. */
export function sealPayload(c: CryptoBackend, alg: Exclude<PrivacyTechnique, "none">, key: Uint8Array, h: PayloadHeader, plaintext: Uint8Array): Uint8Array {
  return withHeader(c, alg, key, h, (k, a) => c.aeadSeal(alg, k, nonce(alg, h.step), plaintext, a));
}

/** Decrypts a payload; undefined when it does not authenticate. */
export function openPayload(c: CryptoBackend, alg: Exclude<PrivacyTechnique, "none">, key: Uint8Array, h: PayloadHeader, ciphertext: Uint8Array): Uint8Array | undefined {
  return withHeader(c, alg, key, h, (k, a) => c.aeadOpen(alg, k, nonce(alg, h.step), ciphertext, a));
}
