/**
 * `secsession check` and `secsession graph` as a user runs them: a child
 * process on real .proto files (buf compiles them), its output and exit codes.
 */
import test from "ava";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfSession } from "../../gen/conf/conf_secsession.js";
import { ROOT } from "../support/plugin-run.js";
import { cli } from "../support/cli.js";

const HEADER = `syntax = "proto3";
package demo;
import "google/protobuf/empty.proto";
import "secsession/v1/options.proto";
`;
const SERVICE = `service Worker {
  rpc Request(RequestRequest) returns (google.protobuf.Empty);
  rpc Other(RequestRequest) returns (google.protobuf.Empty);
}
message RequestRequest { string query = 1; }
`;
const session = (name: string, protocol: string) => `option (secsession.v1.session) = {
  name: "${name}"
  roles: [ { name: "c" }, { name: "w" service: "Worker" } ]
  protocol: "${protocol}"
};
`;

/** Writes `text` as demo.proto in a fresh directory (no buf.yaml above it: its directory is the import root). */
function protoFile(text: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), "secsession-cli-proto-"));
  writeFileSync(join(dir, "demo.proto"), text);
  return { dir, file: join(dir, "demo.proto") };
}

// ---------------------------------------------------------------- check

test("check: a good file exits 0 and names each session with its roles", async (t) => {
  const r = await cli(["check", "examples/conf/conf.proto", "examples/wsne/wsne.proto"]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^examples\/conf\/conf\.proto: session Conf OK: roles pc, author, confman; 13 states, 17 messages/m);
  t.regex(r.stdout, /^examples\/wsne\/wsne\.proto: session Wsne OK: roles c, w;/m);
});

test("check: protocol problems exit 1, one file:line:col line each, pointing into the source", async (t) => {
  const { dir } = protoFile(`${HEADER}${session("Demo", "c -> x.Request; w -> c.Nope;")}${SERVICE}`);
  const r = await cli(["check", "demo.proto"], dir);
  t.is(r.status, 1);
  t.is(r.stdout, "");
  const lines = r.stderr.trim().split("\n");
  t.regex(lines[0]!, /^demo\.proto:8:\d+: .*\bx\b/, "the unknown role x, on the protocol line (line 8)");
  t.regex(r.stderr, /problems? found\n$/);
  for (const l of lines.slice(0, -1)) t.regex(l, /^demo\.proto:\d+:\d+: \S/);
});

