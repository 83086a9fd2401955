import test from "ava";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, createFileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { bufBuild, ROOT, runPlugin } from "../support/plugin-run.js";
import { projectionViolations } from "../fuzz/checker-oracle.js";
import { compileBuilt } from "../fuzz/harness.js";

// Ill-formed protocols: each file ends with the exact diagnostics the plugin must print. A few
// well-formed controls end with `// expect: accepted` instead.
const DIR = join(ROOT, "test", "plugin", "corpus");
const cases = readdirSync(DIR).filter((f) => f.endsWith(".proto") && f !== "common.proto").sort();
const sources = Object.fromEntries(readdirSync(DIR).map((f) => [`corpus/${f}`, readFileSync(join(DIR, f), "utf8")]));
const built = bufBuild(sources);
const registry = { registry: createFileRegistry(create(FileDescriptorSetSchema, { file: built.files })), dir: built.dir };

const expectations = (text: string) =>
  [...text.matchAll(/^\/\/ expect: (.*)$/gm)].map((m) => m[1]!);

const accepted = (name: string) => expectations(sources[`corpus/${name}`]!).join() === "accepted";

test("the corpus has at least 30 ill-formed protocols", (t) => {
  const n = cases.filter((c) => !accepted(c)).length;
  t.true(n >= 30, `${n} cases`);
});

for (const name of cases.filter(accepted)) {
  test(`well-formed: ${name}`, (t) => {
    const out = runPlugin(built.files, [`corpus/${name}`], [built.dir]);
    t.is(out.error, undefined);
    t.true(out.files.size > 0, "the session's code is generated");
    const res = compileBuilt(registry, `corpus/${name}`);
    t.is(res.descriptors.length, 1);
    for (const d of res.descriptors) t.deepEqual(projectionViolations(d), [], "the projections are sound");
  });
}

for (const name of cases.filter((c) => !accepted(c))) {
  test(`ill-formed: ${name}`, (t) => {
    const expected = expectations(sources[`corpus/${name}`]!);
    t.true(expected.length > 0, "the case states its diagnostics");
    const out = runPlugin(built.files, [`corpus/${name}`], [built.dir]);
    t.deepEqual(out.error?.split("\n"), expected);
    t.is(out.files.size, 0, "nothing is generated for an ill-formed session");
  });
}

test("every check of docs/language.md has at least one corpus case", (t) => {
  const codes = new Set<string>();
  const all = cases.map((c) => runPlugin(built.files, [`corpus/${c}`], [built.dir]).error ?? "").join("\n");
  for (const [code, pattern] of Object.entries(CHECKS)) if (pattern.test(all)) codes.add(code);
  t.deepEqual([...codes].sort(), Object.keys(CHECKS).sort());
});

// One recognisable phrase per check.
const CHECKS: Record<string, RegExp> = {
  syntax: /expected |unexpected character|the protocol is empty/,
  "unknown-role": /unknown role/,
  "unknown-service": /unknown service|serves no service/,
  "unknown-method": /unknown method/,
  type: /wrong (request|response) type|must cover every case|exactly one oneof|different types/,
  "oneway-not-empty": /must return google\.protobuf\.Empty/,
  streaming: /streaming rpc/,
  token: /holds the token|sends to itself|holding the token/,
  "nondeterministic-choice": /nondeterministic choice|must start with a message/,
  "knowledge-of-choice": /knowledge of choice/,
  "unguarded-recursion": /unguarded recursion/,
  "dangling-recursion": /no enclosing loop|leaves the body of a call|never continued|already defined/,
  unreachable: /unreachable/,
  "unused-role": /never sends nor receives/,
  binding: /is dynamic and not bound|bound when the session starts/,
  security: /non-repudiation needs signatures|replay prevention without integrity|privacy needs key establishment|session-level attribute|no response direction/,
};

test("the real plugin process reports diagnostics without a stack trace", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "secsession-gen-"));
  cpSync(join(ROOT, "proto"), join(dir, "proto"), { recursive: true });
  cpSync(DIR, join(dir, "src", "corpus"), { recursive: true });
  writeFileSync(join(dir, "buf.yaml"), "version: v2\nmodules:\n  - path: proto\n  - path: src\n");
  writeFileSync(
    join(dir, "buf.gen.yaml"),
    `version: v2\ninputs:\n  - directory: src\n    paths: [src/corpus/token_wrong_sender.proto]\nplugins:\n  - local: ["node", "--import=${join(ROOT, "node_modules", "tsx", "dist", "esm", "index.mjs")}", "${join(ROOT, "plugin", "protoc-gen-secsession.ts")}"]\n    out: gen\n    opt: [target=ts]\n`,
  );
  let stderr = "";
  try {
    execFileSync(join(ROOT, "node_modules", ".bin", "buf"), ["generate"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  } catch (e: unknown) {
    stderr = String((e as { stderr?: Buffer }).stderr ?? "");
  }
  t.regex(stderr, /corpus\/token_wrong_sender\.proto:14:6: a cannot send Pong here: b holds the token/);
  t.notRegex(stderr, /\n\s+at /, "no stack trace");
});

test("a long straight-line protocol compiles quickly (projection does not blow up)", (t) => {
  const lines = Array.from({ length: 80 }, (_, i) => (i % 2 === 0 ? '    "a -> b.Ping;"' : '    "b -> a.Ping;"'));
  const text = `syntax = "proto3";\npackage longline;\nimport "corpus/common.proto";\nimport "secsession/v1/options.proto";\noption (secsession.v1.session) = {\n  name: "Long"\n  roles: [{ name: "a" service: "corpus.A" }, { name: "b" service: "corpus.B" }]\n  protocol:\n${lines.join("\n")}\n};\n`;
  const b = bufBuild({ ...Object.fromEntries(Object.entries(sources).filter(([k]) => k.endsWith("common.proto"))), "longline/long.proto": text });
  const start = Date.now();
  const out = runPlugin(b.files, ["longline/long.proto"], [b.dir]);
  t.is(out.error, undefined);
  t.true(Date.now() - start < 2000, `compiled in ${Date.now() - start} ms`);
});
