/**
 * What protoc-gen-secsession reports under buf generate: problems at paths as
 * buf prints them (module directory + file, relative to the workspace), each
 * once; a wrong plugin option as the user's error, not an internal one; a
 * warning when no root holds a file's source.
 */
import test from "ava";
import { mkdtempSync, writeFileSync, mkdirSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema } from "@bufbuild/protobuf/wkt";
import { secsessionPlugin } from "../../plugin/plugin.js";
import { bufBuild, ROOT } from "../support/plugin-run.js";

const BROKEN = `syntax = "proto3";
package p;
import "google/protobuf/empty.proto";
import "secsession/v1/options.proto";
option (secsession.v1.session) = {
  name: "S"
  roles: [ { name: "a" }, { name: "b" service: "B" } ]
  protocol: "a -> b.Nope;"
};
service B { rpc M(Req) returns (google.protobuf.Empty); }
message Req {}
`;

/** Runs the plugin as buf does: from the workspace root `cwd`, with `parameter`. */
function runIn(cwd: string, parameter: string) {
  const { files } = bufBuild({ "p/p.proto": BROKEN });
  const req = create(CodeGeneratorRequestSchema, { fileToGenerate: ["p/p.proto"], parameter, protoFile: files });
  const before = process.cwd();
  const writes: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.chdir(cwd);
  process.stderr.write = ((chunk: string | Uint8Array) => (writes.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    const res = secsessionPlugin.run(req);
    return { error: res.error ?? "", stderr: writes.join("") };
  } finally {
    process.stderr.write = write;
    process.chdir(before);
  }
}

/** A workspace with the module directory `protos/` holding p/p.proto. */
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), "secsession-plugin-errors-"));
  mkdirSync(join(dir, "protos", "p"), { recursive: true });
  writeFileSync(join(dir, "protos", "p", "p.proto"), BROKEN);
  cpSync(join(ROOT, "proto", "secsession"), join(dir, "protos", "secsession"), { recursive: true });
  return dir;
}

test("a problem is reported once, at the path buf prints (module directory + file), at its place in the protocol", (t) => {
  const { error, stderr } = runIn(workspace(), "target=ts,root=protos");
  const lines = error.split("\n");
  t.is(lines.length, 1, error);
  t.regex(lines[0]!, /^protos\/p\/p\.proto:8:\d+: unknown method Nope/);
  t.is(stderr, "");
});

test("the roots default to buf.yaml's module paths", (t) => {
  const dir = workspace();
  writeFileSync(join(dir, "buf.yaml"), "version: v2\nmodules:\n  - path: protos\n");
  t.regex(runIn(dir, "target=ts").error, /^protos\/p\/p\.proto:8:\d+: unknown method Nope/);
});

test("a root that holds no source: a warning saying so, and positions at the session option", (t) => {
  const { error, stderr } = runIn(workspace(), "target=ts,root=elsewhere");
  t.regex(stderr, /^protoc-gen-secsession: warning: cannot read the source of p\/p\.proto under root=elsewhere/);
  t.regex(error, /^p\/p\.proto:5:1: unknown method Nope/);
});

for (const [option, message] of [
  ["root=", /^invalid option "root=protos,root=": option root needs a directory/],
  ["colour=blue", /^invalid option "root=protos,colour=blue": unknown option colour/],
  ["import_extension=foo", /^invalid option "import_extension=foo"/],
] as const) {
  test(`a wrong plugin option (${option}) is the user's error, not an internal one`, (t) => {
    const { error } = runIn(workspace(), `target=ts,root=protos,${option}`);
    t.regex(error, message);
    t.notRegex(error, /internal error/);
  });
}