test("check: a file buf cannot compile exits 1 with buf's file:line:col, as the user named the file", async (t) => {
  const { dir } = protoFile(`${HEADER}message A { strin x = 1; }\n`);
  const r = await cli(["check", "demo.proto"], dir);
  t.is(r.status, 1);
  t.regex(r.stderr, /^demo\.proto:5:\d+:.*strin/m);
  t.false(r.stderr.includes("/m0/") || /\bm0\//.test(r.stderr), "no path of the temporary workspace leaks");
});

test("check: usage errors exit 2 and say what to do", async (t) => {
  const none = await cli(["check"]);
  t.is(none.status, 2);
  t.regex(none.stderr, /missing <file\.proto>[\s\S]*usage: secsession check/);
  const missing = await cli(["check", "nowhere.proto"]);
  t.is(missing.status, 2);
  t.regex(missing.stderr, /no file .*nowhere\.proto/);
  const notProto = await cli(["check", "package.json"]);
  t.is(notProto.status, 2);
  t.regex(notProto.stderr, /is not a \.proto file/);
  const outside = await cli(["check", "examples/conf/conf.proto", "-I", "proto"]);
  t.is(outside.status, 2);
  t.regex(outside.stderr, /not under any import root .*pass its root with -I DIR/);
  const help = await cli(["check", "--help"]);
  t.is(help.status, 0);
  t.regex(help.stdout, /Exit codes: 0 no problem, 1 problems found/);
});

// ---------------------------------------------------------------- graph

test("graph: the Conf global graph in Mermaid, every message once, the three loops dashed", async (t) => {
  const r = await cli(["graph", "examples/conf/conf.proto"]);
  t.is(r.status, 0, r.stderr);
  t.true(r.stdout.startsWith("flowchart TD\n"));
  const edges = r.stdout.split("\n").filter((l) => / -(->|\.->)\|/.test(l));
  t.is(edges.length, ConfSession.edges.length);
  const loops = edges.filter((l) => l.includes("-.->"));
  t.deepEqual(loops.map((l) => l.match(/"(.*)"/)![1]).sort(), ["author → pc: Shepherd reply", "confman → author: Revise", "confman → author: Upload reply bad_format"]);
  t.regex(r.stdout, /s6\(\(\("6: end"\)\)\)/, "the end state is drawn as final");
  t.regex(r.stdout, /s0\(\["0: pc"\]\)/, "the start state is marked");
});

test("graph: a role's projection in DOT, and an SVG file", async (t) => {
  const dot = await cli(["graph", "examples/conf/conf.proto", "--role", "author", "--format", "dot"]);
  t.is(dot.status, 0, dot.stderr);
  t.regex(dot.stdout, /^digraph "Conf: projection on author" \{/);
  t.regex(dot.stdout, /label="send to confman: Upload \(call\)"/);
  t.regex(dot.stdout, /label="receive from pc: Shepherd \(call\)"/);
  t.regex(dot.stdout, /style=dashed/);

  const dir = mkdtempSync(join(tmpdir(), "secsession-cli-graph-"));
  const out = join(dir, "conf.svg");
  const svg = await cli(["graph", "examples/conf/conf.proto", "--format", "svg", "--out", out]);
  t.is(svg.status, 0, svg.stderr);
  t.regex(svg.stdout, /^wrote .*conf\.svg \(svg, global graph of Conf\)/);
  const text = readFileSync(out, "utf8");
  t.true(text.startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  t.true(text.trimEnd().endsWith("</svg>"));
  t.is((text.match(/<g id="edge\d+" class="edge">/g) ?? []).length, ConfSession.edges.length, "one edge per message");
  t.is((text.match(/<g id="node\d+" class="node">/g) ?? []).length, ConfSession.states.length, "one node per state");
  t.is((text.match(/stroke-dasharray/g) ?? []).length, 3, "the three loops are dashed");
  for (const s of ConfSession.states) t.true(text.includes(`>${s.id}: ${s.holder ?? "end"}</text>`), `state ${s.id} is drawn`);
});

test("graph: choosing among sessions, unknown roles and formats are usage errors that say what to do", async (t) => {
  const { dir } = protoFile(`${HEADER}${session("One", "c -> w.Request;")}${session("Two", "c -> w.Other;")}${SERVICE}`);
  const both = await cli(["graph", "demo.proto"], dir);
  t.is(both.status, 2);
  t.regex(both.stderr, /declares 2 sessions \(One, Two\): choose one with --session NAME/);
  const two = await cli(["graph", "demo.proto", "--session", "Two"], dir);
  t.is(two.status, 0, two.stderr);
  t.regex(two.stdout, /c → w: Other/);
  const unknown = await cli(["graph", "demo.proto", "--session", "Three"], dir);
  t.is(unknown.status, 2);
  t.regex(unknown.stderr, /declares no session "Three"; it declares One, Two/);
  const role = await cli(["graph", "examples/conf/conf.proto", "--role", "reviewer"]);
  t.is(role.status, 2);
  t.regex(role.stderr, /no role "reviewer"; its roles are pc, author, confman/);
  const format = await cli(["graph", "examples/conf/conf.proto", "--format", "png"]);
  t.is(format.status, 2);
  t.regex(format.stderr, /unknown --format "png": use mermaid, dot, svg/);
  const bad = await cli(["graph", "demo.proto"], protoFile(`${HEADER}${session("Bad", "c -> x.Request;")}${SERVICE}`).dir);
  t.is(bad.status, 1);
  t.regex(bad.stderr, /^demo\.proto:\d+:\d+: [\s\S]*not drawn: fix the problems above/);
});

test("the README shows the Conf graph exactly as `secsession graph` draws it", async (t) => {
  const r = await cli(["graph", "examples/conf/conf.proto"]);
  t.is(r.status, 0, r.stderr);
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  t.true(readme.includes(`\`\`\`mermaid\n${r.stdout}\`\`\``), "README.md's mermaid block is stale: paste the output of npx secsession graph examples/conf/conf.proto");
});
