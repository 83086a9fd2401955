/**
 * Soundness of the checker and the projection on protocols it must accept: a branch that starts
 * with a loop, and local states whose moves share an rpc name. (Protocols it must refuse are in
 * corpus/, each with its diagnostics.)
 */
import test from "ava";
import type { SessionDescriptor } from "../../interceptors/descriptor/types.js";
import { moveNameIn, stateMoveNames } from "../../interceptors/descriptor/names.js";
import { projectionViolations } from "../fuzz/checker-oracle.js";
import { typecheckGenerated } from "../fuzz/checker-typecheck.js";
import { bufRegistry, compileBuilt } from "../fuzz/harness.js";
import { formatDiagnostic } from "../../plugin/language/diagnostic.js";
import { runPlugin, bufBuild } from "../support/plugin-run.js";
import { COMMON_FILE, COMMON_SOURCE } from "../fuzz/harness.js";
import { declareSessions } from "../../plugin/check/declare.js";
import { checkFlow } from "../../plugin/check/flow.js";
import { buildGlobalGraph } from "../../plugin/graph/global-graph.js";
import { project } from "../../plugin/graph/projection.js";
import { checkProjections } from "../../plugin/graph/soundness.js";
import { DiagnosticSink } from "../../plugin/language/diagnostic.js";

const ROLES2 = '[{ name: "a" service: "A" }, { name: "b" service: "B" }]';
const ROLES3 = '[{ name: "a" service: "A" }, { name: "b" service: "B" }, { name: "c" service: "C" }]';

/** A .proto file of package corpus declaring session Good with `roles` and the protocol `lines`. */
function source(lines: readonly string[], roles = ROLES3): string {
  return [
    'syntax = "proto3";',
    "package corpus;",
    `import "${COMMON_FILE}";`,
    'import "secsession/v1/options.proto";',
    "option (secsession.v1.session) = {",
    '  name: "Good"',
    `  roles: ${roles}`,
    "  protocol:",
    ...lines.map((l) => `    ${JSON.stringify(l)}`),
    "};",
    "",
  ].join("\n");
}

function compile(lines: readonly string[], roles?: string): { descriptor: SessionDescriptor | undefined; errors: string[] } {
  const res = compileBuilt(bufRegistry({ "good/good.proto": source(lines, roles) }), "good/good.proto");
  return { descriptor: res.descriptors[0], errors: res.diagnostics.map(formatDiagnostic) };
}

const LOOP_FIRST = [
  "choice at a {",
  "  rec L {",
  "    a -> b.Ping;",
  "    b -> a.Ping;",
  "    choice at a { a -> b.Pong; b -> a.Pong; continue L; } or { a -> b.Route; }",
  "  }",
  "} or {",
  "  a -> b.Open;",
  "}",
];

test("a branch that starts with a loop is accepted, and continuing the loop goes back to the loop, not to the choice", (t) => {
  const { descriptor: d, errors } = compile(LOOP_FIRST, ROLES2);
  t.deepEqual(errors, []);
  if (d === undefined) return;
  t.deepEqual(projectionViolations(d), []);
  // b receives Open (the other branch) only before the choice, never after a round of the loop.
  const b = d.projections["b"]!;
  const receives = (s: number) => b.transitions.filter((x) => x.from === s && x.direction === "receive").map((x) => x.label).sort();
  t.deepEqual(receives(b.initial), ["B.Open", "B.Ping"]);
  const afterRound = b.transitions.find((x) => x.label === "A.Pong")!.to;
  t.deepEqual(receives(afterRound), ["B.Ping"]);
  // The global graph agrees: the state `continue L` reaches offers Ping alone.
  const pong = d.edges.find((e) => e.rpc.endsWith("/Pong") && e.sender === "b")!;
  t.deepEqual(d.edges.filter((e) => e.from === pong.to).map((e) => e.rpc), ["/corpus.B/Ping"]);
});

// One local state with two moves of the same rpc name: to two peers (b), from one peer as a call and a one-way message (a).
const SAME_NAMES = [
  "choice at b {",
  "  b -> a.Ping;",
  "  a -> c.Pong;",
  "} or {",
  "  b -> c.Ping;",
  "  c => b.Decide ? {",
  "    yes: c => a.Ping;",
  "    no: c -> a.Ping; a -> c.Ping;",
  "  }",
  "}",
];

test("moves of one local state that share an rpc name get distinct names by the documented rule, in the types and at run time", (t) => {
  const { descriptor: d, errors } = compile(SAME_NAMES);
  t.deepEqual(errors, []);
  if (d === undefined) return;
  t.deepEqual(projectionViolations(d), []);
  const names = (role: string) => {
    const p = d.projections[role]!;
    return p.states.map((s) => stateMoveNames(p.transitions.filter((x) => x.from === s.id)));
  };
  t.deepEqual(names("b")[d.projections["b"]!.initial], ["pingToA", "pingToC"]);
  t.true(
    names("a").some((ns) => JSON.stringify([...ns].sort()) === JSON.stringify(["aPingFromCOneWay", "aPingFromCRequest", "pingFromB"])),
    JSON.stringify(names("a")),
  );
  // The runtime names each transition as the generated types do.
  const built = bufBuild({ [COMMON_FILE]: COMMON_SOURCE, "good/good.proto": source(SAME_NAMES) });
  const out = runPlugin(built.files, ["good/good.proto"], [built.dir]);
  t.is(out.error, undefined);
  const ts = out.files.get("good/good_secsession.ts") ?? "";
  for (const [role, p] of Object.entries(d.projections)) {
    for (const x of p.transitions) t.true(ts.includes(`readonly ${moveNameIn(p, x)}: { readonly direction: "${x.direction}"`), `${role}: ${moveNameIn(p, x)}`);
  }
});

test("the code generated for these sessions type-checks", (t) => {
  t.timeout(120_000);
  const r = typecheckGenerated([source(LOOP_FIRST, ROLES2), source(SAME_NAMES)]);
  t.is(r.errors, "");
});

test("the projections' own check refuses an unsound local state even where knowledge of choice is not run", (t) => {
  // `choice at b { b -> c.Ping; } or { b -> a.Ping; }`: a's first local state stands for the end of the
  // c branch, where a's part is over, and offers a receive (knowledge of choice refuses it too; here only
  // the projections' check runs).
  const src = source(["choice at b {", "  b -> c.Ping;", "} or {", "  b -> a.Ping;", "}"]);
  const built = bufRegistry({ "good/good.proto": src });
  const file = built.registry.getFile("good/good.proto")!;
  const sink = new DiagnosticSink();
  const [decl] = declareSessions(file, (n) => built.registry.getService(n), () => src, sink);
  const flow = checkFlow(decl!, sink);
  const g = buildGlobalGraph(decl!.protocol, flow.interactions);
  t.deepEqual(sink.diagnostics, []);
  checkProjections(g, decl!.roles.map((r) => project(g, r.name)), decl!.protocol.pos, sink);
  t.deepEqual(
    sink.diagnostics.map((d) => d.message.replace(/states [\d, ]+:/, "states …:")),
    [
      "knowledge of choice: role a cannot tell apart the global states …: in one of them its part is over while in another it must still act; give it a message that tells the branches apart",
      "knowledge of choice: role c cannot tell apart the global states …: in one of them its part is over while in another it must still act; give it a message that tells the branches apart",
    ],
  );
});
