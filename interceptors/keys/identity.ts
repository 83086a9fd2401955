/**
 * Identities and public-key lookup. A peer is named by a non-empty id (its
 * principal) and owns an Ed25519 signing key, an X25519 static key and
 * signed X25519 prekeys (medium-term keys it rotates, docs/keys.md); its
 * peers find its public keys through a KeyResolver (the Themis
 * `get_public_key_for_id` callback).
 */
import { readFileSync } from "node:fs";
import { defaultBackend, zeroize, type CryptoBackend } from "./crypto/index.js";
import { concat, hex, label, lps, u32, unhex } from "../wire/encoding.js";

/** The public half of a signed prekey, as peers see it. */
export interface SignedPrekey {
  /** Chosen by its owner, increasing with each rotation (1, 2, …). */
  readonly id: number;
  readonly publicKey: Uint8Array;
  /** Ed25519 by the owner over `prekeyStatement(owner, id, publicKey)`. */
  readonly signature: Uint8Array;
}

/** A prekey its owner holds. */
export interface Prekey extends SignedPrekey {
  readonly privateKey: Uint8Array;
}

/** Public keys of a peer. */
export interface PeerPublicKeys {
  readonly x25519: Uint8Array;
  readonly ed25519: Uint8Array;
  /** The peer's current signed prekey; first contacts toward the peer use it when present. */
  readonly prekey?: SignedPrekey;
}

/** A peer's own identity: its id and private keys. */
export interface Identity {
  readonly id: string;
  readonly x25519: { readonly publicKey: Uint8Array; readonly privateKey: Uint8Array };
  readonly ed25519: { readonly publicKey: Uint8Array; readonly privateKey: Uint8Array };
  /** Prekeys still held, oldest first; the last one is published. */
  readonly prekeys?: readonly Prekey[];
}

/** What a prekey's signature covers. */
export function prekeyStatement(owner: string, id: number, publicKey: Uint8Array): Uint8Array {
  return concat(label("prekey"), lps(owner), u32(id), publicKey);
}

/** Creates a prekey of `owner`, signed with its Ed25519 key. */
export function signedPrekey(crypto: CryptoBackend, owner: { readonly id: string; readonly ed25519: { readonly privateKey: Uint8Array } }, id: number): Prekey {
  if (!Number.isInteger(id) || id < 1 || id > 0xffffffff) throw new RangeError(`secsession: a prekey id is an integer in 1..2^32-1, got ${id}`);
  const pair = crypto.x25519KeyPair();
  return { id, publicKey: pair.publicKey, privateKey: pair.privateKey, signature: crypto.ed25519Sign(owner.ed25519.privateKey, prekeyStatement(owner.id, id, pair.publicKey)) };
}

/** Whether `prekey` is signed by the peer `owner` with Ed25519 key `ed25519`. */
export function verifyPrekey(crypto: CryptoBackend, owner: string, ed25519: Uint8Array, prekey: SignedPrekey): boolean {
  return prekey.publicKey.length === 32 && prekey.signature.length === 64 && crypto.ed25519Verify(ed25519, prekeyStatement(owner, prekey.id, prekey.publicKey), prekey.signature);
}

/** How many prekeys a rotation keeps by default: the new one and its predecessor, for peers with an old keyring. */
export const PREKEYS_KEPT = 2;

/**
 * A new prekey for `identity`, published from now on. The oldest prekeys
 * beyond `keep` are dropped and their private keys zeroed: first contacts
 * made under them can no longer be opened by anyone (forward secrecy of
 * first flights, docs/keys.md).
 */
export function rotatePrekey(identity: Identity, crypto: CryptoBackend = defaultBackend(), keep = PREKEYS_KEPT): Identity {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`secsession: a rotation keeps at least the new prekey, got keep=${keep}`);
  const held = identity.prekeys ?? [];
  const next = signedPrekey(crypto, identity, (held.at(-1)?.id ?? 0) + 1);
  const all = [...held, next];
  const dropped = all.slice(0, Math.max(0, all.length - keep));
  for (const p of dropped) zeroize(p.privateKey);
  return { ...identity, prekeys: all.slice(dropped.length) };
}

/** The private key of this identity's prekey `id`, if it still holds it. */
export function prekeyPrivate(identity: Identity, id: number): Uint8Array | undefined {
  return identity.prekeys?.find((p) => p.id === id)?.privateKey;
}

/** Finds the public keys of a principal; undefined when it is unknown. */
export type KeyResolver = (peerId: string) => PeerPublicKeys | undefined;

