/**
 * `secsession keygen <peer-id> [--out DIR] [--keyring FILE] [--force]`:
 * a fresh identity (X25519 and Ed25519 keys, a signed prekey) for one peer;
 * with `--rotate-prekey`, a new prekey for an existing one.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { generateIdentity, keyringJson, publicKeysOf, rotatePrekey, PREKEYS_KEPT, type Identity } from "../../interceptors/keys/identity.js";
import { hex } from "../../interceptors/wire/encoding.js";
import { loadIdentity, writeIdentity } from "../../interceptors/keys/key-file.js";
import { EXIT, parse, UsageError, type Command, type Io } from "../command.js";

export const keygen: Command = {
  kind: "command",
  summary: "create a peer's keys: <id>.key.json (private) and its public keyring entry; or rotate its prekey",
  usage: "secsession keygen <peer-id> [--out DIR] [--keyring FILE] [--force | --rotate-prekey]",
  help: `Usage: secsession keygen <peer-id> [--out DIR] [--keyring FILE] [--force]
       secsession keygen <peer-id> --rotate-prekey [--out DIR] [--keyring FILE]

Creates fresh X25519 and Ed25519 keys and a signed X25519 prekey for the peer <peer-id> (its principal).

With --rotate-prekey, reads DIR/<peer-id>.key.json and gives it a new signed prekey, published from now on; the
file keeps the new prekey and its predecessor (peers with the previous keyring can still make first contact) and
drops older ones. A first flight sent under a dropped prekey can no longer be decrypted by anyone, even with every
long-term key (docs/keys.md): rotate regularly, e.g. daily.

  Writes  DIR/<peer-id>.key.json  the private key file, mode 0600: keep it secret;
                                  the peer's runtime loads it (loadIdentity, exported by secsession)
  Prints  what it wrote, then the public keyring entry
          { "peers": { "<peer-id>": { "x25519": "<hex>", "ed25519": "<hex>" } } }
          to hand to the other peers (or merged into --keyring FILE)

Options:
  --out DIR        where to write the key file (default: the current directory; created if missing)
  --keyring FILE   also merge the public entry into this keyring file (created if missing);
                   refuses if it already has a different key for <peer-id>
  --force          replace an existing key file and an existing keyring entry for <peer-id>
  --rotate-prekey  rotate the prekey of the existing key file (its other keys stay) and update --keyring
  -h, --help       this help

Exit codes: 0 done, 2 usage error or refusal (nothing is written then).`,
  async run(args: readonly string[], io: Io): Promise<number> {
    const { values, positionals } = parse(
      args,
      { out: { type: "string" }, keyring: { type: "string" }, force: { type: "boolean", default: false }, "rotate-prekey": { type: "boolean", default: false } },
      { min: 1, max: 1, names: "<peer-id>" },
    );
    const id = positionals[0]!;
    if (id === "") throw new UsageError("the peer id must not be empty");
    if (/[/\\\0]/.test(id) || id === "." || id === "..") throw new UsageError(`peer id ${JSON.stringify(id)} cannot be used in a file name: use one without "/", "\\" or NUL`);
    const force = values.force === true;
    const rotate = values["rotate-prekey"] === true;
    if (rotate && force) throw new UsageError("--rotate-prekey keeps the peer's keys and --force replaces them: pass one of them");
    const dir = resolve(io.cwd, values.out ?? ".");
    const keyFile = join(dir, `${id}.key.json`);
    if (!force && !rotate && existsSync(keyFile)) throw new UsageError(`${keyFile} exists: pass --rotate-prekey to give it a new prekey, or --force to replace it (its private keys are lost), or choose another --out`);
    let previous: Identity | undefined;
    if (rotate) {
      if (!existsSync(keyFile)) throw new UsageError(`${keyFile} does not exist: create the peer's keys first with \`secsession keygen ${id}\`${values.out === undefined ? "" : ` --out ${values.out}`}, or point --out at its directory`);
      try {
        previous = loadIdentity(keyFile);
      } catch (e: unknown) {
        throw new UsageError(`${e instanceof Error ? e.message : String(e)}`);
      }
      if (previous.id !== id) throw new UsageError(`${keyFile} holds the keys of ${JSON.stringify(previous.id)}, not ${JSON.stringify(id)}`);
    }

    // Check the keyring before writing anything: a refusal writes nothing.
    const keyringPath = values.keyring === undefined ? undefined : resolve(io.cwd, values.keyring);
    let peers: Record<string, unknown> = {};
    if (keyringPath !== undefined && existsSync(keyringPath)) {
      peers = readKeyring(keyringPath);
      if (id in peers && !force) {
        const e = peers[id] as { x25519?: unknown; ed25519?: unknown } | null;
        const same = previous !== undefined && e !== null && e.x25519 === hex(previous.x25519.publicKey) && e.ed25519 === hex(previous.ed25519.publicKey);
        if (!same) {
          throw new UsageError(
            previous === undefined
              ? `${keyringPath} already has a key for ${JSON.stringify(id)}: pass --force to replace it (peers holding the old key must get the new keyring)`
              : `${keyringPath} has other keys for ${JSON.stringify(id)} than ${keyFile}: fix the keyring, or choose the key file it belongs to`,
          );
        }
      }
    }

    const identity = previous === undefined ? generateIdentity(id) : rotatePrekey(previous);
    const entry = keyringJson([[id, publicKeysOf(identity)]]);
    mkdirSync(dir, { recursive: true });
    writeIdentity(keyFile, identity, { force: force || rotate });
    if (previous === undefined) io.out(`wrote ${keyFile} (private keys, mode 0600: keep it secret; the peer's runtime loads it)\n`);
    else {
      const held = identity.prekeys!.map((p) => p.id);
      const dropped = (previous.prekeys ?? []).filter((p) => !held.includes(p.id)).map((p) => p.id);
      io.out(
        `wrote ${keyFile}: publishing prekey ${held.at(-1)}; holding prekeys ${held.join(", ")} (the ${PREKEYS_KEPT} newest)` +
          `${dropped.length === 0 ? "" : `; dropped prekey${dropped.length === 1 ? "" : "s"} ${dropped.join(", ")} (erased)`}\n` +
          `restart the peer's runtime to load it, and hand the new public entry to its peers\n`,
      );
    }
    if (keyringPath !== undefined) {
      const replaced = id in peers;
      const merged = { peers: { ...peers, ...(JSON.parse(entry) as { peers: Record<string, unknown> }).peers } };
      const tmp = `${keyringPath}.${process.pid}.tmp`;
      try {
        writeFileSync(tmp, `${JSON.stringify(merged, null, 2)}\n`, { flag: "wx" });
        renameSync(tmp, keyringPath);
      } catch (e: unknown) {
        rmSync(tmp, { force: true });
        throw e;
      }
      const count = Object.keys(merged.peers).length;
      const what = replaced ? "replaced" : "added";
      io.out(`wrote ${keyringPath} (public entry of ${id} ${what}; ${count} peer${count === 1 ? "" : "s"})\n`);
    }
    io.out(`public keyring entry of ${id}:\n${entry}`);
    return EXIT.ok;
  },
};

function readKeyring(path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e: unknown) {
    throw new UsageError(`cannot read the keyring ${path}: ${e instanceof Error ? e.message : String(e)}; fix it or choose another --keyring`);
  }
  const peers = (parsed as { peers?: unknown } | null)?.peers;
  if (peers === null || typeof peers !== "object" || Array.isArray(peers)) throw new UsageError(`${path} is not a keyring: expected { "peers": { … } }`);
  return peers as Record<string, unknown>;
}
