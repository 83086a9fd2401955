/**
 * Prekeys shared by the replicas of one principal (docs/keys.md, "Rotation
 * across replicas"). Replicas of a role run under one identity; a prekey
 * rotated on one of them must be held by all, or a first contact made under
 * the new prekey fails wherever the call lands. A PrekeySource is where the
 * principal's prekey set is published: the replica that rotates reads the
 * newest set, adds a prekey and writes it by compare-and-set; every replica
 * reads it again periodically and adopts a newer set.
 *
 * The set is sealed by the runtime, not by the source: ChaCha20-Poly1305
 * under a key only the principal's identity can derive
 * (HKDF(salt = label("prekey-source"), ikm = own X25519 private key,
 * info = lps(owner))), with the owner in the associated data, and every
 * prekey read back must carry the owner's Ed25519 signature. So a source
 * (Redis, a file) learns no private key, and one who can write to it can
 * neither add a prekey nor move a replica's set backwards (an older set is
 * never adopted: adoption is by the newest prekey id).
 *
 *   plaintext = u8(version 1) ‖ u8(n) ‖ n × (u32(id) ‖ public key 32 ‖ private key 32 ‖ signature 64)
 *   sealed    = nonce 12 ‖ AEAD(plaintext, ad = label("prekey-set") ‖ lps(owner))
 */
import { concat, label, lps, u32 } from "../wire/encoding.js";
import { constantTimeEqual, zeroize, type CryptoBackend } from "./crypto/index.js";
import { verifyPrekey, type Identity, type Prekey } from "./identity.js";
import { hkdf32 } from "./pairwise.js";

/** Where one principal's sealed prekey set is published (shared by its replicas). */
export interface PrekeySource {
  /** The published set, or undefined when none was published yet. */
  read(): Promise<Uint8Array | undefined>;
  /** Publishes `next` if the published set still is `expected` (undefined: none); false when another writer came first. */
  write(expected: Uint8Array | undefined, next: Uint8Array): Promise<boolean>;
}

/** A source in this process's memory (replicas in one process, and tests). */
export function createMemoryPrekeySource(): PrekeySource {
  let current: Uint8Array | undefined;
  return {
    read: async () => current?.slice(),
    async write(expected, next) {
      const same = expected === undefined ? current === undefined : current !== undefined && constantTimeEqual(current, expected);
      if (!same) return false;
      current = next.slice();
      return true;
    },
  };
}

const ENTRY = 4 + 32 + 32 + 64;
const NONCE = 12;

function sealKey(c: CryptoBackend, identity: Identity): Uint8Array {
  return hkdf32(c, label("prekey-source"), identity.x25519.privateKey, lps(identity.id));
}
const ad = (owner: string) => concat(label("prekey-set"), lps(owner));

/** Seals `prekeys` of `identity` for a source. */
export function sealPrekeySet(c: CryptoBackend, identity: Identity, prekeys: readonly Prekey[]): Uint8Array {
  if (prekeys.length > 255) throw new RangeError("secsession: a prekey set holds at most 255 prekeys");
  const plain = new Uint8Array(2 + prekeys.length * ENTRY);
  plain[0] = 1;
  plain[1] = prekeys.length;
  prekeys.forEach((p, i) => {
    const at = 2 + i * ENTRY;
    plain.set(u32(p.id), at);
    plain.set(p.publicKey, at + 4);
    plain.set(p.privateKey, at + 36);
    plain.set(p.signature, at + 68);
  });
  const key = sealKey(c, identity);
  const nonce = c.randomBytes(NONCE);
  const sealed = concat(nonce, c.aeadSeal("chacha20-poly1305", key, nonce, plain, ad(identity.id)));
  zeroize(key, plain);
  return sealed;
}

/** Opens a set sealed by `sealPrekeySet` for `identity`; throws when it is not one (tampered, another principal's, a bad signature). */
export function openPrekeySet(c: CryptoBackend, identity: Identity, sealed: Uint8Array): Prekey[] {
  const fail = (why: string): never => {
    throw new Error(`secsession: the published prekey set of ${identity.id} ${why}`);
  };
  if (sealed.length < NONCE + 16) fail("is too short");
  const key = sealKey(c, identity);
  const plain = c.aeadOpen("chacha20-poly1305", key, sealed.subarray(0, NONCE), sealed.subarray(NONCE), ad(identity.id));
  zeroize(key);
  if (plain === undefined) return fail("does not open under this identity (tampered, or sealed by another principal)");
  try {
    if (plain[0] !== 1) fail(`has format ${plain[0]}, not 1`);
    const n = plain[1] ?? 0;
    if (plain.length !== 2 + n * ENTRY) fail("has the wrong length");
    const out: Prekey[] = [];
    for (let i = 0; i < n; i++) {
      const at = 2 + i * ENTRY;
      const id = new DataView(plain.buffer, plain.byteOffset + at, 4).getUint32(0);
      const p: Prekey = { id, publicKey: plain.slice(at + 4, at + 36), privateKey: plain.slice(at + 36, at + 68), signature: plain.slice(at + 68, at + 132) };
      if (!verifyPrekey(c, identity.id, identity.ed25519.publicKey, p)) fail(`holds prekey ${id} without a valid signature of ${identity.id}`);
      if (i > 0 && id <= out[i - 1]!.id) fail("is not in increasing id order");
      out.push(p);
    }
    return out;
  } finally {
    zeroize(plain);
  }
}
