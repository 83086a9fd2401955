/**
 * Private key files: one JSON object per peer, written by `secsession keygen`
 * with file mode 0600.
 *
 *   {
 *     "format": "secsession.key.v1",
 *     "id": "alice",
 *     "x25519": { "publicKey": "<64 hex>", "privateKey": "<64 hex>" },
 *     "ed25519": { "publicKey": "<64 hex>", "privateKey": "<64 hex: the RFC 8032 seed>" },
 *     "prekeys": [{ "id": 1, "publicKey": "<64 hex>", "privateKey": "<64 hex>", "signature": "<128 hex>" }]
 *   }
 *
 * `prekeys` lists the signed prekeys still held, oldest first; the last one
 * is published. Rotating (`secsession keygen --rotate-prekey`) rewrites the
 * file without the dropped ones.
 *
 * The public half goes into a keyring file (`KeyringFile`, read by
 * `loadKeyring`), which is what peers and the evidence verifier read.
 *
 * @example
 *   const runtime = createSessionRuntime({
 *     identity: loadIdentity("keys/alice.key.json"),
 *     resolver: loadKeyring("keys/keyring.json"),
 *   });
 */
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { defaultBackend, type CryptoBackend } from "./crypto/index.js";
import { keyringResolver, verifyPrekey, type Identity, type KeyResolver, type Prekey } from "./identity.js";
import { hex, unhex } from "../wire/encoding.js";

/** The `format` of the key files this code writes and reads. */
export const KEY_FILE_FORMAT = "secsession.key.v1";

/** The JSON text of a key file (with its private keys). */
export function identityJson(i: Identity): string {
  return `${JSON.stringify(
    {
      format: KEY_FILE_FORMAT,
      id: i.id,
      x25519: { publicKey: hex(i.x25519.publicKey), privateKey: hex(i.x25519.privateKey) },
      ed25519: { publicKey: hex(i.ed25519.publicKey), privateKey: hex(i.ed25519.privateKey) },
      ...(i.prekeys === undefined ? {} : { prekeys: i.prekeys.map((p) => ({ id: p.id, publicKey: hex(p.publicKey), privateKey: hex(p.privateKey), signature: hex(p.signature) })) }),
    },
    null,
    2,
  )}\n`;
}

/**
 * Writes a key file with mode 0600 (atomically: a temporary file renamed
 * into place). Refuses to replace an existing file unless `force`.
 */
export function writeIdentity(path: string, i: Identity, options: { force?: boolean } = {}): void {
  if (options.force !== true && existsSync(path)) throw new Error(`${path} already exists: it holds a private key; pass --force to replace it`);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, identityJson(i), { mode: 0o600, flag: "wx" });
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
  } catch (e: unknown) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Reads a key file back into an Identity. Throws with the file name and
 * what is wrong; checks that each public key belongs to its private key.
 */
