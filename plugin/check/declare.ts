/**
 * Reads the session options of a file into session declarations: resolves
 * role services, merges security levels, parses the protocol text with its
 * positions in the .proto source.
 */
import { getOption, hasOption, type DescExtension, type DescFile, type DescMethod, type DescService } from "@bufbuild/protobuf";
import type { GenExtension } from "@bufbuild/protobuf/codegenv2";
import type { FileOptions, MethodOptions } from "@bufbuild/protobuf/wkt";
// Types only: the plugin must load without the repository's generated code (buf's `clean: true` removes gen/).
import type { Interaction as InteractionOption, Session } from "../../gen/secsession/v1/options_pb.js";
import type { DiagnosticSink, Position } from "../language/diagnostic.js";
import { parseProtocol } from "../language/parser.js";
import { protocolSourceAt, protocolSourceWithout, type ProtocolSource } from "../language/proto-source.js";
import { applySecurity, DEFAULT_SECURITY, directionPart, type DirectionSecurity, type SessionSecurity } from "./security.js";
import type { RoleDecl, SessionDecl } from "./session-decl.js";
import type { RatchetPolicy } from "../../interceptors/descriptor/types.js";
import { ratchetPolicyProblem } from "../../interceptors/keys/pair-channel.js";

const FILE_OPTIONS = 8; // FileDescriptorProto.options
const SESSION_EXTENSION = 50400;
const DEFAULT_REPLAY_WINDOW_SECONDS = 120;

const OPTIONS_FILE = "secsession/v1/options.proto";

/**
 * The extension `secsession.v1.<name>` as the compiled request describes it (from the options
 * file that `file` imports, directly or not), or undefined when the file does not import it.
 */
function optionsExtension(file: DescFile, name: string): DescExtension | undefined {
  const seen = new Set<DescFile>();
  const stack = [file];
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    if (f.proto.name === OPTIONS_FILE) return f.extensions.find((x) => x.name === name);
    stack.push(...f.dependencies);
  }
  return undefined;
}

const sessionExtension = (file: DescFile) => optionsExtension(file, "session") as GenExtension<FileOptions, Session[]> | undefined;
const interactionExtension = (m: DescMethod) => optionsExtension(m.parent.file, "interaction") as GenExtension<MethodOptions, InteractionOption> | undefined;

/** Finds the source text of a .proto file by its name, if available. */
export type SourceReader = (file: string) => string | undefined;

/** The sessions a file declares (with their declarations, or undefined where a declaration is unusable). */
export function declareSessions(
  file: DescFile,
  services: (name: string) => DescService | undefined,
  readSource: SourceReader,
  sink: DiagnosticSink,
): SessionDecl[] {
  const sessionExt = sessionExtension(file);
  if (sessionExt === undefined || !hasOption(file, sessionExt)) return [];
  const sessions = getOption(file, sessionExt);
  const source = readSource(file.proto.name);
  const out: SessionDecl[] = [];
  const names = new Set<string>();
  sessions.forEach((s, index) => {
    const span = locate(file, [FILE_OPTIONS, SESSION_EXTENSION, index]) ?? locate(file, [FILE_OPTIONS, SESSION_EXTENSION]);
    const pos: Position = { file: file.proto.name, line: (span?.[0] ?? 0) + 1, col: (span?.[1] ?? 0) + 1 };
    const found = source !== undefined && span !== undefined ? protocolSourceAt(file.proto.name, source, span[0]!, span[1]!) : undefined;
    // The source read must hold the protocol buf compiled (a file under `root` may be another version).
    const src: ProtocolSource = found !== undefined && found.value === s.protocol ? found : protocolSourceWithout(file.proto.name, s.protocol, pos);
    const decl = declareSession(file, s, pos, src, services, sink);
    if (decl === undefined) return;
    if (names.has(decl.name)) sink.report("session", src.fieldPosition("name") ?? pos, `session ${decl.name} is declared twice in ${file.proto.name}`);
    names.add(decl.name);
    out.push(decl);
  });
  return out;
}

