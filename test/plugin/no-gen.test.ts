/**
 * The plugin loads without the repository's generated code: `buf generate` with `clean: true` removes
 * gen/ before it runs the plugins, so a plugin that imported gen/ at load time would fail on every
 * run after one that stopped half-way. The plugin runs here as buf runs it (a process reading a
 * CodeGeneratorRequest), with every module under gen/ refused by a resolve hook.
 */
import test from "ava";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema, CodeGeneratorResponseSchema } from "@bufbuild/protobuf/wkt";
import { COMMON_FILE, COMMON_SOURCE } from "../fuzz/harness.js";
import { bufBuild, ROOT } from "../support/plugin-run.js";

const GOOD = [
  'syntax = "proto3";',
  "package corpus;",
  `import "${COMMON_FILE}";`,
  'import "secsession/v1/options.proto";',
  'option (secsession.v1.session) = { name: "Good" roles: [{ name: "a" service: "A" }, { name: "b" service: "B" }] protocol: "a -> b.Ping; b => a.Ask;" };',
  "",
].join("\n");

function runWithoutGen(req: Uint8Array): { files: string[]; error: string } {
  const gen = pathToFileURL(join(ROOT, "gen")).href + "/";
  const hook = `export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.startsWith(${JSON.stringify(gen)})) throw new Error("the plugin loads generated code: " + r.url); return r; }`;
  const register = `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
  const out = execFileSync(
    process.execPath,
    ["--import", `data:text/javascript,${encodeURIComponent(register)}`, "--import", "tsx", join(ROOT, "plugin", "protoc-gen-secsession.ts")],
    { cwd: ROOT, input: req, stdio: ["pipe", "pipe", "pipe"] },
  );
  const res = fromBinary(CodeGeneratorResponseSchema, out);
  return { files: res.file.map((f) => f.name ?? ""), error: res.error ?? "" };
}

test("the plugin checks and generates with no module of gen/ loadable", (t) => {
  const built = bufBuild({ [COMMON_FILE]: COMMON_SOURCE, "good/good.proto": GOOD });
  const req = create(CodeGeneratorRequestSchema, { fileToGenerate: ["good/good.proto"], parameter: `target=ts,root=${built.dir}`, protoFile: built.files });
  const r = runWithoutGen(toBinary(CodeGeneratorRequestSchema, req));
  t.is(r.error, "");
  t.deepEqual(r.files, ["good/good_secsession.ts"]);
});

test("the hook does refuse gen/: a module that imports it fails to load", (t) => {
  const hookCheck = () =>
    execFileSync(process.execPath, ["--import", "tsx", "-e", `import(${JSON.stringify(pathToFileURL(join(ROOT, "gen", "secsession", "v1", "options_pb.ts")).href)})`], { cwd: ROOT, stdio: "pipe" });
  t.notThrows(hookCheck, "gen/ loads without the hook");
  const gen = pathToFileURL(join(ROOT, "gen")).href + "/";
  const hook = `export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.startsWith(${JSON.stringify(gen)})) throw new Error("refused"); return r; }`;
  const register = `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
  t.throws(() =>
    execFileSync(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(register)}`, "--import", "tsx", "-e", `await import(${JSON.stringify(pathToFileURL(join(ROOT, "test", "fuzz", "harness.ts")).href)})`], { cwd: ROOT, stdio: "pipe" }),
  );
});
