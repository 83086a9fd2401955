/**
 * The `secsession` CLI as a user runs it: a child process
 * (`node --import=tsx cli/secsession.ts …`, and once through cli/bin.mjs),
 * its files, output and exit codes.
 */
import test from "ava";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadIdentity } from "../../cli/identity-file.js";
import { keyringResolver } from "../../interceptors/keys/identity.js";
import { lineHash } from "../../interceptors/evidence/index.js";
import { ROOT } from "../support/plugin-run.js";
import { cli, spawnNode } from "../support/cli.js";
import { PRINCIPALS, runSignedConf, type SignedConfRun } from "../evidence/conf-signed.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const tmp = (what: string) => mkdtempSync(join(tmpdir(), `secsession-cli-${what}-`));

// ---------------------------------------------------------------- keygen

test("keygen: a 0600 key file that loads back, its public entry printed and merged into a new keyring", async (t) => {
  const dir = tmp("keygen");
  const ring = join(dir, "ring.json");
  const a = await cli(["keygen", "alice", "--out", join(dir, "keys"), "--keyring", ring]);
  t.is(a.status, 0, a.stderr);
  const keyFile = join(dir, "keys", "alice.key.json");
  t.is(statSync(keyFile).mode & 0o777, 0o600);
  t.regex(a.stdout, new RegExp(`wrote ${keyFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(private keys, mode 0600`));
  t.regex(a.stdout, /wrote .*ring\.json \(public entry of alice added; 1 peer\)/);
  const identity = loadIdentity(keyFile);
  t.is(identity.id, "alice");
  const printed = JSON.parse(a.stdout.slice(a.stdout.indexOf("{"))) as { peers: Record<string, unknown> };
  const prekey = identity.prekeys!.at(-1)!;
  t.deepEqual(printed.peers["alice"], {
    x25519: hex(identity.x25519.publicKey),
    ed25519: hex(identity.ed25519.publicKey),
    prekey: { id: 1, x25519: hex(prekey.publicKey), signature: hex(prekey.signature) },
  });
  t.false(a.stdout.includes(hex(identity.ed25519.privateKey)), "the private key is never printed");

  const b = await cli(["keygen", "bob", "--keyring", ring], dir);
  t.is(b.status, 0, b.stderr);
  t.true(existsSync(join(dir, "bob.key.json")), "--out defaults to the current directory");
  t.regex(b.stdout, /public entry of bob added; 2 peers/);
  const resolve = keyringResolver(ring);
  t.is(hex(resolve("alice")!.ed25519), hex(identity.ed25519.publicKey));
  t.is(hex(resolve("bob")!.ed25519), hex(loadIdentity(join(dir, "bob.key.json")).ed25519.publicKey));
});

test("keygen: refuses to replace a key file or a keyring entry without --force, and then writes nothing", async (t) => {
  const dir = tmp("refuse");
  const ring = join(dir, "ring.json");
  t.is((await cli(["keygen", "alice", "--out", dir, "--keyring", ring])).status, 0);
  const keyBefore = readFileSync(join(dir, "alice.key.json"), "utf8");
  const ringBefore = readFileSync(ring, "utf8");

  const again = await cli(["keygen", "alice", "--out", dir, "--keyring", ring]);
  t.is(again.status, 2);
  t.regex(again.stderr, /alice\.key\.json exists: pass --rotate-prekey to give it a new prekey, or --force to replace it/);

  // A different key for alice elsewhere, with the same keyring: refused before anything is written.
  const other = join(dir, "other");
  const conflict = await cli(["keygen", "alice", "--out", other, "--keyring", ring]);
  t.is(conflict.status, 2);
  t.regex(conflict.stderr, /already has a key for "alice": pass --force to replace it/);
  t.false(existsSync(join(other, "alice.key.json")));
  t.is(readFileSync(ring, "utf8"), ringBefore);
  t.is(readFileSync(join(dir, "alice.key.json"), "utf8"), keyBefore);

  const forced = await cli(["keygen", "alice", "--out", dir, "--keyring", ring, "--force"]);
  t.is(forced.status, 0, forced.stderr);
  t.regex(forced.stdout, /public entry of alice replaced; 1 peer/);
  t.is(statSync(join(dir, "alice.key.json")).mode & 0o777, 0o600);
  const now = loadIdentity(join(dir, "alice.key.json"));
  t.not(readFileSync(join(dir, "alice.key.json"), "utf8"), keyBefore);
  t.is(hex(keyringResolver(ring)("alice")!.x25519), hex(now.x25519.publicKey));
});

