/**
 * Emits, for each session of a file, its compiled descriptor and a typed
 * view of each role's local state machine: for every local state, the moves
 * it allows (messages to send or receive), each with its peer, rpc, message
 * schema and next state.
 */
import type { DescFile, DescMessage } from "@bufbuild/protobuf";
import type { GeneratedFile, Schema } from "@bufbuild/protoplugin";
import type { SessionDescriptor } from "../../interceptors/descriptor/types.js";
import { stateMoveNames, upperCamel } from "./names.js";

/** Options of the plugin that the emitter uses. */
export interface EmitOptions {
  /** Module specifier of the runtime, e.g. `secsession`. */
  readonly runtime: string;
}

/** Writes `<file>_secsession.ts` for the sessions of `file`. */
export function emitSessions(
  schema: Schema<EmitOptions>,
  file: DescFile,
  descriptors: readonly SessionDescriptor[],
  messageType: (typeName: string) => DescMessage | undefined,
): void {
  const f = schema.generateFile(`${file.name}_secsession.ts`);
  f.preamble(file);
  const SessionDescriptorT = f.import("SessionDescriptor", schema.options.runtime, true);
  for (const d of descriptors) {
    emitDescriptor(f, d, SessionDescriptorT);
    emitRoles(f, d);
    for (const role of d.roles) emitMachine(f, d, file, role.name, messageType, schema.options.runtime);
  }
}

function emitDescriptor(f: GeneratedFile, d: SessionDescriptor, T: ReturnType<GeneratedFile["import"]>): void {
  f.print(f.jsDoc(`The compiled descriptor of session ${d.name} (session code ${d.code}).\nThe runtime enforces the session from this value alone; see docs/descriptor.md.`));
  const json = layoutJson(d).split("\n");
  f.print(f.export("const", `${d.name}Session`), ": ", T, " = ", json[0]!);
  for (const line of json.slice(1, -1)) f.print(line);
  f.print(json[json.length - 1]!, ";");
  f.print();
}

/**
 * JSON with one line per field of the descriptor, and one line per element of
 * its lists (states, edges, local states and transitions).
 */
function layoutJson(d: SessionDescriptor): string {
  const lines = ["{"];
  const entries = Object.entries(d);
  entries.forEach(([k, v], i) => {
    const comma = i < entries.length - 1 ? "," : "";
    if (k === "projections") {
      lines.push(`  "projections": {`);
      const roles = Object.entries(v as SessionDescriptor["projections"]);
      roles.forEach(([role, p], j) => {
        lines.push(`    ${JSON.stringify(role)}: {`, `      "initial": ${p.initial},`);
        lines.push(`      "states": [`, ...listLines(p.states, "        "), "      ],");
        lines.push(`      "transitions": [`, ...listLines(p.transitions, "        "), "      ]");
        lines.push(`    }${j < roles.length - 1 ? "," : ""}`);
      });
      lines.push(`  }${comma}`);
    } else if (Array.isArray(v) && v.length > 0 && typeof v[0] === "object") {
      lines.push(`  ${JSON.stringify(k)}: [`, ...listLines(v, "    "), `  ]${comma}`);
    } else {
      lines.push(`  ${JSON.stringify(k)}: ${JSON.stringify(v)}${comma}`);
    }
  });
  lines.push("}");
  return lines.join("\n");
}

function listLines(xs: readonly unknown[], indent: string): string[] {
  return xs.map((x, i) => `${indent}${JSON.stringify(x)}${i < xs.length - 1 ? "," : ""}`);
}

function emitRoles(f: GeneratedFile, d: SessionDescriptor): void {
  f.print(f.jsDoc(`The roles of session ${d.name}.`));
  f.print(f.export("type", `${d.name}Role`), " = ", d.roles.map((r) => JSON.stringify(r.name)).join(" | "), ";");
  f.print();
}

