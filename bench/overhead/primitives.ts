/**
 * The raw cost of the primitives the protection uses, through our crypto
 * backend (as the runtime calls them) and, for comparison, with key objects
 * imported once (what a cached KeyObject would give); and a backend wrapper
 * that counts the operations a run performs.
 */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, sign, verify } from "node:crypto";
import { performance } from "node:perf_hooks";
import { defaultBackend, type CryptoBackend } from "../../interceptors/keys/crypto/index.js";
import { median } from "./stats.js";

/** Microseconds per call of each primitive (median of `reps` timed batches). */
export type PrimitiveCosts = Record<string, number>;

function time(n: number, reps: number, f: () => unknown): number {
  for (let i = 0; i < Math.min(100, n); i++) f();
  const runs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    for (let i = 0; i < n; i++) f();
    runs.push(((performance.now() - t) * 1000) / n);
  }
  return median(runs);
}

/** Measures the primitives (a few seconds). */
export function measurePrimitives(reps = 5): PrimitiveCosts {
  const c = defaultBackend();
  const x = c.x25519KeyPair();
  const y = c.x25519KeyPair();
  const e = c.ed25519KeyPair();
  const msg = c.randomBytes(150); // an attestation input is 100-200 bytes
  const sig = c.ed25519Sign(e.privateKey, msg);
  const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64url");
  const edPriv = createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", d: b64(e.privateKey), x: b64(e.publicKey) }, format: "jwk" });
  const edPub = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: b64(e.publicKey) }, format: "jwk" });
  const xa = generateKeyPairSync("x25519");
  const xb = generateKeyPairSync("x25519");
  const key = c.randomBytes(32);
  const nonce = new Uint8Array(12);
  const payload = c.randomBytes(64);
  return {
    "sha256 (150 B)": time(5000, reps, () => c.sha256(msg)),
    "hmacSha256 (150 B)": time(5000, reps, () => c.hmacSha256(key, msg)),
    "chacha20-poly1305 seal (64 B)": time(5000, reps, () => c.aeadSeal("chacha20-poly1305", key, nonce, payload, msg)),
    "ed25519Sign (backend)": time(500, reps, () => c.ed25519Sign(e.privateKey, msg)),
    "ed25519Verify (backend)": time(500, reps, () => c.ed25519Verify(e.publicKey, msg, sig)),
    "ed25519 sign (cached KeyObject)": time(500, reps, () => sign(null, msg, edPriv)),
    "ed25519 verify (cached KeyObject)": time(500, reps, () => verify(null, msg, edPub, sig)),
    "x25519KeyPair (backend)": time(500, reps, () => c.x25519KeyPair()),
    "x25519 (backend)": time(500, reps, () => c.x25519(x.privateKey, y.publicKey)),
    "x25519 keygen (generateKeyPairSync)": time(500, reps, () => generateKeyPairSync("x25519")),
    "x25519 (KeyObjects)": time(500, reps, () => diffieHellman({ privateKey: xa.privateKey, publicKey: xb.publicKey })),
  };
}

/** Operation counts of a counting backend. */
export interface OpCounts {
  ed25519Sign: number;
  ed25519Verify: number;
  x25519: number;
  x25519KeyPair: number;
  hmacSha256: number;
  sha256: number;
  aead: number;
}

/** The default backend, counting the operations that go through it. */
export function countingBackend(): { backend: CryptoBackend; counts: OpCounts } {
  const inner = defaultBackend();
  const counts: OpCounts = { ed25519Sign: 0, ed25519Verify: 0, x25519: 0, x25519KeyPair: 0, hmacSha256: 0, sha256: 0, aead: 0 };
  const backend: CryptoBackend = {
    name: inner.name,
    randomBytes: (n) => inner.randomBytes(n),
    sha256: (...p) => (counts.sha256++, inner.sha256(...p)),
    hmacSha256: (k, ...p) => (counts.hmacSha256++, inner.hmacSha256(k, ...p)),
    hmacSha512: (k, ...p) => (counts.hmacSha256++, inner.hmacSha512(k, ...p)), // counted with the HMACs (one call each)
    x25519KeyPair: (k) => (counts.x25519KeyPair++, inner.x25519KeyPair(k)),
    x25519: (a, b) => (counts.x25519++, inner.x25519(a, b)),
    ed25519KeyPair: (s) => inner.ed25519KeyPair(s),
    ed25519Sign: (s, m) => (counts.ed25519Sign++, inner.ed25519Sign(s, m)),
    ed25519Verify: (p, m, s) => (counts.ed25519Verify++, inner.ed25519Verify(p, m, s)),
    aeadSeal: (...a) => (counts.aead++, inner.aeadSeal(...a)),
    aeadOpen: (...a) => (counts.aead++, inner.aeadOpen(...a)),
  };
  return { backend, counts };
}
