/**
 * Regressions for the bugs the fuzz targets (test/fuzz/) found in the front end of the plugin: the
 * lexer and parser (identifiers, characters, nesting), the reading of the protocol literals from
 * the .proto source (escapes, columns, the colon) and the compilation without that source.
 */
import test from "ava";
import { getOption } from "@bufbuild/protobuf";
import { session as sessionExt } from "../../gen/secsession/v1/options_pb.js";
import { compileFile } from "../../plugin/compile.js";
import { formatDiagnostic, type Position } from "../../plugin/language/diagnostic.js";
import { offsetOfColumn } from "../../plugin/language/display-width.js";
import { MAX_NESTING, parseProtocol } from "../../plugin/language/parser.js";
import { protocolSourceAt, protocolSourceWithout } from "../../plugin/language/proto-source.js";
import { offsetOf, textSource } from "../fuzz/arbitraries.js";
import { bufRegistry, compileBuilt } from "../fuzz/harness.js";

const FILE = "fuzz/fuzz.proto";
const AT: Position = { file: FILE, line: 12, col: 3 };
const parse = (text: string) => parseProtocol(protocolSourceWithout(FILE, text, AT));
const parseAt = (text: string) => parseProtocol(textSource(FILE, text));
/** The 1-based line and column of `needle`'s k-th occurrence in `text`. */
function where(text: string, needle: string, k = 0): { line: number; col: number } {
  let at = -1;
  for (let i = 0; i <= k; i++) at = text.indexOf(needle, at + 1);
  if (at < 0) throw new Error(`no ${needle}`);
  const before = text.slice(0, at);
  return { line: before.split("\n").length, col: at - before.lastIndexOf("\n") };
}

// --- Nesting ------------------------------------------------------------------------------------

test("blocks nested beyond the limit are a syntax diagnostic at the first '{' too deep, not a stack overflow", (t) => {
  const deep = (n: number, open: (k: number) => string, inner: string, close: string) => Array.from({ length: n }, (_, k) => open(k)).join("") + inner + close.repeat(n);
  const cases: Array<[string, (n: number) => string]> = [
    ["rec", (n) => deep(n, (k) => `rec L${k} { `, "a -> b.Ping; continue L0;", " }")],
    ["choice", (n) => deep(n, () => "choice at a { ", "a -> b.Ping;", " } or { a -> b.Pong; }")],
    ["call body", (n) => deep(n, () => "a => b.Ask { ", "b -> a.Ping; ", " }")],
    ["response branches", (n) => deep(n, () => "a => b.Decide ? { yes: ", "a -> b.Ping;", " no: a -> b.Pong; }")],
  ];
  for (const [kind, make] of cases) {
    t.true(parseAt(make(MAX_NESTING)).ok, `${kind}: ${MAX_NESTING} nested blocks parse`);
    for (const n of [MAX_NESTING + 1, 10_000]) {
      const text = make(n);
      const r = parseAt(text);
      if (r.ok) {
        t.fail(`${kind}: ${n} nested blocks parse`);
        continue;
      }
      t.is(r.diagnostic.code, "syntax");
      t.is(r.diagnostic.message, `blocks nest more than ${MAX_NESTING} deep here: the language allows at most ${MAX_NESTING} nested blocks ('{ … }')`);
      t.deepEqual({ line: r.diagnostic.position.line, col: r.diagnostic.position.col }, where(text, "{", MAX_NESTING), `${kind}: at the ${MAX_NESTING + 1}th '{'`);
      t.false(parse(text).ok); // without positions too
    }
  }
});

/** `n` nested choices at a: each first branch goes one level deeper. */
function nestedChoices(n: number): string[] {
  return [...Array.from({ length: n }, () => '"choice at a { a -> b.Ping; b -> a.Ping;"'), '"a -> b.Ping;"', ...Array.from({ length: n }, () => '"} or { a -> b.Pong; }"')];
}

const session = (protocol: readonly string[], indent = "", name = "S", roles = '{ name: "a" service: "corpus.A" }, { name: "b" service: "corpus.B" }') =>
  [
    `${indent}option (secsession.v1.session) = {`,
    `${indent}  name: "${name}"`,
    `${indent}  roles: [${roles}]`,
    `${indent}  protocol:`,
    ...protocol.map((l) => `${indent}    ${l}`),
    `${indent}};`,
  ].join("\n");

const file = (pkg: string, ...sessions: string[]) =>
  ['syntax = "proto3";', `package ${pkg};`, 'import "corpus/common.proto";', 'import "secsession/v1/options.proto";', ...sessions, ""].join("\n");