function emitMachine(
  f: GeneratedFile,
  d: SessionDescriptor,
  /** The session's own file: its services are there, and its imports hold every message type. */
  file: DescFile,
  role: string,
  messageType: (typeName: string) => DescMessage | undefined,
  runtime: string,
): void {
  const p = d.projections[role]!;
  const name = `${d.name}${upperCamel(role)}Machine`;
  f.print(f.jsDoc(`Role ${role} of session ${d.name}: each local state (starting at ${p.initial}) with the moves it allows.`));
  f.print(f.export("type", name), " = {");
  for (const s of p.states) {
    const moves = p.transitions.filter((t) => t.from === s.id);
    if (moves.length === 0) {
      f.print(`  ${s.id}: { readonly final: true };`);
      continue;
    }
    f.print(`  ${s.id}: {`);
    const names = stateMoveNames(moves);
    for (const [i, t] of moves.entries()) {
      const e = d.edges[t.edges[0]!]!;
      const msg = messageType(e.messageType);
      if (msg === undefined) throw new Error(`message type ${e.messageType} is not in the request`);
      f.print(`    readonly ${names[i]}: { readonly direction: "${t.direction}"; readonly kind: "${e.kind}"; readonly peer: "${t.peer}"; readonly rpc: "${e.rpc}"; readonly message: typeof `, f.importSchema(msg, true), `;${caseType(e, msg)} readonly next: ${t.to} };`);
    }
    f.print("  };");
  }
  f.print("};");
  f.print();
  const bindings = emitBindings(f, d, role);
  const defineRole = f.import("defineRole", runtime);
  const role$ = `${d.name}${upperCamel(role)}`;
  f.print(f.jsDoc(`Role ${role} of session ${d.name}: pass it to a SessionRuntime to play the role.`));
  f.print(f.export("const", role$), " = ", defineRole, "<", name, ", ", bindings, ">(", `${d.name}Session, ${JSON.stringify(role)}, `, f.importSchema(file, false), ");");
  f.print();
}

/**
 * The case of a response branch, by the protoc-gen-es local names of its
 * oneof and field (what a message object of the schema uses), or "".
 */
function caseType(e: SessionDescriptor["edges"][number], msg: DescMessage): string {
  if (e.case === null) return "";
  const oneof = msg.oneofs.find((o) => o.name === e.case!.oneof);
  const field = msg.fields.find((x) => x.number === e.case!.field.number);
  if (oneof === undefined || field === undefined || field.oneof !== oneof) throw new Error(`edge ${e.id}: ${msg.typeName} has no field ${e.case.field.name} in oneof ${e.case.oneof}`);
  return ` readonly case: { readonly oneof: ${JSON.stringify(oneof.localName)}; readonly field: ${JSON.stringify(field.localName)} };`;
}

/**
 * Emits `<Session><Role>Bindings`, what `SessionRuntime.start` takes for the
 * role: for the role that starts the session, its static roles by name, each
 * required but the role's own (the runtime binds it to its identity); for
 * any other role `never`, as it cannot start the session. Dynamic roles are
 * absent: a message's `bind` binds them. Returns the type's name.
 */
function emitBindings(f: GeneratedFile, d: SessionDescriptor, role: string): string {
  const name = `${d.name}${upperCamel(role)}Bindings`;
  const starter = d.states[d.initial]?.holder;
  if (starter !== role) {
    f.print(f.jsDoc(`Role ${role} does not start session ${d.name} (${starter ?? "no role"} does): it has no bindings to start with.`));
    f.print(f.export("type", name), " = never;");
    f.print();
    return name;
  }
  const statics = d.roles.filter((r) => !r.dynamic).map((r) => r.name);
  const dynamics = d.roles.filter((r) => r.dynamic).map((r) => r.name);
  const doc = [
    `The principals role ${role} binds when it starts session ${d.name}: every static role; its own (${role}) defaults to the runtime's identity.`,
    dynamics.length === 0 ? "" : `Dynamic roles (${dynamics.join(", ")}) are bound later, by the messages that bind them.`,
  ];
  f.print(f.jsDoc(doc.filter((x) => x !== "").join("\n")));
  f.print(f.export("type", name), " = {");
  for (const r of statics) f.print(`  readonly ${/^[A-Za-z_$][\w$]*$/.test(r) ? r : JSON.stringify(r)}${r === role ? "?" : ""}: string;`);
  f.print("};");
  f.print();
  return name;
}

