/**
 * Evidence logs of a real run: Conf over gRPC with Ed25519 signatures and
 * non-repudiation on every edge (test/evidence/conf-signed.ts), each peer
 * appending to its own hash-chained log; then the offline verifier on the
 * logs as written and on tampered copies.
 */
import test from "ava";
import * as fc from "fast-check";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AttestationSchema, EnvelopeSchema } from "../../gen/secsession/v1/envelope_pb.js";
import { ConfPc, ConfSession } from "../../gen/conf/conf_secsession.js";
import { file_conf_conf } from "../../gen/conf/conf_pb.js";
import { SealedBytes } from "../../interceptors/grpc/sealed.js";
import { keyringResolver, publicKeysOf, staticResolver, type KeyResolver } from "../../interceptors/keys/identity.js";
import { SecSessionError } from "../../interceptors/index.js";
import { world } from "../support/inline-session.js";
import type { SessionDescriptor } from "../../interceptors/descriptor/types.js";
import {
  createFileEvidenceLog,
  decodeRecord,
  encodeRecord,
  EvidenceLogError,
  GENESIS_PREV,
  lineHash,
  readEvidenceLog,
  verifyEvidence,
  type EvidenceVerification,
  type VerifiableSession,
} from "../../interceptors/evidence/index.js";
import { PRINCIPALS, runSignedConf, SignedConfConfman, SignedConfPc, SignedConfSession, type SignedConfRun } from "./conf-signed.js";

let run: SignedConfRun;
let resolver: KeyResolver;
const text: Record<string, string> = {};

test.before(async () => {
  run = await runSignedConf(mkdtempSync(join(tmpdir(), "secsession-evidence-")));
  resolver = keyringResolver(run.keyring);
  for (const [id, path] of Object.entries(run.logs)) text[id] = readFileSync(path, "utf8");
});

const verify = (log: string | Uint8Array, d: VerifiableSession | VerifiableSession[] = [SignedConfPc], r: KeyResolver = resolver, direct = false): EvidenceVerification =>
  verifyEvidence(log, d, r, { nonRepudiation: direct ? "direct" : "transcript" });

/** The lines of a log (without the final empty string), and back. */
const linesOf = (s: string) => s.split("\n").slice(0, -1);
const join_ = (ls: readonly string[]) => ls.map((l) => `${l}\n`).join("");

/** `line` with one hex digit changed: the first digit after `"field":"` (plus `skip` digits). */
function flip(line: string, field: string, skip = 10): string {
  const at = line.indexOf(`"${field}":"`);
  if (at < 0) throw new Error(`no ${field} in ${line.slice(0, 80)}`);
  const i = at + field.length + 4 + skip;
  return line.slice(0, i) + (line[i] === "0" ? "1" : "0") + line.slice(i + 1);
}

/** `line` with its payload changed by one byte (or one byte added when it is empty). */
const tamperPayload = (l: string) => (l.includes('"payload":""') ? l.replace('"payload":""', '"payload":"00"') : flip(l, "payload", 0));

/** Rewrites seq and prev so that the chain is intact again (what a forger who rewrites the whole file would do). */
function rechain(ls: readonly string[], firstSeq = 1): string[] {
  let prev = GENESIS_PREV;
  return ls.map((l, i) => {
    const r = decodeRecord(JSON.parse(l));
    const out = encodeRecord(i + firstSeq, prev, r.entry);
    prev = lineHash(out);
    return out;
  });
}

function fails(t: import("ava").ExecutionContext, r: EvidenceVerification, line: number, reason: RegExp): void {
  if (r.ok) return void t.fail("the log verified");
  t.is(r.line, line, r.reason);
  t.regex(r.reason, reason);
}

test("the run: pc saw both papers, the rebuttals and the final version, then a withdrawal", (t) => {
  t.deepEqual(run.trace, ["Paper(paper v1)", "Paper(paper v2)", "Rebuttal(answer to round 1)", "Rebuttal(answer to round 2)", "FinalVersion(camera-ready)", "retract"]);
});