const built = bufRegistry({
  "findings/deepest.proto": file("findings.deepest", session(nestedChoices(MAX_NESTING))),
  "findings/too_deep.proto": file("findings.too_deep", session(nestedChoices(MAX_NESTING + 1))),
  "findings/unicode_escape.proto": file("findings.unicode_escape", session(['"a -> b.\\u0050ing; // \\U0001F600 \\303\\251 \\xc3\\xa9"', '"b -> a.\\u0050\\x6f\\156g;"'])),
  "findings/tab_indented.proto": file("findings.tab_indented", session(['"a -> b.Ping; // the first message"', '"b -> a.Pong;"'], "\t")),
  "findings/tab_unknown.proto": file("findings.tab_unknown", session(['"a -> b.Ping;"', '"b -> a.Nope;"'], "\t\t")),
  "findings/comment.proto": file("findings.comment", session(['"a -> b.Ping; // the first message"', '"b -> a.Pong;"'])),
  "findings/comment_newline.proto": file("findings.comment_newline", session(['"a -> b.Ping; // the first message\\n"', '"b -> a.Pong;"'])),
  "findings/plain.proto": file("findings.plain", session(['"a -> b.Ping;"', '"b -> a.Pong;"', '"a => b.Ask;"'])),
  "findings/role_break.proto": file("findings.role_break", session(['"a -> b.Ping;"'], "", "S", '{ name: "a\\u2028b" service: "corpus.A" }, { name: "b" service: "corpus.B" }')),
});

test(`the whole plugin compiles ${MAX_NESTING} nested blocks, and refuses ${MAX_NESTING + 1} with the nesting diagnostic`, (t) => {
  const ok = compileBuilt(built, "findings/deepest.proto");
  t.deepEqual(ok.diagnostics.map(formatDiagnostic), []);
  t.is(ok.descriptors[0]?.edges.length, 3 * MAX_NESTING + 1);
  const bad = compileBuilt(built, "findings/too_deep.proto");
  t.deepEqual(
    bad.diagnostics.map(formatDiagnostic),
    [`findings/too_deep.proto:${8 + MAX_NESTING + 1}:18: blocks nest more than ${MAX_NESTING} deep here: the language allows at most ${MAX_NESTING} nested blocks ('{ … }')`],
  );
});

// --- Lexer --------------------------------------------------------------------------------------

test("an identifier of any length is one identifier", (t) => {
  for (const n of [128, 129, 300, 10_000]) {
    const method = "M".repeat(n);
    const text = `a -> b.${method};`;
    const r = parseAt(text);
    if (!r.ok) return void t.fail(r.diagnostic.message);
    const s = r.protocol.stmts[0];
    t.is(s?.kind === "interaction" ? s.method.text : undefined, method);
    t.is(s?.kind === "interaction" ? s.method.pos.col : undefined, 8);
  }
});

test("a character outside the BMP is named whole, at its position", (t) => {
  const text = "a -> b.Ping;\n  \u{1F600}";
  const r = parseAt(text);
  if (r.ok) return void t.fail("parsed");
  t.is(r.diagnostic.message, 'unexpected character "\u{1F600}" (U+1F600)');
  t.deepEqual([r.diagnostic.position.line, r.diagnostic.position.col], [2, 3]);
  const ascii = parseAt("a -> b.Ping; $");
  t.is(ascii.ok ? "" : ascii.diagnostic.message, 'unexpected character "$"');
  const lone = parseAt("a -> b.Ping; \ud800");
  t.is(lone.ok ? "" : lone.diagnostic.message, "unexpected character U+D800");
});

test("a line break or control character is named by its code point: every diagnostic is one line", (t) => {
  for (const [c, name] of [["\u2028", "U+2028"], ["\u2029", "U+2029"], ["\u0085", "U+0085"], ["\u000b", "U+000B"], ["\u000c", "U+000C"], ["\u0000", "U+0000"], ["\u200b", "U+200B"]] as const) {
    const r = parse(`a -> b.Ping; ${c}`);
    if (r.ok) {
      t.fail(`parsed ${name}`);
      continue;
    }
    t.is(r.diagnostic.message, `unexpected character ${name}`);
    t.notRegex(formatDiagnostic(r.diagnostic), /[\n\r\u000b\u000c\u0085\u2028\u2029]/);
  }
  // A message quoting user text (a role name with U+2028, from an escape protoc decodes) is one line too.
  const res = compileBuilt(built, "findings/role_break.proto");
  const lines = res.diagnostics.map(formatDiagnostic);
  t.true(lines.includes('findings/role_break.proto:7:11: role name "a\\u2028b" must be lower case (like client)'), lines.join("\n"));
  for (const l of lines) t.notRegex(l, /[\n\r\u000b\u000c\u0085\u2028\u2029]/);
});

// --- Reading the literals from the .proto source --------------------------------------------------