test("keygen: usage errors exit 2 and say what to do", async (t) => {
  const dir = tmp("usage");
  const cases: Array<[string[], RegExp]> = [
    [["keygen"], /missing <peer-id>\nusage: secsession keygen <peer-id>/],
    [["keygen", "a", "b"], /unexpected argument "b"/],
    [["keygen", "a/b", "--out", dir], /cannot be used in a file name/],
    [["keygen", "a", "--frobnicate"], /Unknown option '--frobnicate'[\s\S]*Run `secsession keygen --help`/],
    [["keygen", "a", "--out"], /argument missing|--out/],
  ];
  for (const [args, err] of cases) {
    const r = await cli(args);
    t.is(r.status, 2, args.join(" "));
    t.regex(r.stderr, err, args.join(" "));
  }
  writeFileSync(join(dir, "bad.json"), "{ not json");
  const bad = await cli(["keygen", "x", "--out", dir, "--keyring", join(dir, "bad.json")]);
  t.is(bad.status, 2);
  t.regex(bad.stderr, /cannot read the keyring .*bad\.json/);
  t.false(existsSync(join(dir, "x.key.json")));
  const help = await cli(["keygen", "--help"]);
  t.is(help.status, 0);
  t.regex(help.stdout, /^Usage: secsession keygen <peer-id>/);
});

test("loadIdentity refuses a key file whose public key is not its private key's", (t) => {
  const dir = tmp("load");
  const path = join(dir, "k.json");
  const zero = "00".repeat(32);
  writeFileSync(path, JSON.stringify({ id: "a", x25519: { publicKey: zero, privateKey: "11".repeat(32) }, ed25519: { publicKey: zero, privateKey: "22".repeat(32) } }));
  t.throws(() => loadIdentity(path), { message: /x25519\.publicKey is not the public key of x25519\.privateKey/ });
  writeFileSync(path, "[]");
  t.throws(() => loadIdentity(path), { message: /expected a JSON object .*secsession keygen/ });
});

// ------------------------------------------------------- evidence verify

let run: SignedConfRun;
let dir: string;
const DESCRIPTOR = `${join(ROOT, "test", "evidence", "conf-signed.ts")}#SignedConfSession`;

test.before(async () => {
  dir = tmp("evidence");
  run = await runSignedConf(dir);
});

const verify = (log: string, ...more: string[]) => cli(["evidence", "verify", log, "--keyring", run.keyring, "--descriptor", DESCRIPTOR, ...more]);

test("evidence verify: exit 0 and a readable summary on a good log", async (t) => {
  const r = await verify(run.logs[PRINCIPALS.pc]!);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /committee\.evidence\.jsonl: OK, verified: 2 session\(s\), 26 messages, \d+ signatures checked\n/);
  t.regex(r.stdout, /14 records, hash chain intact, head [0-9a-f]{64}\n/);
  t.regex(r.stdout, /session [0-9a-f]{16}… Conf: 19 messages, \d+ signatures, 19 non-repudiable; finished \(global state \d+\); pc=committee author=alice confman=easychair/);
  t.is(r.stderr, "");
});

test("evidence verify through the bin (cli/bin.mjs), on every peer's log", async (t) => {
  for (const log of Object.values(run.logs)) {
    const r = await spawnNode([join(ROOT, "cli", "bin.mjs"), "evidence", "verify", log, "--keyring", run.keyring, "--descriptor", DESCRIPTOR], ROOT);
    t.is(r.status, 0, r.stdout + r.stderr);
    t.regex(r.stdout, /: OK, verified: 2 session\(s\)/);
  }
});

