/**
 * Resolves the names of one interaction against the protobuf descriptors:
 * the callee's service and method, message types, oneof cases, and the
 * fields its clauses refer to.
 */
import { ScalarType, type DescField, type DescMessage, type DescMethod, type DescOneof } from "@bufbuild/protobuf";
import type { Interaction, Name } from "../language/ast.js";
import type { DiagnosticSink } from "../language/diagnostic.js";
import type { ResolvedInteraction, SessionDecl } from "./session-decl.js";

const EMPTY = "google.protobuf.Empty";

/** Resolves `s`, reporting what does not resolve; undefined when the method is unknown. */
export function resolveInteraction(
  decl: SessionDecl,
  s: Interaction,
  sink: DiagnosticSink,
): ResolvedInteraction | undefined {
  const callee = decl.roles.find((r) => r.name === s.to.text)!;
  if (callee.service === undefined) {
    if (callee.serviceMissing) return undefined;
    sink.report("unknown-service", s.to.pos, `role ${callee.name} serves no service, so ${s.method.text} cannot be called on it: set 'service' on role ${callee.name}`);
    return undefined;
  }
  const method = callee.service.methods.find((m) => m.name === s.method.text);
  if (method === undefined) {
    const names = callee.service.methods.map((m) => m.name).join(", ");
    sink.report("unknown-method", s.method.pos, `unknown method ${s.method.text}: service ${callee.service.typeName} (served by ${callee.name}) has ${names || "no methods"}`);
    return undefined;
  }
  if (method.methodKind !== "unary") {
    sink.report("streaming", s.method.pos, `${method.parent.name}.${method.name} is a ${method.methodKind} rpc: sessions use unary rpcs, one message per edge`);
  }
  const output = method.output;
  if (!s.call && output.typeName !== EMPTY) {
    sink.report("oneway-not-empty", s.method.pos, `one-way message ${s.method.text} ('->') must return google.protobuf.Empty, but returns ${output.typeName}: use '=>' for a call, or return Empty`);
  }
  checkType(s.requestType, method.input, "request", sink);
  checkType(s.responseType, output, "response", sink);
  const oneof = s.branches === undefined ? undefined : resolveBranches(s, output, sink);
  return {
    node: s,
    method,
    request: method.input,
    response: s.call ? output : undefined,
    oneof,
    bindings: resolveBindings(decl, s, method.input, sink),
    where: resolveWhere(decl, s, method.input, sink),
    opens: resolveOpens(decl, s, sink),
    requestSecurity: decl.methodSecurity(method).request,
    responseSecurity: decl.methodSecurity(method).response,
  };
}

function checkType(expected: Name | undefined, actual: DescMessage, what: string, sink: DiagnosticSink): void {
  if (expected === undefined) return;
  if (expected.text !== actual.typeName && expected.text !== actual.name) {
    sink.report("type", expected.pos, `wrong ${what} type: the protocol says ${expected.text} but the rpc's ${what} is ${actual.typeName}`);
  }
}

function resolveBranches(s: Interaction, output: DescMessage, sink: DiagnosticSink): DescOneof | undefined {
  const oneofs = output.oneofs;
  const pos = s.branchesPos ?? s.method.pos;
  if (oneofs.length !== 1) {
    sink.report("type", pos, `response branches need a response with exactly one oneof: ${output.typeName} has ${oneofs.length}`);
    return undefined;
  }
  const oneof = oneofs[0]!;
  const seen = new Set<string>();
  for (const b of s.branches ?? []) {
    if (!oneof.fields.some((f) => f.name === b.label.text)) {
      sink.report("unknown-field", b.label.pos, `unknown case ${b.label.text}: oneof ${oneof.name} of ${output.typeName} has ${oneof.fields.map((f) => f.name).join(", ")}`);
    } else if (seen.has(b.label.text)) {
      sink.report("unreachable", b.label.pos, `unreachable branch: case ${b.label.text} is already handled above`);
    }
    seen.add(b.label.text);
  }
  const missing = oneof.fields.filter((f) => !seen.has(f.name)).map((f) => f.name);
  if (missing.length > 0) {
    sink.report("type", pos, `response branches of ${s.method.text} must cover every case of oneof ${oneof.name}: missing ${missing.join(", ")}`);
  }
  return oneof;
}

