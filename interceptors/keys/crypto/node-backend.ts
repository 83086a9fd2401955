/**
 * The node:crypto backend (OpenSSL): the fast default. XSalsa20-Poly1305 is
 * not in node:crypto, so that one AEAD goes through tweetnacl's secretbox,
 * exactly as in the portable backend.
 *
 * Raw X25519/Ed25519 keys are imported as JWK: on Node 20 / OpenSSL 3 this is
 * about 10x faster than PKCS#8/SPKI DER, whose import goes through OpenSSL's
 * generic decoder (~370 µs against ~35 µs per private key). The KeyObjects of
 * the 256 most recently used private keys are cached per key buffer (checked
 * against a hash of the buffer's bytes on every use) and dropped the moment
 * the buffer is zeroized (`onZeroize`), so a retired key leaves no KeyObject we hold;
 * OpenSSL clears the key when the dropped object is collected. Public keys
 * are cached the same way, compared byte for byte. The price of JWK: the
 * base64url string of a private key is an immutable JS string that cannot be
 * zeroed and lingers until GC (once per key now, not once per use).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  randomBytes,
  sign,
  verify,
  type CipherChaCha20Poly1305,
  type CipherGCM,
  type DecipherChaCha20Poly1305,
  type DecipherGCM,
  type KeyObject,
} from "node:crypto";
import * as nodeCrypto from "node:crypto";
import { AEAD_TAG_LENGTH, assertAeadArgs, assertByteCount, type AeadAlgorithm, type CryptoBackend, type KeyPair } from "./backend.js";
import { assertBytes, constantTimeEqual, onZeroize, zeroize } from "./bytes.js";
import { rejectLowOrder, secretboxOpen, secretboxSeal } from "./nacl-backend.js";

/** node:crypto's one-shot `hash(algorithm, data, "buffer")` (Node ≥ 20.12), when this Node has it. */
const oneShot = (nodeCrypto as { hash?: (algorithm: string, data: Uint8Array, encoding: "buffer") => Buffer }).hash;

/** Creates the node:crypto backend. It holds no state; {@link defaultBackend} shares one. */
export function createNodeBackend(): CryptoBackend {
  return new NodeBackend();
}

type Curve = "X25519" | "Ed25519";

class NodeBackend implements CryptoBackend {
  readonly name = "node" as const;

  randomBytes(n: number): Uint8Array {
    assertByteCount("randomBytes", n);
    return small(randomBytes(n));
  }

