/**
 * `secsession keygen <peer-id> [--out DIR] [--keyring FILE] [--force]`:
 * a fresh identity (X25519 and Ed25519 keys) for one peer.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { generateIdentity, keyringJson, publicKeysOf } from "../../interceptors/keys/identity.js";
import { writeIdentity } from "../identity-file.js";
import { EXIT, parse, UsageError, type Command, type Io } from "../command.js";

export const keygen: Command = {
  kind: "command",
  summary: "create a peer's keys: <id>.key.json (private) and its public keyring entry",
  usage: "secsession keygen <peer-id> [--out DIR] [--keyring FILE] [--force]",
  help: `Usage: secsession keygen <peer-id> [--out DIR] [--keyring FILE] [--force]

Creates fresh X25519 and Ed25519 keys for the peer <peer-id> (its principal).

  Writes  DIR/<peer-id>.key.json  the private key file, mode 0600: keep it secret;
                                  the peer's runtime loads it (loadIdentity in cli/identity-file.ts)
  Prints  what it wrote, then the public keyring entry
          { "peers": { "<peer-id>": { "x25519": "<hex>", "ed25519": "<hex>" } } }
          to hand to the other peers (or merged into --keyring FILE)

Options:
  --out DIR        where to write the key file (default: the current directory; created if missing)
  --keyring FILE   also merge the public entry into this keyring file (created if missing);
                   refuses if it already has a different key for <peer-id>
  --force          replace an existing key file and an existing keyring entry for <peer-id>
  -h, --help       this help

Exit codes: 0 done, 2 usage error or refusal (nothing is written then).`,
  async run(args: readonly string[], io: Io): Promise<number> {
    const { values, positionals } = parse(
      args,
      { out: { type: "string" }, keyring: { type: "string" }, force: { type: "boolean", default: false } },
      { min: 1, max: 1, names: "<peer-id>" },
    );
    const id = positionals[0]!;
    if (id === "") throw new UsageError("the peer id must not be empty");
    if (/[/\\\0]/.test(id) || id === "." || id === "..") throw new UsageError(`peer id ${JSON.stringify(id)} cannot be used in a file name: use one without "/", "\\" or NUL`);
    const force = values.force === true;
    const dir = resolve(io.cwd, values.out ?? ".");
    const keyFile = join(dir, `${id}.key.json`);
    if (!force && existsSync(keyFile)) throw new UsageError(`${keyFile} exists: pass --force to replace it (its private keys are lost), or choose another --out`);

    // Check the keyring before writing anything: a refusal writes nothing.
    const keyringPath = values.keyring === undefined ? undefined : resolve(io.cwd, values.keyring);
    let peers: Record<string, unknown> = {};
    if (keyringPath !== undefined && existsSync(keyringPath)) {
      peers = readKeyring(keyringPath);
      if (id in peers && !force) throw new UsageError(`${keyringPath} already has a key for ${JSON.stringify(id)}: pass --force to replace it (peers holding the old key must get the new keyring)`);
    }

    const identity = generateIdentity(id);
    const entry = keyringJson([[id, publicKeysOf(identity)]]);
    mkdirSync(dir, { recursive: true });
    writeIdentity(keyFile, identity, { force });
    io.out(`wrote ${keyFile} (private keys, mode 0600: keep it secret; the peer's runtime loads it)\n`);
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