export function loadIdentity(path: string, crypto: CryptoBackend = defaultBackend()): Identity {
  const parsed = readJson(path, "key file");
  const fail = (what: string): never => {
    throw new Error(`secsession: ${path}: ${what} (a key file is written by \`secsession keygen <peer-id>\`)`);
  };
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return fail("expected a JSON object");
  const o = parsed as Record<string, unknown>;
  // Files of the first keygen have no "format"; any other value is a format this code does not know.
  if (o["format"] !== undefined && o["format"] !== KEY_FILE_FORMAT) fail(`unknown "format" ${JSON.stringify(o["format"])}, expected ${JSON.stringify(KEY_FILE_FORMAT)}`);
  const id = o["id"];
  if (typeof id !== "string" || id === "") return fail(`expected a non-empty string "id"`);
  const pair = (name: "x25519" | "ed25519") => {
    const p = o[name] as Record<string, unknown> | undefined;
    if (p === null || typeof p !== "object") return fail(`expected an object "${name}"`);
    const keys = ["publicKey", "privateKey"].map((k) => {
      const v = p[k];
      if (typeof v !== "string" || !/^[0-9a-f]{64}$/.test(v)) return fail(`${name}.${k} must be 32 bytes of lowercase hex`);
      return unhex(v);
    });
    return { publicKey: keys[0]!, privateKey: keys[1]! };
  };
  const x25519 = pair("x25519");
  const ed25519 = pair("ed25519");
  if (hex(crypto.x25519KeyPair(x25519.privateKey).publicKey) !== hex(x25519.publicKey)) fail("x25519.publicKey is not the public key of x25519.privateKey");
  if (hex(crypto.ed25519KeyPair(ed25519.privateKey).publicKey) !== hex(ed25519.publicKey)) fail("ed25519.publicKey is not the public key of ed25519.privateKey");
  if (o["prekeys"] === undefined) return { id, x25519, ed25519 };
  if (!Array.isArray(o["prekeys"])) return fail(`"prekeys" must be an array`);
  const prekeys: Prekey[] = (o["prekeys"] as unknown[]).map((raw, n) => {
    const p = raw as Record<string, unknown> | null;
    const at = `prekeys[${n}]`;
    if (p === null || typeof p !== "object") return fail(`${at} must be an object`);
    const idv = p["id"];
    if (typeof idv !== "number" || !Number.isInteger(idv) || idv < 1 || idv > 0xffffffff) return fail(`${at}.id must be an integer in 1..2^32-1`);
    const field = (k: string, len: number) => {
      const v = p[k];
      if (typeof v !== "string" || !new RegExp(`^[0-9a-f]{${2 * len}}$`).test(v)) return fail(`${at}.${k} must be ${len} bytes of lowercase hex`);
      return unhex(v);
    };
    const pre: Prekey = { id: idv, publicKey: field("publicKey", 32), privateKey: field("privateKey", 32), signature: field("signature", 64) };
    if (hex(crypto.x25519KeyPair(pre.privateKey).publicKey) !== hex(pre.publicKey)) fail(`${at}.publicKey is not the public key of its privateKey`);
    if (!verifyPrekey(crypto, id, ed25519.publicKey, pre)) fail(`${at}.signature does not verify under ed25519.publicKey`);
    return pre;
  });
  for (let n = 1; n < prekeys.length; n++) if (prekeys[n]!.id <= prekeys[n - 1]!.id) fail(`"prekeys" must be in increasing id order`);
  return { id, x25519, ed25519, prekeys };
}

/**
 * Reads a keyring file (`{ "peers": { "<id>": { "x25519": …, "ed25519": … } } }`,
 * written by `secsession keygen --keyring`) into a resolver of the peers'
 * public keys. Throws with the file name and what is wrong: not JSON, not an
 * object with a `peers` object, no peer at all, or an entry at fault (the
 * entries are checked by `keyringResolver`, which also refuses a prekey its
 * peer did not sign).
 */
export function loadKeyring(path: string, crypto: CryptoBackend = defaultBackend()): KeyResolver {
  const parsed = readJson(path, "keyring file");
  const fail = (what: string): never => {
    throw new Error(`secsession: ${path}: ${what} (a keyring file is written by \`secsession keygen <peer-id> --keyring FILE\`)`);
  };
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return fail(`expected a JSON object with "peers", got ${parsed === null ? "null" : Array.isArray(parsed) ? "an array" : typeof parsed}`);
  const peers = (parsed as Record<string, unknown>)["peers"];
  if (peers === undefined) return fail(`expected an object "peers" (peer id → public keys), found no "peers"`);
  if (peers === null || typeof peers !== "object" || Array.isArray(peers)) return fail(`"peers" must be an object mapping each peer id to its public keys, got ${peers === null ? "null" : Array.isArray(peers) ? "an array" : typeof peers}`);
  if (Object.keys(peers).length === 0) return fail(`"peers" lists no peer`);
  return keyringResolver(path, crypto);
}

/** The JSON value in file `path`; an error naming the file when it cannot be read or is not JSON. */
function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e: unknown) {
    throw new Error(`secsession: ${path}: cannot read the ${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e: unknown) {
    throw new Error(`secsession: ${path}: the ${what} is not JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
