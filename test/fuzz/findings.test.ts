/**
 * Regressions for what the fuzz targets of the evidence log and of the session-state import found
 * (test/fuzz/evidence.test.ts, state-import.test.ts); the plugin's are in
 * test/plugin/fuzz-findings.test.ts. Plain tests, fast.
 */
import test from "ava";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keyringResolver } from "../../interceptors/keys/identity.js";
import { encodeRecord, EvidenceLogError, lineHash, readEvidenceLog, verifyEvidence } from "../../interceptors/evidence/index.js";
import { runSignedConf, SignedConfPc } from "../evidence/conf-signed.js";

let lines: string[] = [];
let keyring = "";

test.before(async () => {
  const run = await runSignedConf(mkdtempSync(join(tmpdir(), "secsession-findings-")));
  keyring = run.keyring;
  lines = readFileSync(Object.values(run.logs)[0]!, "utf8").split("\n").slice(0, -1);
});

/** The log with line `i` (0-based) replaced by `line`, the lines after it chained to it again. */
function respelled(i: number, line: string): string {
  const out = [...lines.slice(0, i), line];
  for (const l of lines.slice(i + 1)) {
    const r = readEvidenceLog(`${l}\n`, { checkChain: false }).lines[0]!.record;
    out.push(encodeRecord(r.seq, lineHash(out.at(-1)!), r.entry));
  }
  return out.map((l) => `${l}\n`).join("");
}

test("the evidence reader refuses a record spelled otherwise than the writer writes it, wherever the line is", (t) => {
  const line = lines[2]!;
  const o = JSON.parse(line) as Record<string, unknown>;
  const spellings: Record<string, string> = {
    "a space after a comma": line.replace(",", ", "),
    "a space before the first key": `{ ${line.slice(1)}`,
    "an escaped character": line.replace(/"role":"(.)/, (_, c: string) => `"role":"\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`),
    "a key twice (JSON.parse keeps the last, other readers the first)": `${line.slice(0, -1)},"payload":"00"}`,
    "the keys in another order": JSON.stringify(Object.fromEntries(Object.entries(o).reverse())),
    "a byte-order mark": `\ufeff${line}`,
  };
  for (const [what, spelling] of Object.entries(spellings)) {
    t.not(spelling, line, what);
    for (const log of [respelled(2, spelling), [...lines.slice(0, 2), spelling].map((l) => `${l}\n`).join("")]) {
      const e = t.throws(() => readEvidenceLog(log), { instanceOf: EvidenceLogError }, what);
      t.is(e?.line, 3, what);
      t.regex(e?.message ?? "", /^evidence log line 3: the line is not in the record format/, what);
      const v = verifyEvidence(log, [SignedConfPc], keyringResolver(keyring));
      t.false(v.ok, what);
      if (!v.ok) t.is(v.line, 3, what);
    }
  }
  // The log as written reads and verifies.
  t.is(readEvidenceLog(lines.map((l) => `${l}\n`).join("")).lines.length, lines.length);
  t.true(verifyEvidence(lines.map((l) => `${l}\n`).join(""), [SignedConfPc], keyringResolver(keyring)).ok);
});