test("escapes are decoded as protoc and buf decode them: \\u, \\U, and octal and hex bytes forming UTF-8", (t) => {
  const res = compileBuilt(built, "findings/unicode_escape.proto");
  t.deepEqual(res.diagnostics.map(formatDiagnostic), []);
  t.deepEqual(res.descriptors[0]?.edges.map((e) => e.rpc), ["/corpus.B/Ping", "/corpus.A/Pong"]);
  const stored = getOption(built.registry.getFile("findings/unicode_escape.proto")!, sessionExt)[0]!.protocol;
  t.is(stored, "a -> b.Ping; // \u{1F600} é éb -> a.Pong;");

  const source = "option (secsession.v1.session) = { protocol: 'a -> b.\\u0050ing; // \\U0001F600\\303\\251\\xC3\\xa9\\0\\400\\x414\\1234\\?' };";
  const src = protocolSourceAt(FILE, source, 0, 0);
  if (src === undefined) return void t.fail("not found");
  t.is(src.text, "a -> b.Ping; // \u{1F600}éé\0\0A4S4?");
  t.is(src.value, src.text);
  const col = (i: number) => src.positionAt(i).col;
  t.is(col(src.text.indexOf("P")), source.indexOf("\\u0050") + 1);
  t.is(col(src.text.indexOf("i")), source.indexOf("ing") + 1);
  t.is(col(src.text.indexOf("\u{1F600}")), source.indexOf("\\U0001F600") + 1);
  t.is(col(src.text.indexOf("\u{1F600}") + 1), source.indexOf("\\U0001F600") + 1); // both halves of the pair
  t.is(col(src.text.indexOf("é")), source.indexOf("\\303") + 1); // the first byte's escape
  t.is(col(src.text.lastIndexOf("é")), source.indexOf("\\xC3") + 1);
  t.is(col(src.text.indexOf("4")), source.indexOf("\\x414") + 5); // \x takes two digits at most

  // What buf refuses (checked against buf: "invalid escape sequence", "non-UTF-8 string literal") is no protocol source.
  for (const bad of ["\\xe9", "\\351", "\\777", "\\xc0\\x80", "\\xed\\xa0\\x80", "\\q", "\\x", "\\8", "\\uD800", "\\u12", "\\U00110000", "\\U0000004", "a\\\nb", "a\nb", "a\0b"]) {
    t.is(protocolSourceAt(FILE, `option (secsession.v1.session) = { protocol: "${bad}" };`, 0, 0), undefined, bad);
  }
});

test("columns are buf's: tab stops of 4 and wide characters of 2 cells, as buf records them (checked against buf)", (t) => {
  // Lines that hold something before the option statement, each with the column buf records.
  const prefixes = ["\t", "\t\t", " \t", "   \t", "    \t", "/*x*/\t", "/*é*/\t", "/*中*/", "/*\u{1F600}*/", "/*\u{1D400}*/", "/*e\u0301\u0301*/", "/*\u{1F468}\u200d\u{1F469}\u200d\u{1F467}*/", "/*\u{1F1EB}\u{1F1F7}*/", "/*\u263a\ufe0f*/", "/*\u263a*/", "/*\u00ad\u200b\ufeff*/", "/*ｱＡ\u3000*/\t", "/*\u1100\u1161가*/", "/*x\u200dx*/", "/*\u{1F44D}\u{1F3FB}*/", "/*\t\t*/", "\r ", "\u000b ", "\u000c "];
  const sessions = prefixes.map((p, k) => `${p}option (secsession.v1.session) = { name: "S${k}" roles: [{ name: "a" service: "corpus.A" }, { name: "b" service: "corpus.B" }] protocol: "a -> b.Ping${k % 2 === 0 ? "" : " "};" };`);
  const source = file("findings.columns", ...sessions);
  const b = bufRegistry({ "findings/columns.proto": source });
  const f = b.registry.getFile("findings/columns.proto")!;
  const lines = source.split("\n");
  const values = getOption(f, sessionExt);
  const problems: string[] = [];
  prefixes.forEach((p, k) => {
    const span = f.proto.sourceCodeInfo?.location.find((l) => l.path.join(",") === `8,50400,${k}`)?.span;
    if (span === undefined) return void problems.push(`${JSON.stringify(p)}: no span`);
    const line = lines[span[0]!]!;
    if (offsetOfColumn(line, span[1]!) !== p.length) problems.push(`${JSON.stringify(p)}: buf's column ${span[1]} is offset ${offsetOfColumn(line, span[1]!)}, the option is at ${p.length}`);
    const src = protocolSourceAt("findings/columns.proto", source, span[0]!, span[1]!);
    if (src?.value !== values[k]!.protocol) problems.push(`${JSON.stringify(p)}: read ${JSON.stringify(src?.value)}`);
    else if (src.positionAt(0).col !== line.indexOf('"a -> b') + 2) problems.push(`${JSON.stringify(p)}: the protocol starts at column ${src.positionAt(0).col}`);
  });
  t.deepEqual(problems, []);
});