function declareSession(
  file: DescFile,
  s: Session,
  pos: Position,
  src: ProtocolSource,
  services: (name: string) => DescService | undefined,
  sink: DiagnosticSink,
): SessionDecl | undefined {
  const at = (field: string) => src.fieldPosition(field) ?? pos;
  if (!/^[A-Z][A-Za-z0-9]*$/.test(s.name)) {
    sink.report("session", at("name"), s.name === "" ? "a session needs a name" : `session name ${JSON.stringify(s.name)} must be upper camel case (like Shopping)`);
    return undefined;
  }
  if (s.roles.length === 0) {
    sink.report("session", at("roles"), `session ${s.name} declares no roles`);
    return undefined;
  }
  const roles: RoleDecl[] = [];
  for (const [k, r] of s.roles.entries()) {
    const rpos = src.elementPosition("roles", k) ?? at("roles");
    if (!/^[a-z][a-z0-9_]*$/.test(r.name)) {
      sink.report("session", rpos, `role name ${JSON.stringify(r.name)} must be lower case (like client)`);
      continue;
    }
    if (roles.some((x) => x.name === r.name)) {
      sink.report("session", rpos, `role ${r.name} is declared twice`);
      continue;
    }
    let service: DescService | undefined;
    if (r.service !== "") {
      service = services(r.service.includes(".") ? r.service : `${file.proto.package}.${r.service}`) ?? services(r.service);
      if (service === undefined) {
        sink.report("unknown-service", rpos, `unknown service ${r.service} for role ${r.name}: declare it in ${file.proto.name} or give its fully-qualified name`);
      }
    }
    roles.push({ name: r.name, pos: rpos, service, serviceMissing: r.service !== "" && service === undefined, dynamic: r.dynamic });
  }
  const parsed = parseProtocol(src);
  if (!parsed.ok) {
    sink.report(parsed.diagnostic.code, parsed.diagnostic.position, parsed.diagnostic.message);
    return undefined;
  }
  const security = applySecurity<SessionSecurity>(DEFAULT_SECURITY, s.security);
  const base = directionPart(security);
  const ratchet = ratchetPolicy(s, security, (m) => sink.report("security", at("ratchet"), `session ${s.name}: ${m}`));
  return {
    file: file.proto.name,
    packageName: file.proto.package,
    name: s.name,
    pos,
    roles,
    protocol: parsed.protocol,
    security,
    securityPos: at("security"),
    replayWindowSeconds: s.replayWindowSeconds || DEFAULT_REPLAY_WINDOW_SECONDS,
    ...(ratchet === undefined ? {} : { ratchet }),
    methodSecurity: (m) => methodSecurity(m, base),
    methodSecurityMisuse,
    methodPos: (m) => methodPos(m),
  };
}

/** The session's ratchet policy, if it declares one (every_turn is `{ messages: 1, seconds: 0 }`). */
function ratchetPolicy(s: Session, security: SessionSecurity, report: (message: string) => void): RatchetPolicy | undefined {
  const r = s.ratchet;
  if (r === undefined) return undefined;
  if (security.keyEstablishment !== "noise") {
    report("a ratchet policy applies to pair channels only: remove it, or set key_establishment to KEY_ESTABLISHMENT_NOISE");
    return undefined;
  }
  if (r.everyTurn && (r.messages !== 0 || r.seconds !== 0)) {
    report("ratchet every_turn already steps at every turn: remove messages and seconds, or every_turn");
    return undefined;
  }
  const policy = r.everyTurn ? { messages: 1, seconds: 0 } : { messages: r.messages, seconds: r.seconds };
  const problem = ratchetPolicyProblem(policy);
  if (problem !== undefined) {
    report(problem);
    return undefined;
  }
  return policy;
}

function methodSecurity(m: DescMethod, base: DirectionSecurity): { request: DirectionSecurity; response: DirectionSecurity } {
  const interactionExt = interactionExtension(m);
  if (interactionExt === undefined || !hasOption(m, interactionExt)) return { request: base, response: base };
  const i = getOption(m, interactionExt);
  const both = applySecurity(base, i.security);
  return { request: applySecurity(both, i.request), response: applySecurity(both, i.response) };
}

function methodSecurityMisuse(m: DescMethod): string[] {
  const interactionExt = interactionExtension(m);
  if (interactionExt === undefined || !hasOption(m, interactionExt)) return [];
  const i = getOption(m, interactionExt);
  const out: string[] = [];
  for (const [level, s] of [["security", i.security], ["request", i.request], ["response", i.response]] as const) {
    if (s !== undefined && s.keyEstablishment !== 0) out.push(`key_establishment is a session-level attribute; remove it from ${level} of ${m.name}`);
  }
  if (i.response !== undefined && m.output.typeName === "google.protobuf.Empty") {
    out.push(`${m.name} returns google.protobuf.Empty, so it is one-way and has no response direction to configure`);
  }
  return out;
}

function methodPos(m: DescMethod): Position {
  const file = m.parent.file;
  const si = file.services.indexOf(m.parent);
  const mi = m.parent.methods.indexOf(m);
  const span = locate(file, [6, si, 2, mi]);
  return { file: file.proto.name, line: (span?.[0] ?? 0) + 1, col: (span?.[1] ?? 0) + 1 };
}

function locate(file: DescFile, path: number[]): number[] | undefined {
  const loc = file.proto.sourceCodeInfo?.location.find(
    (l) => l.path.length === path.length && l.path.every((v, i) => v === path[i]),
  );
  return loc?.span;
}