  sha256(...parts: Uint8Array[]): Uint8Array {
    // One part (most calls): node's one-shot hash, without a Hash object.
    if (parts.length === 1 && oneShot !== undefined && parts[0] instanceof Uint8Array) return small(oneShot("sha256", parts[0], "buffer"));
    const h = createHash("sha256");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (!(p instanceof Uint8Array)) assertBytes(`sha256: parts[${i}]`, p);
      h.update(p);
    }
    return small(h.digest());
  }

  hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
    return hmac("sha256", key, parts);
  }

  hmacSha512(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
    return hmac("sha512", key, parts);
  }

  x25519KeyPair(privateKey?: Uint8Array): KeyPair {
    const priv = privateKey === undefined ? this.randomBytes(32) : copyOf("x25519KeyPair: privateKey", privateKey);
    return { publicKey: publicOf(privateKeyObject("X25519", priv)), privateKey: priv };
  }

  x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
    assertBytes("x25519: privateKey", privateKey, 32);
    assertBytes("x25519: publicKey", publicKey, 32);
    let shared: Uint8Array;
    try {
      shared = view(diffieHellman({ privateKey: privateKeyObject("X25519", privateKey), publicKey: publicKeyObject("X25519", publicKey) }));
    } catch (e) {
      // OpenSSL refuses to derive an all-zero secret (RFC 7748 §6.1) and says only
      // "failed during derivation"; report it in the same words as the nacl backend.
      if ((e as { code?: unknown }).code === "ERR_OSSL_FAILED_DURING_DERIVATION") rejectLowOrder(new Uint8Array(32));
      throw e;
    }
    return rejectLowOrder(shared);
  }

  ed25519KeyPair(seed?: Uint8Array): KeyPair {
    const s = seed === undefined ? this.randomBytes(32) : copyOf("ed25519KeyPair: seed", seed);
    return { publicKey: publicOf(privateKeyObject("Ed25519", s)), privateKey: s };
  }

  ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
    assertBytes("ed25519Sign: seed", seed, 32);
    assertBytes("ed25519Sign: message", message);
    return view(sign(null, message, privateKeyObject("Ed25519", seed)));
  }

  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    assertBytes("ed25519Verify: publicKey", publicKey, 32);
    assertBytes("ed25519Verify: message", message);
    if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
    try {
      // OpenSSL rejects S >= L (RFC 8032 §5.1.7) and undecodable points.
      return verify(null, message, publicKeyObject("Ed25519", publicKey), signature);
    } catch {
      return false;
    }
  }

  aeadSeal(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
    assertAeadArgs("aeadSeal", alg, key, nonce, plaintext, ad);
    if (alg === "xsalsa20-poly1305") return secretboxSeal(key, nonce, plaintext);
    const c = cipherOf(alg, key, nonce);
    c.setAAD(ad, { plaintextLength: plaintext.length });
    const out = new Uint8Array(plaintext.length + AEAD_TAG_LENGTH);
    const body = c.update(plaintext);
    out.set(body);
    const tail = c.final(); // empty for stream-like AEADs, kept for completeness
    out.set(tail, body.length);
    out.set(c.getAuthTag(), body.length + tail.length);
    return out;
  }

  aeadOpen(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Uint8Array | undefined {
    assertAeadArgs("aeadOpen", alg, key, nonce, ciphertext, ad);
    if (ciphertext.length < AEAD_TAG_LENGTH) return undefined;
    if (alg === "xsalsa20-poly1305") return secretboxOpen(key, nonce, ciphertext);
    const split = ciphertext.length - AEAD_TAG_LENGTH;
    const d = decipherOf(alg, key, nonce);
    d.setAuthTag(ciphertext.subarray(split));
    d.setAAD(ad, { plaintextLength: split });
    // OpenSSL streams: `update` releases plaintext before `final` checks the tag,
    // so it is zeroed when the tag turns out to be wrong.
    const body = d.update(ciphertext.subarray(0, split));
    try {
      const tail = d.final();
      if (tail.length === 0) return view(body);
      const out = new Uint8Array(body.length + tail.length);
      out.set(body);
      out.set(tail, body.length);
      zeroize(body, tail);
      return out;
    } catch {
      zeroize(body);
      return undefined;
    }
  }
}

// One call per literal so that TypeScript picks the AEAD overloads of createCipheriv.
function cipherOf(alg: "chacha20-poly1305" | "aes-256-gcm", key: Uint8Array, nonce: Uint8Array): CipherGCM | CipherChaCha20Poly1305 {
  const options = { authTagLength: AEAD_TAG_LENGTH };
  return alg === "aes-256-gcm" ? createCipheriv(alg, key, nonce, options) : createCipheriv(alg, key, nonce, options);
}

function decipherOf(alg: "chacha20-poly1305" | "aes-256-gcm", key: Uint8Array, nonce: Uint8Array): DecipherGCM | DecipherChaCha20Poly1305 {
  const options = { authTagLength: AEAD_TAG_LENGTH };
  return alg === "aes-256-gcm" ? createDecipheriv(alg, key, nonce, options) : createDecipheriv(alg, key, nonce, options);
}

/** HMAC of the concatenation of `parts` (the `name` of errors is the backend method's). */
function hmac(alg: "sha256" | "sha512", key: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
  const name = alg === "sha256" ? "hmacSha256" : "hmacSha512";
  assertBytes(`${name}: key`, key);
  const m = createHmac(alg, key);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (!(p instanceof Uint8Array)) assertBytes(`${name}: parts[${i}]`, p);
    m.update(p);
  }
  return small(m.digest());
}

