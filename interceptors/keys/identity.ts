/**
 * Identities and public-key lookup. A peer is named by a non-empty id (its
 * principal) and owns an Ed25519 signing key and an X25519 static key; its
 * peers find its public keys through a KeyResolver (the Themis
 * `get_public_key_for_id` callback).
 */
import { readFileSync } from "node:fs";
import { defaultBackend, type CryptoBackend } from "./crypto/index.js";
import { hex, unhex } from "../wire/encoding.js";

/** Public keys of a peer. */
export interface PeerPublicKeys {
  readonly x25519: Uint8Array;
  readonly ed25519: Uint8Array;
}

/** A peer's own identity: its id and private keys. */
export interface Identity {
  readonly id: string;
  readonly x25519: { readonly publicKey: Uint8Array; readonly privateKey: Uint8Array };
  readonly ed25519: { readonly publicKey: Uint8Array; readonly privateKey: Uint8Array };
}

/** Finds the public keys of a principal; undefined when it is unknown. */
export type KeyResolver = (peerId: string) => PeerPublicKeys | undefined;

/** Creates an identity with fresh keys. */
export function generateIdentity(id: string, crypto: CryptoBackend = defaultBackend()): Identity {
  if (id === "") throw new Error("secsession: a peer id must not be empty");
  return { id, x25519: crypto.x25519KeyPair(), ed25519: crypto.ed25519KeyPair() };
}

/** The public part of an identity. */
export function publicKeysOf(i: Identity): PeerPublicKeys {
  return { x25519: i.x25519.publicKey, ed25519: i.ed25519.publicKey };
}

/** A resolver over a fixed set of peers. */
export function staticResolver(peers: Iterable<readonly [string, PeerPublicKeys]>): KeyResolver {
  const m = new Map(peers);
  return (id) => m.get(id);
}

/** A keyring file: `{ "peers": { "<id>": { "x25519": "<hex>", "ed25519": "<hex>" } } }`. */
export interface KeyringFile {
  readonly peers: Readonly<Record<string, { readonly x25519: string; readonly ed25519: string }>>;
}

/** Serialises public keys as a keyring file. */
export function keyringJson(peers: Iterable<readonly [string, PeerPublicKeys]>): string {
  const out: Record<string, { x25519: string; ed25519: string }> = {};
  for (const [id, k] of peers) out[id] = { x25519: hex(k.x25519), ed25519: hex(k.ed25519) };
  return `${JSON.stringify({ peers: out }, null, 2)}\n`;
}

/** Reads a keyring file into a resolver; throws with the file name and the entry at fault. */
export function keyringResolver(path: string): KeyResolver {
  const parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<KeyringFile>;
  if (parsed.peers === undefined || typeof parsed.peers !== "object") throw new Error(`secsession: ${path}: expected an object with "peers"`);
  const entries: Array<[string, PeerPublicKeys]> = [];
  for (const [id, k] of Object.entries(parsed.peers)) {
    const x = unhex(k.x25519 ?? "");
    const e = unhex(k.ed25519 ?? "");
    if (x.length !== 32 || e.length !== 32) throw new Error(`secsession: ${path}: peer ${JSON.stringify(id)}: expected 32-byte hex keys`);
    entries.push([id, { x25519: x, ed25519: e }]);
  }
  return staticResolver(entries);
}
