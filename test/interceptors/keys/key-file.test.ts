/**
 * The key-file loaders of the public API: a key file and a keyring written
 * by this code load back, and each kind of broken file is refused with an
 * error that names the file and what is wrong.
 */
import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateIdentity, keyringJson, loadIdentity, loadKeyring, publicKeysOf, writeIdentity } from "../../../interceptors/index.js";

const dir = mkdtempSync(join(tmpdir(), "secsession-key-file-"));
let n = 0;
const file = (text: string) => {
  const path = join(dir, `f${n++}.json`);
  writeFileSync(path, text);
  return path;
};
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

test("a key file written by writeIdentity loads back with the same keys", (t) => {
  const alice = generateIdentity("alice");
  const path = join(dir, "alice.key.json");
  writeIdentity(path, alice);
  const back = loadIdentity(path);
  t.is(back.id, "alice");
  t.is(hex(back.x25519.privateKey), hex(alice.x25519.privateKey));
  t.is(hex(back.ed25519.publicKey), hex(alice.ed25519.publicKey));
});

test("a keyring written by keyringJson loads into a resolver of its peers", (t) => {
  const bob = generateIdentity("bob");
  const resolve = loadKeyring(file(keyringJson([["bob", publicKeysOf(bob)]])));
  t.is(hex(resolve("bob")!.ed25519), hex(bob.ed25519.publicKey));
  t.is(resolve("carol"), undefined);
});

test("a key file that is not JSON: the error names the file", (t) => {
  const path = file("{ not json");
  t.throws(() => loadIdentity(path), { message: new RegExp(`^secsession: ${path}: the key file is not JSON`) });
});

test("a missing key file: the error names the file", (t) => {
  const path = join(dir, "absent.key.json");
  t.throws(() => loadIdentity(path), { message: new RegExp(`^secsession: ${path}: cannot read the key file`) });
});

test("a keyring file that is not JSON: the error names the file", (t) => {
  const path = file("peers: {}");
  t.throws(() => loadKeyring(path), { message: new RegExp(`^secsession: ${path}: the keyring file is not JSON`) });
});

test("a keyring of null is refused with what was expected", (t) => {
  const path = file("null");
  t.throws(() => loadKeyring(path), { message: new RegExp(`^secsession: ${path}: expected a JSON object with "peers", got null`) });
});

test("a keyring without peers, with peers: [] or with peers: {} is refused", (t) => {
  const none = file("{}");
  t.throws(() => loadKeyring(none), { message: /found no "peers"/ });
  const array = file(`{ "peers": [] }`);
  t.throws(() => loadKeyring(array), { message: new RegExp(`^secsession: ${array}: "peers" must be an object mapping each peer id to its public keys, got an array`) });
  const empty = file(`{ "peers": {} }`);
  t.throws(() => loadKeyring(empty), { message: /"peers" lists no peer/ });
});

test("a keyring entry with a bad key is refused by the entry check, with the peer named", (t) => {
  const path = file(`{ "peers": { "bob": { "x25519": "00", "ed25519": "00" } } }`);
  t.throws(() => loadKeyring(path), { message: /peer "bob": expected 32-byte hex keys/ });
});