/**
 * Up to 64 bytes (keys, tags, hashes): copied into a fresh Uint8Array, which V8
 * keeps on its own heap, and the Buffer node:crypto returned, which has its own
 * off-heap backing store and costs several times its size, is zeroed. Sessions
 * hold many such keys. Longer outputs stay views.
 */
function small(b: Buffer): Uint8Array {
  if (b.length > 64) return view(b);
  const out = new Uint8Array(b.length);
  out.set(b);
  b.fill(0);
  return out;
}

/** A plain Uint8Array view over a Buffer's bytes (no copy), so callers can zeroize it in place. */
function view(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function b64url(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64url");
}

/**
 * Imports a raw 32-byte private key. Node's JWK import requires an `x` member
 * but ignores it for a private key (it derives the public key from `d`), so we
 * pass an empty one rather than pay for a second derivation; the RFC test
 * vectors in the test suite would catch any change in that behaviour.
 */
function importPrivate(crv: Curve, raw: Uint8Array): KeyObject {
  return createPrivateKey({ key: { kty: "OKP", crv, d: b64url(raw), x: "" }, format: "jwk" });
}

/**
 * The most recently used entries per key buffer, at most `max`: an idle
 * session's keys fall out (their KeyObjects weigh more than the keys), the
 * keys in use stay.
 */
class RecentlyUsed<V> {
  private readonly map = new Map<Uint8Array, V>();
  constructor(private readonly max: number) {}
  get(k: Uint8Array): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: Uint8Array, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }
  delete(k: Uint8Array): void {
    this.map.delete(k);
  }
}

/** KeyObjects of raw private keys, per buffer, with a hash of the bytes they were made from. */
const privateObjects = new RecentlyUsed<{ readonly crv: Curve; readonly digest: Uint8Array; readonly key: KeyObject }>(256);
/** KeyObjects of raw public keys, per buffer, with a copy of the bytes they were made from. */
const publicObjects = new RecentlyUsed<{ readonly crv: Curve; readonly bytes: Uint8Array; readonly key: KeyObject }>(256);
onZeroize((b) => {
  privateObjects.delete(b);
  publicObjects.delete(b);
});

function digestOf(raw: Uint8Array): Uint8Array {
  return view(createHash("sha256").update(raw).digest());
}

/** The KeyObject of a raw private key buffer, imported once per buffer and contents. */
function privateKeyObject(crv: Curve, raw: Uint8Array): KeyObject {
  const hit = privateObjects.get(raw);
  const digest = digestOf(raw);
  if (hit !== undefined && hit.crv === crv && constantTimeEqual(hit.digest, digest)) return hit.key;
  const key = importPrivate(crv, raw);
  privateObjects.set(raw, { crv, digest, key });
  return key;
}

/** The KeyObject of a raw public key buffer, imported once per buffer and contents. */
function publicKeyObject(crv: Curve, raw: Uint8Array): KeyObject {
  const hit = publicObjects.get(raw);
  if (hit !== undefined && hit.crv === crv && hit.bytes.length === raw.length && hit.bytes.every((x, i) => x === raw[i])) return hit.key;
  const key = importPublic(crv, raw);
  publicObjects.set(raw, { crv, bytes: raw.slice(), key });
  return key;
}

function importPublic(crv: Curve, raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: "OKP", crv, x: b64url(raw) }, format: "jwk" });
}

function publicOf(privateKey: KeyObject): Uint8Array {
  const { x } = createPublicKey(privateKey).export({ format: "jwk" });
  if (typeof x !== "string") throw new Error("secsession: node:crypto exported a JWK without x");
  return small(Buffer.from(x, "base64url")); // a copy: a short Buffer.from is a view into a shared 8 KiB pool
}

function copyOf(name: string, b: Uint8Array): Uint8Array {
  assertBytes(name, b, 32);
  return b.slice();
}
