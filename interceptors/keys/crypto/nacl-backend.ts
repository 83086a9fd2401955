/**
 * The portable backend: pure JavaScript, no node:crypto. tweetnacl provides
 * X25519, Ed25519 and XSalsa20-Poly1305; @noble/hashes provides SHA-256,
 * SHA-512 and HMAC; @noble/ciphers provides ChaCha20-Poly1305 and AES-256-GCM.
 */
import nacl from "tweetnacl";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { hmac } from "@noble/hashes/hmac.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { gcm } from "@noble/ciphers/aes.js";
import { AEAD_TAG_LENGTH, assertAeadArgs, assertByteCount, type AeadAlgorithm, type CryptoBackend, type KeyPair } from "./backend.js";
import { assertBytes, isAllZero, zeroize } from "./bytes.js";

/** Creates the portable pure-JS backend. It holds no state. */
export function createNaclBackend(): CryptoBackend {
  return new NaclBackend();
}

class NaclBackend implements CryptoBackend {
  readonly name = "tweetnacl" as const;

  randomBytes(n: number): Uint8Array {
    assertByteCount("randomBytes", n);
    return nacl.randomBytes(n);
  }

  sha256(...parts: Uint8Array[]): Uint8Array {
    const h = sha256.create();
    for (const [i, p] of parts.entries()) h.update(checked(`sha256: parts[${i}]`, p));
    return h.digest();
  }

  hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
    assertBytes("hmacSha256: key", key);
    const m = hmac.create(sha256, key);
    for (const [i, p] of parts.entries()) m.update(checked(`hmacSha256: parts[${i}]`, p));
    return m.digest();
  }

  hmacSha512(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
    assertBytes("hmacSha512: key", key);
    const m = hmac.create(sha512, key);
    for (const [i, p] of parts.entries()) m.update(checked(`hmacSha512: parts[${i}]`, p));
    return m.digest();
  }

  x25519KeyPair(privateKey?: Uint8Array): KeyPair {
    const priv = privateKey === undefined ? nacl.randomBytes(32) : copyOf("x25519KeyPair: privateKey", privateKey, 32);
    return { publicKey: nacl.scalarMult.base(priv), privateKey: priv };
  }

  x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
    assertBytes("x25519: privateKey", privateKey, 32);
    assertBytes("x25519: publicKey", publicKey, 32);
    // tweetnacl clamps the scalar and masks the top bit of the u-coordinate (RFC 7748 §5).
    return rejectLowOrder(nacl.scalarMult(privateKey, publicKey));
  }

  ed25519KeyPair(seed?: Uint8Array): KeyPair {
    const s = seed === undefined ? nacl.randomBytes(32) : copyOf("ed25519KeyPair: seed", seed, 32);
    const kp = nacl.sign.keyPair.fromSeed(s);
    zeroize(kp.secretKey); // tweetnacl's 64-byte seed || publicKey form; we keep the seed only
    return { publicKey: kp.publicKey, privateKey: s };
  }

  ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
    assertBytes("ed25519Sign: seed", seed, 32);
    assertBytes("ed25519Sign: message", message);
    const kp = nacl.sign.keyPair.fromSeed(seed);
    try {
      return nacl.sign.detached(message, kp.secretKey);
    } finally {
      zeroize(kp.secretKey);
    }
  }

  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    assertBytes("ed25519Verify: publicKey", publicKey, 32);
    assertBytes("ed25519Verify: message", message);
    if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
    // RFC 8032 §5.1.7 step 1 requires rejecting S >= L; tweetnacl does not check
    // it, OpenSSL does, so check here to make both backends agree.
    if (!isCanonicalScalar(signature.subarray(32))) return false;
    try {
      return nacl.sign.detached.verify(message, signature, publicKey);
    } catch {
      return false;
    }
  }

  aeadSeal(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
    assertAeadArgs("aeadSeal", alg, key, nonce, plaintext, ad);
    switch (alg) {
      case "chacha20-poly1305":
        return chacha20poly1305(key, nonce, ad).encrypt(plaintext);
      case "aes-256-gcm":
        return gcm(key, nonce, ad).encrypt(plaintext);
      case "xsalsa20-poly1305":
        return secretboxSeal(key, nonce, plaintext);
    }
  }

  aeadOpen(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Uint8Array | undefined {
    assertAeadArgs("aeadOpen", alg, key, nonce, ciphertext, ad);
    if (ciphertext.length < AEAD_TAG_LENGTH) return undefined;
    try {
      switch (alg) {
        case "chacha20-poly1305":
          return chacha20poly1305(key, nonce, ad).decrypt(ciphertext);
        case "aes-256-gcm":
          return gcm(key, nonce, ad).decrypt(ciphertext);
        case "xsalsa20-poly1305":
          return secretboxOpen(key, nonce, ciphertext);
      }
    } catch {
      return undefined; // noble throws on a bad tag; the tag is checked before any plaintext is produced
    }
  }
}

/**
 * NaCl `crypto_secretbox` (XSalsa20-Poly1305): output `tag || ct`. Shared by
 * both backends because node:crypto has no XSalsa20. Arguments must already be checked.
 */
export function secretboxSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array {
  return nacl.secretbox(plaintext, nonce, key);
}

/** NaCl `crypto_secretbox_open`; undefined when the tag does not verify. Arguments must already be checked. */
export function secretboxOpen(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined {
  return nacl.secretbox.open(ciphertext, nonce, key) ?? undefined;
}

/** Throws when an X25519 output is all zeros (low-order input point, RFC 7748 §6.1), zeroing it first. */
export function rejectLowOrder(shared: Uint8Array): Uint8Array {
  if (isAllZero(shared)) {
    zeroize(shared);
    throw new RangeError("secsession: x25519: shared secret is all zeros (low-order public key)");
  }
  return shared;
}

/** The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian (RFC 8032 §5.1). */
const ORDER_L = Uint8Array.from([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
]);

/** S < L for a 32-byte little-endian scalar (public data, so a variable-time compare is fine). */
function isCanonicalScalar(s: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const a = s[i] as number;
    const b = ORDER_L[i] as number;
    if (a !== b) return a < b;
  }
  return false; // S == L
}

function checked(name: string, p: Uint8Array): Uint8Array {
  assertBytes(name, p);
  return p;
}

function copyOf(name: string, b: Uint8Array, length: number): Uint8Array {
  assertBytes(name, b, length);
  return b.slice();
}
