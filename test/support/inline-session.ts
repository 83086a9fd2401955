/**
 * Sessions written inline in a test: a .proto source compiled by buf, its
 * session compiled by the plugin's own pipeline — or, `unchecked`, past the
 * checker's verdict (the runtime must be sound whatever the checker accepts) —
 * optionally with each edge's security changed; and a "world" of runtimes,
 * one per principal, playing it over the transport-agnostic buffer API.
 */
import { create, createFileRegistry, type DescFile, type Message } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sessionCode } from "../../interceptors/descriptor/code.js";
import type { DirectionSecurity, EdgeDescriptor, SessionDescriptor, SessionSecurity } from "../../interceptors/descriptor/types.js";
import { createSessionRuntime, defineRole, generateIdentity, publicKeysOf, staticResolver, type Identity, type SessionRuntime, type SessionRuntimeOptions } from "../../interceptors/index.js";
import type { Party, Received } from "../../interceptors/runtime/party.js";
import { compileFile } from "../../plugin/compile.js";
import { declareSessions } from "../../plugin/check/declare.js";
import { checkFlow } from "../../plugin/check/flow.js";
import { buildDescriptor } from "../../plugin/graph/descriptor.js";
import { buildGlobalGraph } from "../../plugin/graph/global-graph.js";
import { DiagnosticSink, formatDiagnostic } from "../../plugin/language/diagnostic.js";
import { bufBuild } from "./plugin-run.js";

export interface InlineSession {
  readonly descriptor: SessionDescriptor;
  readonly file: DescFile;
}

export interface InlineOptions {
  /** Compile past the checker: flow errors and knowledge of choice are not held against the protocol. */
  readonly unchecked?: boolean;
  /** Replaces the security of the edges it returns something for (merged over the edge's own). */
  readonly security?: (e: EdgeDescriptor) => Partial<DirectionSecurity> | undefined;
  /** Session-level security (key establishment, say) merged over the compiled one. */
  readonly session?: Partial<SessionSecurity>;
}

const FILE = "inline/inline.proto";

/** Compiles the first session of `proto` (a whole .proto file, package and imports included). */
export function inlineSession(proto: string, options: InlineOptions = {}): InlineSession {
  const built = bufBuild({ [FILE]: proto });
  const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: built.files }));
  const file = registry.getFile(FILE)!;
  const read = (n: string) => {
    try {
      return readFileSync(join(built.dir, n), "utf8");
    } catch {
      return undefined;
    }
  };
  let descriptor: SessionDescriptor;
  if (options.unchecked === true) {
    const sink = new DiagnosticSink();
    const [decl] = declareSessions(file, (n) => registry.getService(n), read, sink);
    if (decl === undefined) throw new Error(`no session: ${sink.diagnostics.map(formatDiagnostic).join("; ")}`);
    const flow = checkFlow(decl, sink); // its verdict is ignored: only the resolved interactions are used
    descriptor = buildDescriptor(decl, buildGlobalGraph(decl.protocol, flow.interactions));
  } else {
    const res = compileFile(file, (n) => registry.getService(n), read);
    if (res.descriptors.length === 0) throw new Error(`the checker refuses the session: ${res.diagnostics.map(formatDiagnostic).join("; ")}`);
    descriptor = res.descriptors[0]!;
  }
  return { descriptor: withSecurity(descriptor, options), file };
}

/** `d` with edge and session security replaced, and its session code recomputed. */
export function withSecurity(d: SessionDescriptor, options: Pick<InlineOptions, "security" | "session">): SessionDescriptor {
  if (options.security === undefined && options.session === undefined) return d;
  const { code: _code, ...rest } = d;
  const body: Omit<SessionDescriptor, "code"> = {
    ...rest,
    security: { ...d.security, ...options.session },
    edges: d.edges.map((e) => ({ ...e, security: { ...e.security, ...options.security?.(e) } })),
  };
  return { ...body, code: sessionCode(body) };
}

/** Every attribute off: the configuration of a public, unprotected direction. */
export const ALL_OFF: DirectionSecurity = { privacy: "none", authenticity: "none", nonRepudiation: false, replayPrevention: false, history: "none" };

/** One runtime per principal, sharing a resolver; parties by (principal, role). */
export interface World {
  readonly session: InlineSession;
  readonly identities: Readonly<Record<string, Identity>>;
  readonly runtimes: Readonly<Record<string, SessionRuntime>>;
  party(principal: string, role: string): Party;
  /** The edge `sender -> receiver` of `method` (its request, response or one-way message) leaving global state `from`, if given. */
  edge(method: string, kind: EdgeDescriptor["kind"], from?: number): EdgeDescriptor;
  /** Seals `init` as `edge` at `principal` (playing the edge's sender) in session `sid`. */
  wrap(principal: string, sid: string, edge: EdgeDescriptor, init?: object, bind?: Readonly<Record<string, string>>): Promise<Uint8Array>;
  /** Opens `bytes` at `principal` (playing the edge's receiver), as a message of `edge`'s rpc and kind. */
  unwrap(principal: string, edge: EdgeDescriptor, bytes: Uint8Array, from?: string, sid?: string): Promise<Received>;
}

export function world(session: InlineSession, principals: readonly string[], options: (id: string) => Partial<SessionRuntimeOptions> = () => ({})): World {
  const identities = Object.fromEntries(principals.map((p) => [p, generateIdentity(p)]));
  const resolver = staticResolver(Object.values(identities).map((i) => [i.id, publicKeysOf(i)] as const));
  const runtimes = Object.fromEntries(principals.map((p) => [p, createSessionRuntime({ identity: identities[p]!, resolver, ...options(p) })]));
  const party = (principal: string, role: string) => runtimes[principal]!.party(defineRole(session.descriptor, role, session.file));
  const edge = (method: string, kind: EdgeDescriptor["kind"], from?: number) => {
    const e = session.descriptor.edges.find((x) => x.rpc.endsWith(`/${method}`) && x.kind === kind && (from === undefined || x.from === from));
    if (e === undefined) throw new Error(`no ${kind} edge of ${method}${from === undefined ? "" : ` from ${from}`}`);
    return e;
  };
  return {
    session,
    identities,
    runtimes,
    party,
    edge,
    async wrap(principal, sid, e, init = {}, bind = {}) {
      const p = party(principal, e.sender);
      const message = create(p.schema(e.messageType), init as never) as Message;
      const bindings = e.binds.map((b) => ({ role: b.role, principal: bind[b.role] ?? "" }));
      return (await p.wrap(sid, e, message, bindings)).bytes;
    },
    unwrap(principal, e, bytes, from = "peer", sid) {
      return party(principal, e.receiver).unwrap(bytes, e.rpc, [e.kind], from, sid);
    },
  };
}
