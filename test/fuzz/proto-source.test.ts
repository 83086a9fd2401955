/**
 * Fuzzing protocolSourceAt (plugin/language/proto-source.ts): on generated .proto sources with a
 * session option (string literals with escapes, comments, odd layouts) it finds the protocol text
 * and maps every character to the exact .proto position it comes from; on any text and any
 * position it never throws, and every position it reports is inside the file. A differential test
 * against buf checks that the generator's idea of protoc's decoding is protoc's.
 */
import test from "ava";
import fc from "fast-check";
import { createFileRegistry, create, getOption } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { session as sessionExt } from "../../gen/secsession/v1/options_pb.js";
import { protocolSourceAt, type OptionSource, type ProtocolSource } from "../../plugin/language/proto-source.js";
import { bufBuild } from "../support/plugin-run.js";
import { allowTime, fuzzChunks, mutated, offsetOf, positionOf, protoCase, protoCaseForBuf, runChunk, unicodeText, type ProtoCase } from "./arbitraries.js";

const SEED = 0x5e55_0002;
const FILE = "fuzz/fuzz.proto";

/** Every mismatch between what protocolSourceAt found and what the case holds. */
function mappingProblems(c: ProtoCase, src: OptionSource | undefined): string[] {
  if (src === undefined) return ["no protocol source found at the option statement"];
  const out: string[] = [];
  if (src.text !== c.text) out.push(`text ${JSON.stringify(src.text)}, expected ${JSON.stringify(c.text)}`);
  if (src.value !== c.value) out.push(`value ${JSON.stringify(src.value)}, expected ${JSON.stringify(c.value)}`);
  for (let i = 0; i <= c.text.length && out.length < 5; i++) {
    const p = src.positionAt(i);
    const want = positionOf(c.source, c.offsets[i]!);
    if (p.file !== FILE || p.line !== want.line || p.col !== want.col) {
      out.push(`positionAt(${i}) (${JSON.stringify(c.text[i] ?? "end")}) is ${p.line}:${p.col}, expected ${want.line}:${want.col}`);
      continue;
    }
    // The property as stated: an unescaped character sits at its own position.
    if (i < c.text.length && !c.escaped.has(i) && c.text[i] !== "\n" /* a separator: at the closing quote */ && c.source[offsetOf(c.source, p.line, p.col)!] !== c.text[i]) {
      out.push(`positionAt(${i}) points at ${JSON.stringify(c.source[offsetOf(c.source, p.line, p.col)!])}, not ${JSON.stringify(c.text[i])}`);
    }
  }
  for (const [k, at] of c.fields) {
    const want = positionOf(c.source, at);
    const p = src.fieldPosition(k);
    if (p?.line !== want.line || p.col !== want.col) out.push(`fieldPosition(${k}) is ${p?.line}:${p?.col}, expected ${want.line}:${want.col}`);
  }
  if (src.fieldPosition("nonexistent") !== undefined) out.push("fieldPosition of a missing field");
  c.roleElements.forEach((at, k) => {
    const want = positionOf(c.source, at);
    const p = src.elementPosition("roles", k);
    if (p?.line !== want.line || p.col !== want.col) out.push(`elementPosition(roles, ${k}) is ${p?.line}:${p?.col}, expected ${want.line}:${want.col}`);
  });
  if (src.elementPosition("roles", c.roleElements.length) !== undefined) out.push("elementPosition past the last role");
  return out;
}

/** Every position a source reports must be inside the file. */
function boundsProblems(source: string, src: ProtocolSource | undefined): string[] {
  if (src === undefined) return [];
  const lines = source.split("\n");
  const out: string[] = [];
  for (const i of [-1, ...Array.from({ length: src.text.length + 1 }, (_, k) => k), src.text.length + 7]) {
    const p = src.positionAt(i);
    if (!(p.line >= 1 && p.line <= lines.length && p.col >= 1 && p.col <= (lines[p.line - 1]?.length ?? 0) + 1)) {
      out.push(`positionAt(${i}) is ${p.line}:${p.col}, outside the file (${lines.length} lines)`);
      break;
    }
  }
  return out;
}

