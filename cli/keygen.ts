/**
 * `secsession keygen <peer-id>`: writes a peer's key file (private, mode 0600)
 * and its public entry, merged into a keyring file if one is named.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateIdentity, keyringJson, type KeyringFile } from "../interceptors/index.js";
import { hex } from "../interceptors/wire/encoding.js";

export interface KeygenOptions {
  readonly id: string;
  readonly out: string;
  readonly keyring: string | undefined;
  readonly force: boolean;
}

/** Writes the key file and the keyring entry; returns what it wrote, for the user. */
export function keygen(o: KeygenOptions): string[] {
  if (o.id === "" || /[\s/\\]/.test(o.id)) throw new UsageError(`a peer id must be non-empty, without spaces or slashes: ${JSON.stringify(o.id)}`);
  const keyFile = join(o.out, `${o.id}.key.json`);
  if (existsSync(keyFile) && !o.force) throw new UsageError(`${keyFile} exists: pass --force to replace it (the old private keys are lost)`);
  const identity = generateIdentity(o.id);
  const secret = {
    id: o.id,
    x25519: { publicKey: hex(identity.x25519.publicKey), privateKey: hex(identity.x25519.privateKey) },
    ed25519: { publicKey: hex(identity.ed25519.publicKey), privateKey: hex(identity.ed25519.privateKey) },
  };
  writeFileSync(keyFile, `${JSON.stringify(secret, null, 2)}\n`, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  const entry = keyringJson([[o.id, { x25519: identity.x25519.publicKey, ed25519: identity.ed25519.publicKey }]]);
  const written = [`${keyFile} (private keys, mode 0600)`];
  if (o.keyring === undefined) return [...written, `public entry:\n${entry}`];
  const ring: KeyringFile = existsSync(o.keyring) ? (JSON.parse(readFileSync(o.keyring, "utf8")) as KeyringFile) : { peers: {} };
  const mine = (JSON.parse(entry) as KeyringFile).peers[o.id]!;
  const old = ring.peers?.[o.id];
  if (old !== undefined && (old.x25519 !== mine.x25519 || old.ed25519 !== mine.ed25519) && !o.force) {
    throw new UsageError(`${o.keyring} already holds other keys for ${o.id}: pass --force to replace them`);
  }
  writeFileSync(o.keyring, `${JSON.stringify({ peers: { ...(ring.peers ?? {}), [o.id]: mine } }, null, 2)}\n`);
  return [...written, `${o.keyring} (public entry of ${o.id} added)`];
}

/** A mistake in how the command was called (exit code 2). */
export class UsageError extends Error {}