test("each peer's evidence log verifies: two sessions, every message it knows of, every signature", (t) => {
  // pc knows all of session 1 (19 messages) and 2 (7); the author stops knowing at Accept's response and at Withdraw;
  // confman at Close's response and Retract.
  const expected: Record<string, Array<{ messages: number; finished: boolean }>> = {
    [PRINCIPALS.pc]: [{ messages: 19, finished: true }, { messages: 7, finished: true }],
    [PRINCIPALS.author]: [{ messages: 19, finished: true }, { messages: 6, finished: false }],
    [PRINCIPALS.confman]: [{ messages: 13, finished: false }, { messages: 7, finished: true }],
  };
  for (const [id, log] of Object.entries(text)) {
    const r = verify(log);
    if (!r.ok) return void t.fail(`${id}: line ${r.line}: ${r.reason}`);
    t.is(r.sessions, 2, id);
    t.is(r.records, linesOf(log).length, id);
    t.is(r.head, lineHash(linesOf(log).at(-1)!), id);
    t.deepEqual(
      r.details.map((s) => ({ messages: s.messages, finished: s.finished })),
      expected[id],
      id,
    );
    for (const s of r.details) {
      t.is(s.name, "Conf");
      t.is(s.nonRepudiable, s.messages, `${id}: every message is covered by its sender's signature`);
      t.true(s.signatures > 0);
      t.deepEqual(s.principals, PRINCIPALS);
    }
    t.is(r.messages, r.details.reduce((n, s) => n + s.messages, 0));
  }
});

test("with --direct-signatures: confman's log has a signature at every step; pc's does not (visibility keeps the latest signature per role)", (t) => {
  t.true(verify(text[PRINCIPALS.confman]!, [SignedConfPc], resolver, true).ok);
  const r = verify(text[PRINCIPALS.pc]!, [SignedConfPc], resolver, true);
  t.false(r.ok);
  if (!r.ok) t.regex(r.reason, /step 2 \(edge 1, \/conf\.ConferenceManager\/Upload request\) requires non-repudiation, but no signature of its sender author \(alice\) for it is recorded/);
});

test("one byte changed in a payload hash, a signature or a prev: the chain breaks at the next line", (t) => {
  for (const log of Object.values(text)) {
    const ls = linesOf(log);
    for (const [change, at] of [[(l: string) => flip(l, "payloadHash"), 4], [(l: string) => flip(l, "tag"), 5], [tamperPayload, 3]] as const) {
      const copy = [...ls];
      copy[at - 1] = change(copy[at - 1]!);
      fails(t, verify(join_(copy)), at + 1, new RegExp(`prev does not match line ${at}`));
    }
    const copy = [...ls];
    copy[6] = flip(copy[6]!, "prev");
    fails(t, verify(join_(copy)), 7, /prev does not match line 6/);
  }
});

test("one byte changed in the last record (no next line to break): the protocol checks catch it", (t) => {
  for (const log of Object.values(text)) {
    const ls = linesOf(log);
    const n = ls.length;
    const last = (f: (l: string) => string) => join_([...ls.slice(0, -1), f(ls.at(-1)!)]);
    fails(t, verify(last((l) => flip(l, "tag"))), n, /signature of .* for step \d+ does not verify/);
    fails(t, verify(last((l) => flip(l, "payloadHash"))), n, /differs from step|payload does not hash|does not verify/);
    fails(t, verify(last(tamperPayload)), n, /payload does not hash/);
    fails(t, verify(last((l) => flip(l, "nonce"))), n, /session start .* differs|not the hash of its start/);
  }
});

test("the same tampering with the chain recomputed is still caught by the protocol checks", (t) => {
  const ls = linesOf(text[PRINCIPALS.pc]!);
  // A changed payload hash of a message pc received: its transcript hash changes, so the signatures over it fail.
  const changed = [...ls];
  changed[2] = flip(changed[2]!, "payloadHash");
  const r = verify(join_(rechain(changed)));
  t.false(r.ok);
  if (!r.ok) t.regex(r.reason, /does not verify|payload does not hash|differs from step/);
  // A changed signature.
  const sig = [...ls];
  sig[3] = flip(sig[3]!, "tag");
  fails(t, verify(join_(rechain(sig))), 4, /does not verify/);
});