for (const chunk of fuzzChunks(SEED)) {
  test.serial(`protocolSourceAt maps every protocol character to its exact .proto position${chunk.label}`, async (t) => {
    await allowTime(t, chunk.budgetMs + 30_000);
    let chars = 0;
    let escapes = 0;
    const stats = runChunk(
      chunk,
      fc.property(protoCase, (c) => {
        const src = protocolSourceAt(FILE, c.source, c.line, c.col);
        chars += c.text.length;
        escapes += c.escaped.size;
        const problems = [...mappingProblems(c, src), ...boundsProblems(c.source, src)];
        if (problems.length > 0) throw new Error(`${problems.join("\n")}\nsource (option at ${c.line}:${c.col}, 0-based):\n${c.source}`);
      }),
    );
    t.log(stats.report);
    t.log(`${chars} protocol characters checked, ${escapes} of them from escapes`);
    t.pass();
  });
}

const anyPosition = fc.record({ line: fc.integer({ min: 0, max: 40 }), col: fc.integer({ min: 0, max: 120 }) });
const anySource = fc.oneof(
  unicodeText,
  mutated(protoCase.map((c) => c.source)),
  fc.tuple(unicodeText, unicodeText).map(([a, b]) => `${a}option (secsession.v1.session) = { protocol: ${b}`),
);

for (const chunk of fuzzChunks(SEED + 1_000)) {
  test.serial(`protocolSourceAt never throws on any text at any position, and stays inside the file${chunk.label}`, async (t) => {
    await allowTime(t, chunk.budgetMs + 30_000);
    let found = 0;
    const stats = runChunk(
      chunk,
      fc.property(anySource, anyPosition, fc.boolean(), (source, at, atOption) => {
        // Half of the time at the `option` keyword, if there is one.
        const k = source.indexOf("option");
        const pos = atOption && k >= 0 ? { line: source.slice(0, k).split("\n").length - 1, col: k - source.lastIndexOf("\n", k - 1) - 1 } : at;
        const src = protocolSourceAt(FILE, source, pos.line, pos.col);
        if (src !== undefined) found++;
        const problems = boundsProblems(source, src);
        if (problems.length > 0) throw new Error(`${problems.join("\n")}\nat ${pos.line}:${pos.col} in ${JSON.stringify(source)}`);
      }),
    );
    t.log(stats.report);
    t.log(`a protocol source was found in ${((100 * found) / chunk.numRuns).toFixed(1)}% of the inputs`);
    t.pass();
  });
}

test("differential: protoc (buf) stores the protocol the generator predicts, and records the option where protocolSourceAt looks", async (t) => {
  await allowTime(t, 120_000);
  const cases = fc.sample(protoCaseForBuf, { seed: SEED, numRuns: 300 });
  // One package per file (the prefixes declare types); the option line and column stay the same.
  const sourceOf = (k: number) => cases[k]!.source.replace("package fuzz;", `package fuzz.c${k};`);
  const sources = Object.fromEntries(cases.map((_, k) => [`fuzz/case_${k}.proto`, sourceOf(k)]));
  const built = bufBuild(sources);
  const reg = createFileRegistry(create(FileDescriptorSetSchema, { file: built.files }));
  const problems: string[] = [];
  cases.forEach((c, k) => {
    const name = `fuzz/case_${k}.proto`;
    const file = reg.getFile(name)!;
    const value = getOption(file, sessionExt)[0]?.protocol ?? "";
    if (value !== c.value) problems.push(`${name}: protoc stores ${JSON.stringify(value)}, the generator predicts ${JSON.stringify(c.value)}`);
    const span = file.proto.sourceCodeInfo?.location.find((l) => l.path.join(",") === "8,50400,0")?.span;
    if (span?.[0] !== c.line || span[1] !== c.col) problems.push(`${name}: buf records the option at ${span?.[0]}:${span?.[1]}, it is at ${c.line}:${c.col}`);
    const src = protocolSourceAt(name, sourceOf(k), span?.[0] ?? 0, span?.[1] ?? 0);
    if (src === undefined) problems.push(`${name}: protocolSourceAt finds no option at buf's span`);
    else if (src.value !== value) problems.push(`${name}: protocolSourceAt reads ${JSON.stringify(src.value)}, protoc stores ${JSON.stringify(value)}`);
  });
  t.log(`${cases.length} files through buf; ${cases.reduce((n, c) => n + c.escaped.size, 0)} escapes`);
  t.deepEqual(problems, []);
});
