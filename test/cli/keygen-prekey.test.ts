/**
 * `secsession keygen --rotate-prekey` as a user runs it: the key file keeps
 * its long-term keys and gets a new signed prekey, the keyring publishes it,
 * dropped prekeys are gone from the file, and refusals write nothing.
 */
import test from "ava";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadIdentity } from "../../cli/identity-file.js";
import { keyringResolver, verifyPrekey } from "../../interceptors/keys/identity.js";
import { defaultBackend } from "../../interceptors/keys/crypto/index.js";
import { cli } from "../support/cli.js";

const tmp = () => mkdtempSync(join(tmpdir(), "secsession-prekey-"));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

test("keygen writes a signed prekey; --rotate-prekey keeps the long-term keys, publishes a new prekey and drops the oldest", async (t) => {
  const dir = tmp();
  t.is((await cli(["keygen", "alice", "--keyring", "ring.json"], dir)).status, 0);
  const first = loadIdentity(join(dir, "alice.key.json"));
  t.deepEqual(first.prekeys!.map((p) => p.id), [1]);
  t.is(keyringResolver(join(dir, "ring.json"))("alice")!.prekey!.id, 1);

  for (const expected of [[1, 2], [2, 3]] as const) {
    const r = await cli(["keygen", "alice", "--keyring", "ring.json", "--rotate-prekey"], dir);
    t.is(r.status, 0, r.stderr);
    t.regex(r.stdout, new RegExp(`publishing prekey ${expected[1]}`));
    const now = loadIdentity(join(dir, "alice.key.json"));
    t.deepEqual(now.prekeys!.map((p) => p.id), expected);
    t.is(hex(now.x25519.privateKey), hex(first.x25519.privateKey), "the static key stays");
    t.is(hex(now.ed25519.privateKey), hex(first.ed25519.privateKey), "the signing key stays");
    const published = keyringResolver(join(dir, "ring.json"))("alice")!;
    t.is(published.prekey!.id, expected[1]);
    t.true(verifyPrekey(defaultBackend(), "alice", published.ed25519, published.prekey!));
  }
  // Prekey 1 is gone from the file: its private key exists nowhere this tool wrote.
  t.false(readFileSync(join(dir, "alice.key.json"), "utf8").includes(hex(first.prekeys![0]!.privateKey)));
});

test("--rotate-prekey refuses without a key file, with --force, or against a keyring holding other keys, and writes nothing", async (t) => {
  const dir = tmp();
  const none = await cli(["keygen", "bob", "--rotate-prekey"], dir);
  t.is(none.status, 2);
  t.regex(none.stderr, /does not exist: create the peer's keys first with `secsession keygen bob`/);

  t.is((await cli(["keygen", "bob"], dir)).status, 0);
  const both = await cli(["keygen", "bob", "--rotate-prekey", "--force"], dir);
  t.is(both.status, 2);
  t.regex(both.stderr, /pass one of them/);

  const other = tmp();
  t.is((await cli(["keygen", "bob", "--keyring", "ring.json"], other)).status, 0);
  const ring = readFileSync(join(other, "ring.json"), "utf8");
  writeFileSync(join(dir, "ring.json"), ring);
  const before = readFileSync(join(dir, "bob.key.json"), "utf8");
  const clash = await cli(["keygen", "bob", "--rotate-prekey", "--keyring", "ring.json"], dir);
  t.is(clash.status, 2);
  t.regex(clash.stderr, /has other keys for "bob"/);
  t.is(readFileSync(join(dir, "bob.key.json"), "utf8"), before, "the key file is unchanged");
  t.is(readFileSync(join(dir, "ring.json"), "utf8"), ring, "the keyring is unchanged");
});

test("a keyring whose prekey signature does not verify is refused with the peer named", async (t) => {
  const dir = tmp();
  t.is((await cli(["keygen", "carol", "--keyring", "ring.json"], dir)).status, 0);
  const path = join(dir, "ring.json");
  const ring = JSON.parse(readFileSync(path, "utf8")) as { peers: { carol: { prekey: { x25519: string } } } };
  const k = ring.peers.carol.prekey.x25519;
  ring.peers.carol.prekey.x25519 = (k[0] === "0" ? "1" : "0") + k.slice(1);
  writeFileSync(path, JSON.stringify(ring));
  t.throws(() => keyringResolver(path), { message: /peer "carol": the prekey 1 is not signed by this peer's ed25519 key/ });
});