/** Creates an identity with fresh keys. */
export function generateIdentity(id: string, crypto: CryptoBackend = defaultBackend()): Identity {
  if (id === "") throw new Error("secsession: a peer id must not be empty");
  const base = { id, x25519: crypto.x25519KeyPair(), ed25519: crypto.ed25519KeyPair() };
  return { ...base, prekeys: [signedPrekey(crypto, base, 1)] };
}

/** The public part of an identity (with its newest prekey). */
export function publicKeysOf(i: Identity): PeerPublicKeys {
  const p = i.prekeys?.at(-1);
  return { x25519: i.x25519.publicKey, ed25519: i.ed25519.publicKey, ...(p === undefined ? {} : { prekey: { id: p.id, publicKey: p.publicKey, signature: p.signature } }) };
}

/** A resolver over a fixed set of peers. */
export function staticResolver(peers: Iterable<readonly [string, PeerPublicKeys]>): KeyResolver {
  const m = new Map(peers);
  return (id) => m.get(id);
}

/** One peer's entry in a keyring file. */
export interface KeyringEntry {
  readonly x25519: string;
  readonly ed25519: string;
  readonly prekey?: { readonly id: number; readonly x25519: string; readonly signature: string };
}

/** A keyring file: `{ "peers": { "<id>": { "x25519": "<hex>", "ed25519": "<hex>", "prekey": { "id": 1, "x25519": "<hex>", "signature": "<hex>" } } } }`. */
export interface KeyringFile {
  readonly peers: Readonly<Record<string, KeyringEntry>>;
}

/** The keyring entry of one peer's public keys. */
export function keyringEntry(k: PeerPublicKeys): KeyringEntry {
  const p = k.prekey;
  return { x25519: hex(k.x25519), ed25519: hex(k.ed25519), ...(p === undefined ? {} : { prekey: { id: p.id, x25519: hex(p.publicKey), signature: hex(p.signature) } }) };
}

/** Serialises public keys as a keyring file. */
export function keyringJson(peers: Iterable<readonly [string, PeerPublicKeys]>): string {
  const out: Record<string, KeyringEntry> = {};
  for (const [id, k] of peers) out[id] = keyringEntry(k);
  return `${JSON.stringify({ peers: out }, null, 2)}\n`;
}

/**
 * Reads a keyring file into a resolver; throws with the file name and the
 * entry at fault. A prekey whose signature does not verify under its
 * peer's Ed25519 key is refused here, so a resolver only returns signed prekeys.
 */
export function keyringResolver(path: string, crypto: CryptoBackend = defaultBackend()): KeyResolver {
  const parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<KeyringFile>;
  if (parsed.peers === undefined || parsed.peers === null || typeof parsed.peers !== "object") throw new Error(`secsession: ${path}: expected an object with "peers"`);
  const entries: Array<[string, PeerPublicKeys]> = [];
  for (const [id, k] of Object.entries(parsed.peers)) {
    const at = `secsession: ${path}: peer ${JSON.stringify(id)}`;
    const key = (v: unknown, n: number): Uint8Array | undefined => (typeof v === "string" && new RegExp(`^[0-9a-fA-F]{${2 * n}}$`).test(v) ? unhex(v.toLowerCase()) : undefined);
    const x = key(k?.x25519, 32);
    const e = key(k?.ed25519, 32);
    if (x === undefined || e === undefined) throw new Error(`${at}: expected 32-byte hex keys "x25519" and "ed25519"`);
    let prekey: SignedPrekey | undefined;
    if (k.prekey !== undefined) {
      const p = k.prekey;
      const pub = key(p?.x25519, 32);
      const sig = key(p?.signature, 64);
      if (p === null || typeof p !== "object" || !Number.isInteger(p.id) || p.id < 1 || p.id > 0xffffffff || pub === undefined || sig === undefined) {
        throw new Error(`${at}: "prekey" must be { "id": 1..2^32-1, "x25519": <32-byte hex>, "signature": <64-byte hex> }`);
      }
      prekey = { id: p.id, publicKey: pub, signature: sig };
      if (!verifyPrekey(crypto, id, e, prekey)) throw new Error(`${at}: the prekey ${p.id} is not signed by this peer's ed25519 key: get the peer's current keyring entry`);
    }
    entries.push([id, prekey === undefined ? { x25519: x, ed25519: e } : { x25519: x, ed25519: e, prekey }]);
  }
  return staticResolver(entries);
}
