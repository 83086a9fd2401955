import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keyringResolver } from "../../interceptors/index.js";
import { ROOT } from "../support/plugin-run.js";

const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, "cli", "bin.mjs"), ...args], { encoding: "utf8", cwd: ROOT });

test("keygen writes a private key file (0600) and merges the public entry into a keyring", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "secsession-keys-"));
  const ring = join(dir, "keyring.json");
  for (const id of ["office", "warehouse"]) {
    const r = cli("keygen", id, "--out", dir, "--keyring", ring);
    t.is(r.status, 0, r.stderr);
    t.regex(r.stdout, new RegExp(`wrote .*${id}\\.key\\.json`));
  }
  t.is(statSync(join(dir, "office.key.json")).mode & 0o777, 0o600);
  const key = JSON.parse(readFileSync(join(dir, "office.key.json"), "utf8")) as { x25519: { publicKey: string } };
  const resolved = keyringResolver(ring)("office");
  t.is(Buffer.from(resolved!.x25519).toString("hex"), key.x25519.publicKey);
  t.truthy(keyringResolver(ring)("warehouse"));
});

test("keygen refuses to overwrite keys without --force, and bad usage exits 2 with what to do", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "secsession-keys-"));
  t.is(cli("keygen", "office", "--out", dir).status, 0);
  const again = cli("keygen", "office", "--out", dir);
  t.is(again.status, 2);
  t.regex(again.stderr, /exists: pass --force/);
  t.is(cli("keygen", "office", "--out", dir, "--force").status, 0);
  const bad = cli("keygen");
  t.is(bad.status, 2);
  t.regex(bad.stderr, /usage: secsession keygen/);
  t.is(cli("frobnicate").status, 2);
  t.is(cli("--help").status, 0);
});
