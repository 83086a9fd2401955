/**
 * The compiler pipeline for one .proto file: declare -> check -> build the
 * global graph -> check single binding and knowledge of choice -> project ->
 * check the projections -> descriptor.
 * Diagnostics are collected, never thrown.
 */
import type { DescFile, DescMethod, DescService } from "@bufbuild/protobuf";
import type { SessionDescriptor } from "../interceptors/descriptor/types.js";
import { declareSessions, type SourceReader } from "./check/declare.js";
import { checkFlow } from "./check/flow.js";
import { securityViolations } from "./check/security.js";
import type { SessionDecl } from "./check/session-decl.js";
import { buildDescriptor } from "./graph/descriptor.js";
import { buildGlobalGraph } from "./graph/global-graph.js";
import { checkSingleBinding } from "./graph/binding.js";
import { checkKnowledgeOfChoice } from "./graph/knowledge.js";
import { project } from "./graph/projection.js";
import { checkProjections } from "./graph/soundness.js";
import type { Block, Statement } from "./language/ast.js";
import { DiagnosticSink, sortDiagnostics, type Diagnostic } from "./language/diagnostic.js";

export interface CompileResult {
  readonly descriptors: SessionDescriptor[];
  readonly diagnostics: Diagnostic[];
}

/**
 * Test-only relaxations of the checker. `allowRebinding`: skip the single-binding rule, so that the
 * integrity property can hand the runtime protocols that re-bind a dynamic role — the runtime must be
 * sound whatever the checker accepts (its own `rebinding` and `speakers` defences). Never set by the
 * plugin.
 */
export interface CompileOptions {
  readonly allowRebinding?: boolean;
}

/** Compiles every session a file declares. */
export function compileFile(
  file: DescFile,
  services: (name: string) => DescService | undefined,
  readSource: SourceReader,
  options: CompileOptions = {},
): CompileResult {
  const sink = new DiagnosticSink();
  const descriptors: SessionDescriptor[] = [];
  for (const decl of declareSessions(file, services, readSource, sink)) {
    const d = compileSession(decl, sink, options);
    if (d !== undefined) descriptors.push(d);
  }
  return { descriptors, diagnostics: sortDiagnostics(dedupe(sink.diagnostics)) };
}

/** Checks and compiles one declared session; undefined if it has errors. */
export function compileSession(decl: SessionDecl, sink: DiagnosticSink, options: CompileOptions = {}): SessionDescriptor | undefined {
  const before = sink.diagnostics.length;
  const flow = checkFlow(decl, sink);
  checkSecurity(decl, [...new Set([...flow.interactions.values()].map((r) => r.method))], sink);
  if (sink.diagnostics.length > before || !allResolved(decl.protocol, flow.interactions)) return undefined;
  const graph = buildGlobalGraph(decl.protocol, flow.interactions);
  if (options.allowRebinding !== true) checkSingleBinding(graph, sink);
  checkKnowledgeOfChoice(graph, decl.roles.map((r) => r.name), sink);
  if (sink.diagnostics.length > before) return undefined;
  const projections = decl.roles.map((r) => project(graph, r.name));
  checkProjections(graph, projections, decl.protocol.pos, sink);
  if (sink.diagnostics.length > before) return undefined;
  return buildDescriptor(decl, graph, projections);
}

function checkSecurity(decl: SessionDecl, methods: readonly DescMethod[], sink: DiagnosticSink): void {
  const keys = decl.security.keyEstablishment;
  for (const v of securityViolations(decl.security, keys)) sink.report("security", decl.securityPos, `session ${decl.name}: ${v}`);
  for (const m of methods) {
    const pos = decl.methodPos(m);
    for (const v of decl.methodSecurityMisuse(m)) sink.report("security", pos, v);
    const { request, response } = decl.methodSecurity(m);
    const oneway = m.output.typeName === "google.protobuf.Empty";
    for (const [dir, sec] of oneway ? [["request", request] as const] : ([["request", request], ["response", response]] as const)) {
      for (const v of securityViolations(sec, keys)) {
        if (securityViolations(decl.security, keys).includes(v)) continue; // reported at the session
        sink.report("security", pos, `${m.name} ${dir}: ${v}`);
      }
    }
  }
}

/** True when every interaction of `b` resolved (a declaration error may have stopped one silently). */
function allResolved(b: Block, resolved: ReadonlyMap<Statement, unknown>): boolean {
  return b.stmts.every((s) => {
    switch (s.kind) {
      case "interaction":
        return resolved.has(s) && (s.body === undefined || allResolved(s.body, resolved)) && (s.branches ?? []).every((br) => allResolved(br.body, resolved));
      case "choice": return s.branches.every((br) => allResolved(br, resolved));
      case "rec": return allResolved(s.body, resolved);
      case "continue": return true;
    }
  });
}

function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const k = `${d.position.file}:${d.position.line}:${d.position.col}:${d.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