test("a record removed: refused; removed with the chain recomputed: still refused", (t) => {
  for (const log of Object.values(text)) {
    const ls = linesOf(log);
    fails(t, verify(join_([...ls.slice(0, 4), ...ls.slice(5)])), 5, /seq is 6, expected 5/);
    fails(t, verify(join_(ls.slice(1))), 1, /seq is 2, expected 1/);
    const r = verify(join_(rechain([...ls.slice(0, 4), ...ls.slice(5)])));
    t.false(r.ok);
    if (!r.ok) t.regex(r.reason, /records are missing|is missing|earlier records are missing/);
  }
});

test("the last record removed: the log is a valid shorter log, and only its head tells (anchor the head)", (t) => {
  const ls = linesOf(text[PRINCIPALS.pc]!);
  const full = verify(join_(ls));
  const short = verify(join_(ls.slice(0, -1)));
  t.true(full.ok && short.ok);
  if (full.ok && short.ok) {
    t.not(short.head, full.head);
    t.is(short.records, full.records - 1);
  }
});

test("two records swapped: refused; swapped with the chain recomputed: still refused", (t) => {
  for (const log of Object.values(text)) {
    const ls = linesOf(log);
    const sw = [...ls];
    [sw[4], sw[5]] = [sw[5]!, sw[4]!];
    fails(t, verify(join_(sw)), 5, /seq is 6, expected 5/);
    const r = verify(join_(rechain(sw)));
    t.false(r.ok);
    if (!r.ok) t.regex(r.reason, /out of order|records are missing|starts at step/);
  }
});

test("a session whose descriptor is not given is reported as such, at its first line", (t) => {
  const r = verify(text[PRINCIPALS.pc]!, [ConfPc]);
  fails(t, r, 1, new RegExp(`has session code ${SignedConfSession.code}, and no descriptor given has it \\(given: Conf ${ConfSession.code.slice(0, 12)}…\\)`));
  fails(t, verify(text[PRINCIPALS.pc]!, []), 1, /no descriptor given has it \(given: none\)/);
});

test("an edited descriptor (content no longer matches its code) is refused", (t) => {
  const edited: SessionDescriptor = { ...SignedConfSession, replayWindowMs: 1 };
  fails(t, verify(text[PRINCIPALS.pc]!, [{ descriptor: edited, file: file_conf_conf }]), 1, /does not match its code: it was edited/);
});

test("a keyring without a principal, or with another key for it, is refused", (t) => {
  const only = staticResolver([]);
  fails(t, verify(text[PRINCIPALS.pc]!, [SignedConfPc], only), 1, /no public key for principal "committee" \(role pc\): add it to the keyring/);
  const wrong: KeyResolver = (id) => {
    const k = resolver(id);
    return k === undefined || id !== PRINCIPALS.author ? k : { ...k, ed25519: resolver(PRINCIPALS.pc)!.ed25519 };
  };
  const r = verify(text[PRINCIPALS.pc]!, [SignedConfPc], wrong);
  t.false(r.ok);
  if (!r.ok) t.regex(r.reason, /signature of author \(alice\) for step \d+ does not verify/);
});

