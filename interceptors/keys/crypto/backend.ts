/**
 * The crypto backend interface: every primitive the key-establishment code
 * uses (SHA-256, HMAC-SHA256 and HMAC-SHA512, X25519, Ed25519, three AEADs) behind one
 * interface, so that the same protocol code runs over node:crypto or over
 * portable pure-JS libraries, and both can be checked against each other.
 */
import { assertBytes } from "./bytes.js";

/**
 * An AEAD construction.
 *
 * - `"chacha20-poly1305"`: RFC 8439 §2.8, 12-byte nonce, output `ct || tag`.
 * - `"aes-256-gcm"`: NIST SP 800-38D, 12-byte nonce, output `ct || tag`.
 * - `"xsalsa20-poly1305"`: NaCl `crypto_secretbox`, 24-byte nonce, output
 *   `tag || ct` (NaCl's layout); it has no associated data, so `ad` must be empty.
 */
export type AeadAlgorithm = "chacha20-poly1305" | "aes-256-gcm" | "xsalsa20-poly1305";

/** A public/private key pair; for Ed25519 the private key is the 32-byte seed (RFC 8032 §5.1.5). */
export interface KeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: Uint8Array;
}

/** Key length of every supported AEAD, in bytes. */
export const AEAD_KEY_LENGTH = 32;

/** Tag length of every supported AEAD, in bytes. */
export const AEAD_TAG_LENGTH = 16;

/**
 * The primitives used by the key-establishment code. Implementations never
 * keep secrets between calls and never return buffers that alias an argument.
 * Misuse (wrong key or nonce lengths, unknown algorithm) throws; expected
 * failures (bad tag, bad signature) are reported by the return value.
 */
export interface CryptoBackend {
  /** Which implementation this is. */
  readonly name: "node" | "tweetnacl";
  /** `n` bytes from a CSPRNG. */
  randomBytes(n: number): Uint8Array;
  /** SHA-256 (FIPS 180-4) of the concatenation of `parts`. */
  sha256(...parts: Uint8Array[]): Uint8Array;
  /** HMAC-SHA256 (RFC 2104) of the concatenation of `parts` under `key`. */
  hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array;
  /** HMAC-SHA512 (RFC 2104, FIPS 180-4) of the concatenation of `parts` under `key`: 64 bytes. */
  hmacSha512(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array;
  /** An X25519 key pair: the public key of `privateKey` (32 bytes), or a fresh pair. */
  x25519KeyPair(privateKey?: Uint8Array): KeyPair;
  /**
   * X25519(privateKey, publicKey) (RFC 7748 §5). Throws when the shared secret
   * is all zeros, i.e. the public key is a low-order point (RFC 7748 §6.1).
   */
  x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  /** An Ed25519 key pair from a 32-byte seed, or a fresh one; `privateKey` is the seed. */
  ed25519KeyPair(seed?: Uint8Array): KeyPair;
  /** A 64-byte Ed25519 signature (RFC 8032 §5.1.6) of `message` by the key of `seed`. */
  ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  /**
   * Verifies an Ed25519 signature (RFC 8032 §5.1.7, rejecting S >= L). Returns
   * false, never throws, for any malformed signature; a public key that is not
   * 32 bytes is a programming error and throws.
   */
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  /** Encrypts and authenticates `plaintext` and `ad`; see {@link AeadAlgorithm} for the layout. */
  aeadSeal(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array;
  /** Decrypts `ciphertext`; undefined when authentication fails or it is shorter than a tag. */
  aeadOpen(
    alg: AeadAlgorithm,
    key: Uint8Array,
    nonce: Uint8Array,
    ciphertext: Uint8Array,
    ad: Uint8Array,
  ): Uint8Array | undefined;
}

/** The nonce length of `alg` in bytes: 12, or 24 for XSalsa20-Poly1305. */
export function aeadNonceLength(alg: AeadAlgorithm): number {
  switch (alg) {
    case "chacha20-poly1305":
    case "aes-256-gcm":
      return 12;
    case "xsalsa20-poly1305":
      return 24;
    default:
      throw new TypeError(`secsession: aead: unknown algorithm ${JSON.stringify(alg as unknown)}`);
  }
}

/**
 * Entry-point checks shared by both backends' `aeadSeal` / `aeadOpen`
 * (`data` is the plaintext or the ciphertext). Not part of the public surface.
 */
export function assertAeadArgs(
  op: "aeadSeal" | "aeadOpen",
  alg: AeadAlgorithm,
  key: Uint8Array,
  nonce: Uint8Array,
  data: Uint8Array,
  ad: Uint8Array,
): void {
  const nonceLength = aeadNonceLength(alg);
  assertBytes(`${op}(${alg}): key`, key, AEAD_KEY_LENGTH);
  assertBytes(`${op}(${alg}): nonce`, nonce, nonceLength);
  assertBytes(`${op}(${alg}): ${op === "aeadSeal" ? "plaintext" : "ciphertext"}`, data);
  assertBytes(`${op}(${alg}): ad`, ad);
  if (alg === "xsalsa20-poly1305" && ad.length !== 0) {
    throw new RangeError(`secsession: ${op}(${alg}): ad: expected 0 bytes (secretbox has no associated data), got ${ad.length}`);
  }
}

/** Entry-point check of a byte count for `randomBytes`. */
export function assertByteCount(name: string, n: unknown): asserts n is number {
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`secsession: ${name}: expected a non-negative integer, got ${String(n)}`);
  }
}