function resolveBindings(decl: SessionDecl, s: Interaction, input: DescMessage, sink: DiagnosticSink): ResolvedInteraction["bindings"] {
  const out: Array<ResolvedInteraction["bindings"][number]> = [];
  for (const c of s.clauses) {
    if (c.kind !== "bind") continue;
    const role = decl.roles.find((r) => r.name === c.role.text);
    if (role === undefined) {
      sink.report("unknown-role", c.role.pos, `unknown role ${c.role.text} in bind: the session declares ${decl.roles.map((r) => r.name).join(", ")}`);
      continue;
    }
    if (!role.dynamic) {
      sink.report("binding", c.role.pos, `role ${role.name} is bound when the session starts: declare it 'dynamic: true' to bind it during the session`);
    }
    if (role.name === s.from.text) {
      sink.report("binding", c.role.pos, `${s.from.text} cannot bind itself: a role's principal is bound by another role`);
    }
    let field: DescField | undefined;
    if (c.field !== undefined) {
      field = fieldOf(input, c.field, sink);
      if (field !== undefined && !isScalar(field, ScalarType.STRING)) {
        sink.report("type", c.field.pos, `bind ${role.name} = ${c.field.text}: a principal is a string, but ${c.field.text} is not a string field`);
      }
    }
    out.push({ role: role.name, field });
  }
  return out;
}

function resolveWhere(decl: SessionDecl, s: Interaction, input: DescMessage, sink: DiagnosticSink): ResolvedInteraction["where"] {
  const out: Array<ResolvedInteraction["where"][number]> = [];
  for (const c of s.clauses) {
    if (c.kind !== "where") continue;
    const field = fieldOf(input, c.field, sink);
    const ref = earlierField(decl, c.method, c.other, sink);
    if (field === undefined || ref === undefined) continue;
    if (!sameType(field, ref.field)) {
      sink.report("type", c.field.pos, `where ${c.field.text} == ${c.method.text}.${c.other.text}: the two fields have different types`);
      continue;
    }
    out.push({ field, method: ref.method, inRequest: ref.inRequest, other: ref.field });
  }
  return out;
}

function resolveOpens(decl: SessionDecl, s: Interaction, sink: DiagnosticSink): ResolvedInteraction["opens"] {
  const c = s.clauses.find((x) => x.kind === "opens");
  if (c === undefined || c.kind !== "opens") return undefined;
  const ref = earlierField(decl, c.method, c.field, sink);
  if (ref === undefined) return undefined;
  if (!isScalar(ref.field, ScalarType.BYTES)) {
    sink.report("type", c.field.pos, `opens ${c.method.text}.${c.field.text}: a commitment is a bytes field (SHA-256 of the opening message)`);
    return undefined;
  }
  return { method: ref.method, inRequest: ref.inRequest, field: ref.field };
}

/** A field of an earlier message, named `Method.field` (request first, then response). */
function earlierField(decl: SessionDecl, method: Name, field: Name, sink: DiagnosticSink): { method: DescMethod; inRequest: boolean; field: DescField } | undefined {
  const methods = decl.roles.flatMap((r) => r.service?.methods ?? []).filter((m) => m.name === method.text);
  const m = methods[0];
  if (m === undefined) {
    sink.report("unknown-method", method.pos, `unknown method ${method.text}: no role of the session serves it`);
    return undefined;
  }
  const inReq = m.input.fields.find((f) => f.name === field.text);
  const inRes = m.output.fields.find((f) => f.name === field.text);
  if (inReq !== undefined && inRes !== undefined) {
    sink.report("unknown-field", field.pos, `${method.text}.${field.text} is ambiguous: both the request and the response have a field ${field.text}`);
    return undefined;
  }
  if (inReq === undefined && inRes === undefined) {
    sink.report("unknown-field", field.pos, `unknown field ${field.text}: neither ${m.input.typeName} nor ${m.output.typeName} has it`);
    return undefined;
  }
  return { method: m, inRequest: inReq !== undefined, field: (inReq ?? inRes)! };
}

function fieldOf(msg: DescMessage, name: Name, sink: DiagnosticSink): DescField | undefined {
  const f = msg.fields.find((x) => x.name === name.text);
  if (f === undefined) {
    sink.report("unknown-field", name.pos, `unknown field ${name.text}: ${msg.typeName} has ${msg.fields.map((x) => x.name).join(", ") || "no fields"}`);
  }
  return f;
}

function isScalar(f: DescField, t: ScalarType): boolean {
  return f.fieldKind === "scalar" && f.scalar === t;
}

function sameType(a: DescField, b: DescField): boolean {
  if (a.fieldKind !== b.fieldKind) return false;
  switch (a.fieldKind) {
    case "scalar": return b.fieldKind === "scalar" && a.scalar === b.scalar;
    case "enum": return b.fieldKind === "enum" && a.enum.typeName === b.enum.typeName;
    case "message": return b.fieldKind === "message" && a.message.typeName === b.message.typeName;
    default: return false;
  }
}
