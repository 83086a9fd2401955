/**
 * Fuzzing the lexer and parser (plugin/language/parser.ts): for any string — random unicode, soups
 * of the language's tokens, generated protocols and mutations of them — parseProtocol returns a
 * protocol or one syntax diagnostic; it never throws and never hangs; without the .proto source it
 * reads the same protocol, or refuses a `//` comment it cannot delimit. Over a source that maps every
 * character to its own line and column, diagnostics point at a token (or the end of the text) and
 * every name of the syntax tree sits exactly at its position.
 */
import test from "ava";
import fc from "fast-check";
import type { Block, Name, Statement } from "../../plugin/language/ast.js";
import type { Position } from "../../plugin/language/diagnostic.js";
import { MAX_NESTING, parseProtocol, type ParseResult } from "../../plugin/language/parser.js";
import { protocolSourceWithout } from "../../plugin/language/proto-source.js";
import { allowTime, fuzzChunks, mutated, offsetOf, protocolTree, renderProtocol, runChunk, textSource, tokenSoup, unicodeText } from "./arbitraries.js";

const SEED = 0x5e55_0001;
const FILE = "fuzz/fuzz.proto";
const AT: Position = { file: FILE, line: 12, col: 3 };

/** Generated protocol texts (mostly well-formed), as the checker fuzzing renders them. */
const protocolText = fc.tuple(protocolTree, fc.nat(5)).map(([t, layout]) => renderProtocol(t, layout).lines.join("\n"));

/** Input classes of earlier findings (test/plugin/fuzz-findings.test.ts). */
const findings: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 100, max: 400 }).map((n) => `a -> b.${"M".repeat(n)};`), // identifiers over 128 characters
  fc.tuple(fc.integer({ min: MAX_NESTING - 2, max: 3_000 }), fc.constantFrom("rec L { ", "choice at a { ", "a => b.Ask { ")).map(([n, open]) => open.repeat(n) + "a -> b.Ping;" + " }".repeat(n)), // deep nesting
  fc.tuple(fc.constantFrom("\u{1F600}", "\u2028", "\u2029", "\u0085", "\u000b", "\u200b", "\ud800"), tokenSoup).map(([c, soup]) => `${soup} ${c}`), // characters named in messages
);

/** Every kind of input, in about equal shares (the findings' classes less often: they are long). */
const parserInput: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: unicodeText, weight: 4 },
  { arbitrary: tokenSoup, weight: 4 },
  { arbitrary: protocolText, weight: 4 },
  { arbitrary: mutated(protocolText), weight: 4 },
  { arbitrary: mutated(tokenSoup), weight: 4 },
  { arbitrary: findings, weight: 1 },
);

const IDENT = /[A-Za-z0-9_]/;

/** The names of a syntax tree, with the statements' own positions as one-character "names". */
function names(b: Block, out: Name[] = []): Name[] {
  const stmt = (s: Statement): void => {
    switch (s.kind) {
      case "interaction":
        out.push(s.from, s.to, s.method);
        if (s.requestType) out.push({ text: s.requestType.text.split(".")[0]!, pos: s.requestType.pos });
        if (s.responseType) out.push({ text: s.responseType.text.split(".")[0]!, pos: s.responseType.pos });
        for (const c of s.clauses) {
          if (c.kind === "bind") out.push(c.role, ...(c.field ? [c.field] : []), { text: "bind", pos: c.pos });
          if (c.kind === "where") out.push(c.field, c.method, c.other, { text: "where", pos: c.pos });
          if (c.kind === "opens") out.push(c.method, c.field, { text: "opens", pos: c.pos });
        }
        if (s.pos !== s.from.pos) out.push({ text: "<interaction pos differs from sender>", pos: s.pos });
        if (s.body) names(s.body, out);
        for (const br of s.branches ?? []) {
          out.push(br.label);
          names(br.body, out);
        }
        break;
      case "choice":
        out.push(s.at, { text: "choice", pos: s.pos });
        s.branches.forEach((br) => names(br, out));
        break;
      case "rec":
        out.push(s.label, { text: "rec", pos: s.pos });
        names(s.body, out);
        break;
      case "continue":
        out.push(s.label, { text: "continue", pos: s.pos });
        break;
    }
  };
  b.stmts.forEach(stmt);
  return out;
}

