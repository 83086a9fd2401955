/**
 * `secsession evidence verify` with what the verifier added: the message
 * types it takes from the module's role definitions, the note on value
 * checks a log cannot make, and `--progress`.
 */
import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli } from "../support/cli.js";
import { ROOT } from "../support/plugin-run.js";
import { PRINCIPALS, runSignedConf, type SignedConfRun } from "./conf-signed.js";

let run: SignedConfRun;
let dir: string;
const MODULE = join(ROOT, "test", "evidence", "conf-signed.ts");

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), "secsession-evidence-cli-"));
  run = await runSignedConf(dir);
});

test("the summary says how many messages' value checks the log cannot make (pc knows Upload's responses by hash only)", async (t) => {
  const r = await cli(["evidence", "verify", run.logs[PRINCIPALS.pc]!, "--keyring", run.keyring, "--descriptor", `${MODULE}#SignedConfSession`]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /\n {4}\(2 message\(s\) with value checks — response case, bound field, where, opens — this log cannot check in full: a payload it needs is encrypted, or known here only by its hash\)\n/);
  const author = await cli(["evidence", "verify", run.logs[PRINCIPALS.author]!, "--keyring", run.keyring, "--descriptor", `${MODULE}#SignedConfSession`]);
  t.is(author.status, 0, author.stderr);
  t.notRegex(author.stdout, /cannot check in full/, "the author received both Upload responses: their cases were checked");
});

test("--progress reports on stderr, ending with every record checked", async (t) => {
  const r = await cli(["evidence", "verify", run.logs[PRINCIPALS.pc]!, "--keyring", run.keyring, "--descriptor", MODULE, "--progress"]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stderr, /^ {2}14 of 14 records checked\n$/);
  t.regex(r.stdout, /OK, verified: 2 session\(s\)/);
});

test("a module that exports a descriptor but no role definition of it: exit 2, the message types are needed", async (t) => {
  const only = join(dir, "descriptor-only.ts");
  writeFileSync(only, `export { SignedConfSession } from ${JSON.stringify(MODULE)};\n`);
  const r = await cli(["evidence", "verify", run.logs[PRINCIPALS.pc]!, "--keyring", run.keyring, "--descriptor", only]);
  t.is(r.status, 2, r.stdout);
  t.regex(r.stderr, /exports Conf's descriptor but no role definition of it \(defineRole\): the verifier needs the session's message types/);
});
