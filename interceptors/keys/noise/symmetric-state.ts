/**
 * SymmetricState (Noise rev 34 §5.2): a CipherState, the chaining key ck and
 * the handshake hash h; HKDF per §4.3 with HMAC-SHA256 (HASHLEN = 32, so no
 * truncation of temp_k is ever needed).
 */
import type { CryptoBackend } from "../crypto/backend.js";
import { assertBytes, zeroize } from "../crypto/bytes.js";
import { createCipherState, type CipherState } from "./cipher-state.js";
import type { NoiseCipherName } from "./patterns.js";
import { NoiseError } from "./noise-error.js";

/** HASHLEN for SHA256 (§12.5). */
export const HASHLEN = 32;

const EMPTY = new Uint8Array(0);
const BYTE1 = Uint8Array.of(1);
const BYTE2 = Uint8Array.of(2);
const BYTE3 = Uint8Array.of(3);

/** Noise's SymmetricState (§5.2). After {@link SymmetricState.split} only `h` remains usable. */
export interface SymmetricState {
  /** The CipherState; live object, for inspection. */
  readonly cs: CipherState;
  /** The chaining key; live buffer, for inspection (zeroed when replaced and on Split). */
  readonly ck: Uint8Array;
  /** The handshake hash; live buffer, never modify it. */
  readonly h: Uint8Array;
  /** MixKey(input_key_material). */
  mixKey(ikm: Uint8Array): void;
  /** MixHash(data). */
  mixHash(data: Uint8Array): void;
  /** MixKeyAndHash(input_key_material), used for PSKs (§9). */
  mixKeyAndHash(ikm: Uint8Array): void;
  /** GetHandshakeHash(): a copy of h. */
  getHandshakeHash(): Uint8Array;
  /** EncryptAndHash(plaintext). */
  encryptAndHash(plaintext: Uint8Array): Uint8Array;
  /** DecryptAndHash(ciphertext): undefined, with no state change, when authentication fails. */
  decryptAndHash(ciphertext: Uint8Array): Uint8Array | undefined;
  /** Split(): (c1, c2); zeroes ck and the handshake CipherState's key. */
  split(): [CipherState, CipherState];
  /** An independent copy (for the handshake's verify-then-commit). */
  clone(): SymmetricState;
  /** Zeroes ck and k (h is public transcript data and stays readable). */
  destroy(): void;
}

/** InitializeSymmetric(protocol_name) (§5.2). */
export function createSymmetricState(backend: CryptoBackend, cipher: NoiseCipherName, protocolName: string): SymmetricState {
  const name = new TextEncoder().encode(protocolName);
  let h: Uint8Array;
  if (name.length <= HASHLEN) {
    h = new Uint8Array(HASHLEN); // protocol_name padded with zero bytes
    h.set(name);
  } else {
    h = backend.sha256(name);
  }
  return new NoiseSymmetricState(backend, createCipherState(backend, cipher), h.slice(), h);
}

class NoiseSymmetricState implements SymmetricState {
  private retired = false;

  constructor(
    private readonly backend: CryptoBackend,
    private cipherState: CipherState,
    private chainingKey: Uint8Array,
    private hash: Uint8Array,
  ) {}

  get cs(): CipherState {
    return this.cipherState;
  }

  get ck(): Uint8Array {
    return this.chainingKey;
  }

  get h(): Uint8Array {
    return this.hash;
  }

  mixKey(ikm: Uint8Array): void {
    this.assertLive("MixKey");
    assertBytes("SymmetricState.mixKey: ikm", ikm);
    const [ck, tempK] = this.hkdf2(ikm);
    this.replaceCk(ck);
    this.cipherState.initializeKey(tempK); // copies
    zeroize(tempK);
  }

  mixHash(data: Uint8Array): void {
    this.assertLive("MixHash");
    assertBytes("SymmetricState.mixHash: data", data);
    this.hash = this.backend.sha256(this.hash, data);
  }

  mixKeyAndHash(ikm: Uint8Array): void {
    this.assertLive("MixKeyAndHash");
    assertBytes("SymmetricState.mixKeyAndHash: ikm", ikm);
    const [ck, tempH, tempK] = this.hkdf3(ikm);
    this.replaceCk(ck);
    this.mixHash(tempH);
    this.cipherState.initializeKey(tempK);
    zeroize(tempH, tempK);
  }

  getHandshakeHash(): Uint8Array {
    return this.hash.slice();
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    this.assertLive("EncryptAndHash");
    const ciphertext = this.cipherState.encryptWithAd(this.hash, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  decryptAndHash(ciphertext: Uint8Array): Uint8Array | undefined {
    this.assertLive("DecryptAndHash");
    const plaintext = this.cipherState.decryptWithAd(this.hash, ciphertext);
    if (plaintext !== undefined) this.mixHash(ciphertext); // h only moves on success
    return plaintext;
  }

  split(): [CipherState, CipherState] {
    this.assertLive("Split");
    const [k1, k2] = this.hkdf2(EMPTY);
    const c1 = createCipherState(this.backend, this.cipherState.cipher, k1);
    const c2 = createCipherState(this.backend, this.cipherState.cipher, k2);
    zeroize(k1, k2);
    this.destroy();
    return [c1, c2];
  }

  clone(): SymmetricState {
    this.assertLive("clone");
    return new NoiseSymmetricState(this.backend, this.cipherState.clone(), this.chainingKey.slice(), this.hash.slice());
  }

  destroy(): void {
    zeroize(this.chainingKey);
    this.cipherState.destroy();
    this.retired = true;
  }

  /** HKDF(chaining_key, input_key_material, 2) (§4.3). */
  private hkdf2(ikm: Uint8Array): [Uint8Array, Uint8Array] {
    const [o1, o2, tempKey] = this.hkdfCore(ikm);
    zeroize(tempKey);
    return [o1, o2];
  }

  /** HKDF(chaining_key, input_key_material, 3) (§4.3). */
  private hkdf3(ikm: Uint8Array): [Uint8Array, Uint8Array, Uint8Array] {
    const [o1, o2, tempKey] = this.hkdfCore(ikm);
    const o3 = this.backend.hmacSha256(tempKey, o2, BYTE3);
    zeroize(tempKey);
    return [o1, o2, o3];
  }

  /** temp_key = HMAC(ck, ikm); output1 = HMAC(temp_key, 0x01); output2 = HMAC(temp_key, output1 || 0x02). */
  private hkdfCore(ikm: Uint8Array): [Uint8Array, Uint8Array, Uint8Array] {
    const tempKey = this.backend.hmacSha256(this.chainingKey, ikm);
    const o1 = this.backend.hmacSha256(tempKey, BYTE1);
    const o2 = this.backend.hmacSha256(tempKey, o1, BYTE2);
    return [o1, o2, tempKey];
  }

  /** Installs a new chaining key, zeroing the retired one. */
  private replaceCk(ck: Uint8Array): void {
    zeroize(this.chainingKey);
    this.chainingKey = ck;
  }

  private assertLive(op: string): void {
    if (this.retired) throw new NoiseError("invalid-state", `${op}() after Split(): the SymmetricState is retired`);
  }
}
