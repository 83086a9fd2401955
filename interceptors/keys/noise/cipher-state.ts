/**
 * CipherState (Noise rev 34 §5.1): a key k and a nonce n. Cipher functions per
 * §12.3 (ChaChaPoly) and §12.4 (AESGCM); REKEY per §4.2 / §11.3.
 */
import type { AeadAlgorithm, CryptoBackend } from "../crypto/backend.js";
import { assertBytes, zeroize } from "../crypto/bytes.js";
import type { NoiseCipherName } from "./patterns.js";
import { NoiseError } from "./noise-error.js";

/** 2^64-1: never used to encrypt a message, reserved for REKEY (§5.1, §4.2). */
export const MAX_NONCE = 0xffff_ffff_ffff_ffffn;

const EMPTY = new Uint8Array(0);

/** Noise's CipherState (§5.1). */
export interface CipherState {
  readonly cipher: NoiseCipherName;
  /**
   * The key k: the live buffer, or undefined while "empty". Exposed for
   * inspection (tests check it is zeroed on retirement); never retain or modify it.
   */
  readonly k: Uint8Array | undefined;
  /** The nonce n of the next message. */
  readonly n: bigint;
  /** InitializeKey(key): copies `key` (or sets k empty) and sets n = 0; zeroes the previous k. */
  initializeKey(key: Uint8Array | undefined): void;
  /** HasKey(). */
  hasKey(): boolean;
  /** SetNonce(nonce). */
  setNonce(nonce: bigint): void;
  /** EncryptWithAd(ad, plaintext): returns a copy of the plaintext while k is empty. */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /**
   * DecryptWithAd(ad, ciphertext): undefined when authentication fails, and
   * then n is not incremented (§5.1) and nothing else changes either.
   */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined;
  /** Rekey(): k = REKEY(k) (§4.2); n is unchanged. */
  rekey(): void;
  /** An independent copy (the handshake works on copies and commits them, see handshake-state.ts). */
  clone(): CipherState;
  /** Zeroes k and sets it empty: the state is retired. */
  destroy(): void;
}

/** Creates a CipherState for `cipher`, empty or with a copy of `key` (§5.1 InitializeKey). */
export function createCipherState(backend: CryptoBackend, cipher: NoiseCipherName, key?: Uint8Array): CipherState {
  const cs = new NoiseCipherState(backend, cipher);
  cs.initializeKey(key);
  return cs;
}

class NoiseCipherState implements CipherState {
  private key: Uint8Array | undefined = undefined;
  private nonce = 0n;
  private readonly alg: AeadAlgorithm;

  constructor(
    private readonly backend: CryptoBackend,
    readonly cipher: NoiseCipherName,
  ) {
    this.alg = cipher === "ChaChaPoly" ? "chacha20-poly1305" : "aes-256-gcm";
  }

  get k(): Uint8Array | undefined {
    return this.key;
  }

  get n(): bigint {
    return this.nonce;
  }

  initializeKey(key: Uint8Array | undefined): void {
    if (key !== undefined) assertBytes("CipherState.initializeKey: key", key, 32);
    zeroize(this.key);
    this.key = key?.slice();
    this.nonce = 0n;
  }

  hasKey(): boolean {
    return this.key !== undefined;
  }

  setNonce(nonce: bigint): void {
    if (typeof nonce !== "bigint" || nonce < 0n || nonce > MAX_NONCE) {
      throw new RangeError(`secsession: CipherState.setNonce: expected 0 <= n <= 2^64-1, got ${String(nonce)}`);
    }
    this.nonce = nonce;
  }

  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    assertBytes("CipherState.encryptWithAd: ad", ad);
    assertBytes("CipherState.encryptWithAd: plaintext", plaintext);
    if (this.key === undefined) return plaintext.slice();
    const out = this.backend.aeadSeal(this.alg, this.key, this.nonceBytes(this.usableNonce()), plaintext, ad);
    this.nonce++;
    return out;
  }

  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined {
    assertBytes("CipherState.decryptWithAd: ad", ad);
    assertBytes("CipherState.decryptWithAd: ciphertext", ciphertext);
    if (this.key === undefined) return ciphertext.slice();
    const out = this.backend.aeadOpen(this.alg, this.key, this.nonceBytes(this.usableNonce()), ciphertext, ad);
    if (out !== undefined) this.nonce++;
    return out;
  }

  rekey(): void {
    if (this.key === undefined) throw new NoiseError("invalid-state", "Rekey() on a CipherState without a key");
    // §4.2 / §11.3: REKEY(k) = the first 32 bytes of ENCRYPT(k, maxnonce, zerolen, zeros).
    const out = this.backend.aeadSeal(this.alg, this.key, this.nonceBytes(MAX_NONCE), new Uint8Array(32), EMPTY);
    zeroize(this.key);
    this.key = out.slice(0, 32);
    zeroize(out);
  }

  clone(): CipherState {
    const c = new NoiseCipherState(this.backend, this.cipher);
    c.key = this.key?.slice();
    c.nonce = this.nonce;
    return c;
  }

  destroy(): void {
    zeroize(this.key);
    this.key = undefined;
  }

  /** §5.1: n = 2^64-1 is reserved; using it for a message is an error. */
  private usableNonce(): bigint {
    if (this.nonce >= MAX_NONCE) throw new NoiseError("nonce-exhausted", "nonce 2^64-1 is reserved; rekey or start a new session");
    return this.nonce;
  }

  /** §12.3: 32 zero bits then little-endian n (ChaChaPoly); §12.4: 32 zero bits then big-endian n (AESGCM). */
  private nonceBytes(n: bigint): Uint8Array {
    const out = new Uint8Array(12);
    new DataView(out.buffer).setBigUint64(4, n, this.cipher === "ChaChaPoly");
    return out;
  }
}