test("a tab-indented session is read from its source: nothing lost, diagnostics inside the literal", (t) => {
  const res = compileBuilt(built, "findings/tab_indented.proto");
  t.deepEqual(res.diagnostics.map(formatDiagnostic), []);
  t.deepEqual(res.descriptors[0]?.edges.map((e) => e.rpc), ["/corpus.B/Ping", "/corpus.A/Pong"]);
  const bad = compileBuilt(built, "findings/tab_unknown.proto");
  t.deepEqual(bad.diagnostics.map((d) => `${d.position.line}:${d.position.col}`), ["10:15"]); // `Nope` in `\t\t    "b -> a.Nope;"`
  t.regex(bad.diagnostics[0]?.message ?? "", /unknown method Nope/);
});

test("a column past the end of its line, or inside a tab or a wide character, is no option statement", (t) => {
  const source = '\n\noption (secsession.v1.session) = { protocol: "a -> b.Ping;" };\n\t\u4e2doption (secsession.v1.session) = { protocol: "x" };\n';
  t.is(protocolSourceAt(FILE, source, 0, 2), undefined); // line 0 is empty; offset 2 would be the `option` on line 2
  t.is(protocolSourceAt(FILE, source, 2, 200), undefined);
  t.is(protocolSourceAt(FILE, source, 3, 0), undefined); // the tab, not the statement
  t.is(protocolSourceAt(FILE, source, 3, 2), undefined); // inside the tab
  t.is(protocolSourceAt(FILE, source, 3, 5), undefined); // inside 中
  t.is(protocolSourceAt(FILE, source, 3, 6)?.text, "x");
  t.is(protocolSourceAt(FILE, source, 9, 0), undefined);
  t.is(protocolSourceAt(FILE, source, -1, 0), undefined);
  const src = protocolSourceAt(FILE, source, 2, 0)!;
  const p = src.positionAt(0);
  t.is(source.split("\n")[p.line - 1]?.[p.col - 1], "a");
});

test("without the colon, a literal decoding to ':' is the protocol, not the colon", (t) => {
  t.is(protocolSourceAt(FILE, "option (secsession.v1.session) = { protocol '\\072' };\n", 0, 0)?.text, ":");
  t.is(protocolSourceAt(FILE, "option (secsession.v1.session) = { protocol: '\\072' };\n", 0, 0)?.text, ":");
});

// --- Without the .proto source --------------------------------------------------------------------

test("without the source, a // comment that does not end with \\n is refused with a clear diagnostic, not read to the end", (t) => {
  const withSource = compileBuilt(built, "findings/comment.proto", true);
  t.is(withSource.descriptors[0]?.edges.length, 2);
  const without = compileBuilt(built, "findings/comment.proto", false);
  t.deepEqual(without.descriptors, []);
  t.deepEqual(without.diagnostics.map(formatDiagnostic), [
    "findings/comment.proto:5:1: a '//' comment in the protocol must end with '\\n' when the .proto source is not available: the plugin cannot tell where its string literal ends (run the plugin with root=<dir>, the directory the .proto file names are relative to, or end the comment with \\n)",
  ]);
  // A comment ended by \n inside its literal needs no source.
  const a = compileBuilt(built, "findings/comment_newline.proto", true).descriptors[0];
  const b = compileBuilt(built, "findings/comment_newline.proto", false).descriptors[0];
  t.is(a?.edges.length, 2);
  t.is(b?.code, a?.code);
});

test("without the source, the same edges in the same order and the same session code", (t) => {
  const withSource = compileBuilt(built, "findings/plain.proto", true).descriptors[0];
  const without = compileBuilt(built, "findings/plain.proto", false).descriptors[0];
  t.deepEqual(withSource?.edges.map((e) => `${e.rpc} ${e.kind}`), ["/corpus.B/Ping oneway", "/corpus.A/Pong oneway", "/corpus.B/Ask request", "/corpus.B/Ask response"]);
  t.deepEqual(without?.edges.map((e) => `${e.rpc} ${e.kind}`), withSource?.edges.map((e) => `${e.rpc} ${e.kind}`));
  t.is(without?.code, withSource?.code);
});

test("a source that is not the file buf compiled is not read: the session compiles as buf stored it", (t) => {
  const name = "findings/plain.proto";
  const f = built.registry.getFile(name)!;
  const withSource = compileBuilt(built, name, true).descriptors[0];
  // The file under `root` was edited after buf compiled it: `Pong` became `Ask`.
  const edited = file("findings.plain", session(['"a -> b.Ping;"', '"b => a.Ask;"', '"a => b.Ask;"']));
  const res = compileFile(f, (n) => built.registry.getService(n), (n) => (n === name ? edited : undefined));
  t.deepEqual(res.diagnostics, []);
  t.is(res.descriptors[0]?.code, withSource?.code);
});
