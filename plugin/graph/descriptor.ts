/**
 * Assembles the session descriptor from the checked declaration, its global
 * graph, projections and visibility sets, and stamps it with its session code.
 */
import type { DescField, DescMethod } from "@bufbuild/protobuf";
import { sessionCode } from "../../interceptors/descriptor/code.js";
import type { EarlierFieldRef, EdgeDescriptor, FieldRef, SessionDescriptor } from "../../interceptors/descriptor/types.js";
import type { SessionDecl } from "../check/session-decl.js";
import type { GlobalGraph, GraphEdge } from "./global-graph.js";
import { project, type Projection } from "./projection.js";
import { visibilitySets } from "./visibility.js";

/** The gRPC path of a method: `/package.Service/Method`. */
export function rpcPath(m: DescMethod): string {
  return `/${m.parent.typeName}/${m.name}`;
}

const fieldRef = (f: DescField): FieldRef => ({ name: f.name, number: f.number });

const earlier = (method: DescMethod, inRequest: boolean, field: DescField): EarlierFieldRef => ({
  rpc: rpcPath(method),
  direction: inRequest ? "request" : "response",
  field: fieldRef(field),
});

/** Builds the descriptor of a checked session from its global graph and the projections of every role (in role order). */
export function buildDescriptor(decl: SessionDecl, g: GlobalGraph, projected: readonly Projection[] = decl.roles.map((r) => project(g, r.name))): SessionDescriptor {
  const roleNames = decl.roles.map((r) => r.name);
  const vis = visibilitySets(g, roleNames);
  const edges = g.edges.map((e) => edgeDescriptor(e, vis[e.id]!));
  const projections = Object.fromEntries(projected.map((p) => [p.role, { initial: p.initial, states: p.states, transitions: p.transitions }]));
  const body: Omit<SessionDescriptor, "code"> = {
    format: "secsession.descriptor.v1",
    package: decl.packageName,
    name: decl.name,
    file: decl.file,
    roles: decl.roles.map((r) => ({ name: r.name, service: r.service?.typeName ?? null, dynamic: r.dynamic })),
    security: decl.security,
    replayWindowMs: decl.replayWindowSeconds * 1000,
    // Left out when undeclared, so sessions without a policy keep their session code.
    ...(decl.ratchet === undefined ? {} : { ratchet: decl.ratchet }),
    initial: g.initial,
    states: g.states.map((s) => ({ id: s.id, holder: s.holder })),
    edges,
    projections,
  };
  return { ...body, code: sessionCode(body) };
}

function edgeDescriptor(e: GraphEdge, visibility: string[]): EdgeDescriptor {
  const r = e.interaction;
  const isResponse = e.kind === "response";
  const caseField = e.case === undefined ? undefined : r.oneof?.fields.find((f) => f.name === e.case);
  return {
    id: e.id,
    from: e.from,
    to: e.to,
    sender: e.sender,
    receiver: e.receiver,
    kind: e.kind,
    rpc: rpcPath(e.method),
    messageType: isResponse ? e.method.output.typeName : e.method.input.typeName,
    case: caseField === undefined || r.oneof === undefined ? null : { oneof: r.oneof.name, field: fieldRef(caseField) },
    binds: isResponse ? [] : r.bindings.map((b) => ({ role: b.role, field: b.field ? fieldRef(b.field) : null })),
    where: isResponse ? [] : r.where.map((w) => ({ field: fieldRef(w.field), equals: earlier(w.method, w.inRequest, w.other) })),
    opens: isResponse || r.opens === undefined ? null : earlier(r.opens.method, r.opens.inRequest, r.opens.field),
    security: isResponse ? r.responseSecurity : r.requestSecurity,
    visibility,
  };
}