test("the reader names the line of malformed input and throws nothing else", (t) => {
  const ls = linesOf(text[PRINCIPALS.pc]!);
  const err = (input: string | Uint8Array, line: number, reason: RegExp) => {
    const e = t.throws(() => readEvidenceLog(input), { instanceOf: EvidenceLogError });
    t.is(e?.line, line);
    t.regex(e?.message ?? "", new RegExp(`^evidence log line ${line}: `));
    t.regex(e?.message ?? "", reason);
  };
  err(`${join_(ls.slice(0, 3))}${ls[3]!.slice(0, 40)}`, 4, /no newline: the log was truncated/);
  err(join_(ls.slice(0, 2)).replace(/\n/g, "\r\n"), 1, /carriage return/);
  err(`${join_(ls.slice(0, 2))}\n${join_(ls.slice(2, 3))}`, 3, /empty line/);
  err(`${join_(ls.slice(0, 2))}{"seq":3\n`, 3, /not JSON/);
  err(join_([...ls.slice(0, 2), ls[2]!.replace('"seq":3,', '"seq":3,"extra":1,')]), 3, /unexpected field "extra"/);
  err(join_([...ls.slice(0, 2), ls[2]!.replace(/"timeMs":"\d+"/, '"timeMs":12')]), 3, /start\.timeMs must be a decimal string/);
  err(join_([...ls.slice(0, 2), ls[2]!.replace(/"sessionId":"[0-9a-f]{2}/, '"sessionId":"AB')]), 3, /sessionId must be lowercase hex/);
  err(join_(["[]"]), 1, /must be a JSON object/);
  err(new Uint8Array([0xff, 0x0a]), 1, /not valid UTF-8/);
  t.deepEqual(readEvidenceLog("").lines, []);
  t.true(verify("").ok);
  // Read without the chain check: a broken chain can still be inspected, and verifyEvidence checks the chain anyway.
  const broken = join_([ls[0]!, ls[2]!]);
  const read = readEvidenceLog(broken, { checkChain: false });
  t.is(read.lines.length, 2);
  fails(t, verifyEvidence(read, [SignedConfPc], resolver), 2, /seq is 3, expected 2/);
});

test("property: one random byte changed anywhere in a log, never verifies, and nothing throws", (t) => {
  const bytes = new Uint8Array(Buffer.from(text[PRINCIPALS.pc]!, "utf8"));
  fc.assert(
    fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (at, delta) => {
      const copy = bytes.slice();
      copy[at] = (copy[at]! + delta) & 0xff;
      let r: EvidenceVerification;
      try {
        r = verify(copy);
      } catch (e: unknown) {
        throw new Error(`verifyEvidence threw at byte ${at}: ${String(e)}`);
      }
      if (r.ok) throw new Error(`byte ${at} (${JSON.stringify(String.fromCharCode(bytes[at]!))} -> ${JSON.stringify(String.fromCharCode(copy[at]!))}) changed and the log still verifies`);
      try {
        readEvidenceLog(copy);
      } catch (e: unknown) {
        if (!(e instanceof EvidenceLogError)) throw new Error(`readEvidenceLog threw ${String(e)}`);
      }
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test("logs numbered from 0 are read, verified and extended too; a numbering from 0 whose first record was removed is not", (t) => {
  const zero = rechain(linesOf(text[PRINCIPALS.pc]!), 0);
  const r = verify(join_(zero));
  t.true(r.ok);
  t.is(readEvidenceLog(join_(zero)).firstSeq, 0);
  fails(t, verify(join_(zero.slice(1))), 1, /prev of the first record must be 64 zeros/);
  fails(t, verify(join_([...zero.slice(0, 3), ...zero.slice(4)])), 4, /seq is 4, expected 3/);
  const path = join(mkdtempSync(join(tmpdir(), "secsession-evidence-zero-")), "log.jsonl");
  writeFileSync(path, join_(zero.slice(0, 5)));
  const log = createFileEvidenceLog(path);
  log.append(decodeRecord(JSON.parse(zero[5]!)).entry);
  t.is(readFileSync(path, "utf8"), join_(zero.slice(0, 6)));
});

test("the file log: serialised appends, resumes an existing log, refuses to extend a broken one", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "secsession-evidence-file-"));
  const entries = linesOf(text[PRINCIPALS.author]!).map((l) => decodeRecord(JSON.parse(l)).entry);
  const path = join(dir, "log.jsonl");
  const log = createFileEvidenceLog(path);
  // Appends racing from many async callers land whole and chained.
  await Promise.all(entries.slice(0, 10).map(async (e, i) => {
    await new Promise((r) => setTimeout(r, (i * 7) % 5));
    log.append(e);
  }));
  t.is(log.count, 10);
  const reopened = createFileEvidenceLog(path, { fsync: true });
  t.is(reopened.count, 10);
  t.is(reopened.head, log.head);
  for (const e of entries.slice(10)) reopened.append(e);
  const read = readEvidenceLog(readFileSync(path));
  t.is(read.lines.length, entries.length);
  t.is(read.head, reopened.head);
  t.is((await import("node:fs")).statSync(path).mode & 0o777, 0o600);
  // Same entries as the author's log, in the same order: the same bytes.
  const inOrder = join(dir, "in-order.jsonl");
  const again = createFileEvidenceLog(inOrder);
  for (const e of entries) again.append(e);
  t.is(readFileSync(inOrder, "utf8"), text[PRINCIPALS.author]!);

  appendFileSync(path, '{"seq":');
  const e = t.throws(() => createFileEvidenceLog(path));
  t.regex(e?.message ?? "", /refusing to extend the evidence log .*line \d+: the last line has no newline/);
  writeFileSync(join(dir, "bad.jsonl"), "not json\n");
  t.throws(() => createFileEvidenceLog(join(dir, "bad.jsonl")), { message: /refusing to extend .* line 1: the line is not JSON/ });
});

// Regression: receivers recorded every signature that came with an envelope but checked only the ones their
// history mode requires, so a bogus signature appended on the path spoilt the honest receiver's own log. Now the
// envelope MAC covers every byte: the network cannot append anything, the message is refused before anything is
// logged, and the genuine message that follows is logged as it came.
test("a bogus signature appended in transit is refused, and the receiver's evidence log stays valid", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "secsession-evidence-bogus-"));
  const w = world({ descriptor: SignedConfSession, file: file_conf_conf }, Object.values(PRINCIPALS), (id) => ({ evidence: createFileEvidenceLog(join(dir, id)) }));
  const cfp = w.edge("Cfp", "oneway");
  const upload = w.edge("Upload", "request");
  const sid = (await w.party(PRINCIPALS.pc, "pc").start(PRINCIPALS)).key;
  await w.unwrap(PRINCIPALS.author, cfp, await w.wrap(PRINCIPALS.pc, sid, cfp, { call: "CSF 2026" }), PRINCIPALS.pc);
  const genuine = await w.wrap(PRINCIPALS.author, sid, upload, { paper: "paper.pdf" });
  const env = fromBinary(EnvelopeSchema, genuine);
  env.attestations.push(create(AttestationSchema, { role: "pc", target: "", step: 1n, tag: new Uint8Array(64).fill(7) }));
  const e = await t.throwsAsync(w.unwrap(PRINCIPALS.confman, upload, toBinary(EnvelopeSchema, env), PRINCIPALS.author), { instanceOf: SecSessionError });
  t.is(e?.kind, "bad-attestation");
  const log = join(dir, PRINCIPALS.confman);
  const before = existsSync(log) ? readFileSync(log, "utf8") : "";
  t.is(before, "", "nothing of the refused message is logged");
  await w.unwrap(PRINCIPALS.confman, upload, genuine, PRINCIPALS.author);
  const keys = staticResolver(Object.entries(w.identities).map(([id, i]) => [id, publicKeysOf(i)] as const));
  const v = verify(readFileSync(log), [SignedConfConfman], keys);
  if (!v.ok) t.log(`line ${v.line}: ${v.reason}`);
  t.true(v.ok);
  t.is(linesOf(readFileSync(log, "utf8")).length, 1);
});

// Regression: Party.wrap recorded a sent message from the sender's history, which two roles prune to nothing after
// every message, so every two-role session failed with an evidence sink. It records the envelope's own item now.
test("a two-role session (Single) runs with an evidence log, and the log verifies", async (t) => {
  const { SingleC, SingleW } = await import("../../gen/single/single_secsession.js");
  const { cluster } = await import("../support/parties.js");
  const dir = mkdtempSync(join(tmpdir(), "secsession-evidence-single-"));
  const c = cluster(["client", "printer"], (id) => ({ evidence: createFileEvidenceLog(join(dir, id)) }));
  c.peers["printer"]!.runtime.serve(c.peers["printer"]!.server, SingleW, { request: () => undefined });
  await c.listen();
  try {
    const s0 = await c.peers["client"]!.runtime.start(SingleC, { c: "client", w: "printer" });
    await s0.request({ query: "invoice.pdf" });
  } finally {
    await c.close();
  }
  const keys = staticResolver(Object.values(c.peers).map((p) => [p.id, publicKeysOf(p.identity)] as const));
  t.true(verify(readFileSync(join(dir, "client")), [SingleC], keys).ok);
});