test("evidence verify: exit 1 with the line and the reason on tampered logs", async (t) => {
  const ls = readFileSync(run.logs[PRINCIPALS.author]!, "utf8").split("\n").slice(0, -1);
  const write = (name: string, lines: readonly string[]) => {
    const p = join(dir, name);
    writeFileSync(p, lines.map((l) => `${l}\n`).join(""));
    return p;
  };
  const flipped = [...ls];
  flipped[3] = flipped[3]!.replace(/"tag":"(.)/, (_m, c: string) => `"tag":"${c === "0" ? "1" : "0"}`);
  const a = await verify(write("tampered.jsonl", flipped));
  t.is(a.status, 1);
  t.regex(a.stderr, /tampered\.jsonl: verification FAILED\n {2}line 5: prev does not match line 4 \(one of the two lines was altered\)\n/);

  const b = await verify(write("removed.jsonl", [...ls.slice(0, 2), ...ls.slice(3)]));
  t.is(b.status, 1);
  t.regex(b.stderr, /line 3: seq is 4, expected 3: a record was removed, inserted or moved/);

  // The last record removed verifies as a shorter log; the anchored head tells.
  const short = write("short.jsonl", ls.slice(0, -1));
  t.is((await verify(short)).status, 0);
  const head = lineHash(ls.at(-1)!);
  const c = await verify(short, "--expect-head", head);
  t.is(c.status, 1);
  t.regex(c.stderr, new RegExp(`not at the expected ${head}: records were removed from its end`));
  t.is((await verify(run.logs[PRINCIPALS.author]!, "--expect-head", head)).status, 0);
});

test("evidence verify: a log whose session's descriptor is not given fails with what to pass", async (t) => {
  const r = await cli(["evidence", "verify", run.logs[PRINCIPALS.confman]!, "--keyring", run.keyring, "--descriptor", "gen/conf/conf_secsession.ts"]);
  t.is(r.status, 1);
  t.is(r.stdout, "");
  t.regex(r.stderr, /line 1: session [0-9a-f]{16}… has session code [0-9a-f]{64}, and no descriptor given has it \(given: Conf [0-9a-f]{12}…\): pass the descriptor of the session that wrote this log/);
});

test("evidence verify: usage errors exit 2 and say what to do", async (t) => {
  const log = run.logs[PRINCIPALS.pc]!;
  const cases: Array<[string[], RegExp]> = [
    [["evidence", "verify"], /missing <log>/],
    [["evidence", "verify", log, "--descriptor", DESCRIPTOR], /missing --keyring FILE/],
    [["evidence", "verify", log, "--keyring", run.keyring], /missing --descriptor MODULE/],
    [["evidence", "verify", join(dir, "nope.jsonl"), "--keyring", run.keyring, "--descriptor", DESCRIPTOR], /cannot read the log .*nope\.jsonl/],
    [["evidence", "verify", log, "--keyring", join(dir, "nope.json"), "--descriptor", DESCRIPTOR], /cannot use the keyring .*nope\.json/],
    [["evidence", "verify", log, "--keyring", run.keyring, "--descriptor", "gen/conf/nope_secsession.ts"], /no file .*nope_secsession\.ts: give the path of a generated \*_secsession\.ts file/],
    [["evidence", "verify", log, "--keyring", run.keyring, "--descriptor", "gen/conf/conf_secsession.ts#Nope"], /has no export Nope; its descriptors are: ConfSession/],
    [["evidence", "verify", log, "--keyring", run.keyring, "--descriptor", "gen/conf/conf_pb.ts"], /exports no session descriptor/],
    [["evidence", "verify", log, "--keyring", run.keyring, "--descriptor", DESCRIPTOR, "--expect-head", "xyz"], /--expect-head must be 64 lowercase hex digits/],
    [["evidence"], /Usage: secsession evidence <command>[\s\S]*verify/],
    [["evidence", "frobnicate"], /unknown command "evidence frobnicate"/],
    [[], /Usage: secsession <command>[\s\S]*keygen[\s\S]*evidence verify/],
  ];
  const results = await Promise.all(cases.map(([args]) => cli(args)));
  for (const [i, [args, err]] of cases.entries()) {
    t.is(results[i]!.status, 2, args.join(" "));
    t.regex(results[i]!.stderr, err, args.join(" "));
  }
  const help = await cli(["evidence", "verify", "--help"]);
  t.is(help.status, 0);
  t.regex(help.stdout, /^Usage: secsession evidence verify <log> --keyring FILE --descriptor MODULE\[#ExportName\]/);
  const top = await cli(["--help"]);
  t.is(top.status, 0);
  t.regex(top.stdout, /keygen[\s\S]*evidence verify/);
});