/** Problems with a parse result over `textSource(text)`. */
function positionProblems(text: string, r: ParseResult): string[] {
  const out: string[] = [];
  if (!r.ok) {
    const { line, col } = r.diagnostic.position;
    const at = offsetOf(text, line, col);
    if (at === undefined) out.push(`diagnostic at ${line}:${col} is outside the text`);
    else if (at < text.length && /[ \t\n\r]/.test(text[at]!)) out.push(`diagnostic at ${line}:${col} points at whitespace`);
    // A character outside the BMP must be named whole, not by its high surrogate.
    else if (/^[\ud800-\udbff][\udc00-\udfff]/.test(text.slice(at, at + 2)) && !r.diagnostic.message.includes(`U+${text.codePointAt(at)!.toString(16).toUpperCase()}`)) {
      out.push(`diagnostic names half a surrogate pair: ${JSON.stringify(r.diagnostic.message)}`);
    }
    return out;
  }
  for (const n of names(r.protocol)) {
    const at = offsetOf(text, n.pos.line, n.pos.col);
    if (at === undefined) {
      out.push(`${n.text} at ${n.pos.line}:${n.pos.col} is outside the text`);
      continue;
    }
    const found = text.slice(at, at + n.text.length);
    if (found !== n.text) out.push(`${n.text} at ${n.pos.line}:${n.pos.col} but the text there is ${JSON.stringify(found)}`);
    else if (IDENT.test(text[at + n.text.length] ?? "") || IDENT.test(text[at - 1] ?? "")) {
      out.push(`${n.text} at ${n.pos.line}:${n.pos.col} is part of a longer identifier`);
    }
  }
  return out;
}

function diagnosticProblems(r: ParseResult, expectAt?: Position): string[] {
  if (r.ok) return [];
  const d = r.diagnostic;
  const out: string[] = [];
  if (d.code !== "syntax") out.push(`code ${d.code}`);
  if (!(d.position.line >= 1 && d.position.col >= 1)) out.push(`position ${d.position.line}:${d.position.col}`);
  if (d.position.file !== FILE) out.push(`file ${d.position.file}`);
  if (expectAt && (d.position.line !== expectAt.line || d.position.col !== expectAt.col)) out.push("position is not the fallback position");
  if (d.message.trim() === "") out.push("empty message");
  if (/[\n\r\u000b\u000c\u0085\u2028\u2029]/.test(d.message)) out.push(`message has a line break: ${JSON.stringify(d.message)}`);
  return out;
}

for (const chunk of fuzzChunks(SEED)) {
  test.serial(`parseProtocol never throws and reports one-line diagnostics at real positions${chunk.label}`, async (t) => {
    await allowTime(t, chunk.budgetMs + 30_000);
    let ok = 0;
    const stats = runChunk(
      chunk,
      fc.property(parserInput, (text) => {
        // Target as the plugin calls it without the .proto source.
        const r1 = parseProtocol(protocolSourceWithout(FILE, text, AT));
        // The same text with a position per character.
        const r2 = parseProtocol(textSource(FILE, text));
        if (r1.ok) ok++;
        const problems = [...diagnosticProblems(r1, AT), ...diagnosticProblems(r2), ...positionProblems(text, r2)];
        // Without the source, a comment that runs to the end of the text is refused: where its literal ended is unknown.
        const refused = !r1.ok && r1.diagnostic.message.startsWith("a '//' comment in the protocol must end with '\\n'");
        if (refused && !text.slice(text.lastIndexOf("\n") + 1).includes("//")) problems.push("a comment refused, but the text has none without its line break");
        if (!refused && (r1.ok !== r2.ok || (!r1.ok && !r2.ok && r1.diagnostic.message !== r2.diagnostic.message))) problems.push("the result depends on the positions");
        if (problems.length > 0) throw new Error(`${problems.join("\n")}\ninput: ${JSON.stringify(text)}`);
      }),
    );
    t.log(stats.report);
    t.log(`${((100 * ok) / chunk.numRuns).toFixed(1)}% of the inputs parse`);
    t.pass();
  });
}

test("parsing time is linear in the input size (no hang on large inputs)", async (t) => {
  await allowTime(t, 120_000);
  // 1,000 inputs of 20-200 KiB: concatenated generated protocols and token soups.
  const big = fc.tuple(fc.array(fc.oneof(protocolText, tokenSoup), { minLength: 1, maxLength: 8 }), fc.integer({ min: 20, max: 200 })).map(([parts, kib]) => {
    const unit = parts.join("\n");
    return unit.length === 0 ? "" : unit.repeat(Math.ceil((kib * 1024) / unit.length)).slice(0, kib * 1024);
  });
  let worst = 0;
  let bytes = 0;
  const start = performance.now();
  fc.assert(
    fc.property(big, (text) => {
      const time = () => {
        const t0 = performance.now();
        parseProtocol(textSource(FILE, text));
        return performance.now() - t0;
      };
      let ms = time();
      if (ms > 2 * (text.length / 1024)) ms = Math.min(ms, time(), time()); // not a GC pause
      worst = Math.max(worst, ms / Math.max(1, text.length / 1024));
      bytes += text.length;
      if (ms > 2 * Math.max(1, text.length / 1024)) throw new Error(`${ms.toFixed(0)} ms for ${text.length} characters`);
    }),
    { seed: SEED, numRuns: 300 },
  );
  const s = (performance.now() - start) / 1000;
  t.log(`${(bytes / 1024 / 1024).toFixed(1)} MiB in ${s.toFixed(1)} s; worst ${worst.toFixed(3)} ms per KiB`);
  t.pass();
});
