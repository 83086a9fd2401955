/**
 * protoc-gen-secsession: checks the sessions declared in .proto files,
 * projects them per role and emits their descriptors and typed role machines.
 */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, normalize, sep } from "node:path";
import { create, type DescMessage, type DescService } from "@bufbuild/protobuf";
import { CodeGeneratorResponseSchema } from "@bufbuild/protobuf/wkt";
import type { Plugin, Schema } from "@bufbuild/protoplugin";
import { protoplugin } from "./protoplugin.js";
import { compileFile } from "./compile.js";
import { emitSessions, type EmitOptions } from "./emit/emit-session.js";
import { formatDiagnostic, type Diagnostic } from "./language/diagnostic.js";

/** Plugin options (`opt:` in buf.gen.yaml). */
export interface SecsessionOptions extends EmitOptions {
  /** Directories the .proto files are relative to, to read their source for positions. */
  readonly roots: readonly string[];
}

/** Thrown when a checked file has errors; its message lists every diagnostic. */
export class SessionCheckError extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join("\n"));
    this.name = "SessionCheckError";
  }
}

const VERSION = "0.1.0";

const inner = protoplugin.createEcmaScriptPlugin<SecsessionOptions>({
  name: "protoc-gen-secsession",
  version: `v${VERSION}`,
  parseOptions,
  generateTs,
});

/** The plugin. Diagnostics are returned in the response's `error` field. */
export const secsessionPlugin: Plugin = {
  name: inner.name,
  version: inner.version,
  run(request) {
    try {
      return inner.run(request);
    } catch (e: unknown) {
      if (e instanceof SessionCheckError) return create(CodeGeneratorResponseSchema, { error: e.message });
      // A wrong plugin option (ours or protoplugin's: target, import_extension, …) is the user's to fix, not a bug.
      if (e instanceof Error && e.name === "PluginOptionError") return create(CodeGeneratorResponseSchema, { error: e.message });
      // A bug of ours must still read as one line, not a stack trace on the user's terminal.
      const message = e instanceof Error ? e.message : String(e);
      return create(CodeGeneratorResponseSchema, { error: `protoc-gen-secsession: internal error: ${message}` });
    }
  },
};

function parseOptions(raw: Array<{ key: string; value: string }>): SecsessionOptions {
  let roots: string[] | undefined;
  let runtime = "secsession";
  for (const { key, value } of raw) {
    switch (key) {
      case "root":
        if (value === "") throw new Error("option root needs a directory, e.g. root=proto");
        (roots ??= []).push(value);
        break;
      case "runtime":
        if (value === "") throw new Error("option runtime needs a module specifier, e.g. runtime=secsession");
        runtime = value;
        break;
      default:
        throw new Error(`unknown option ${key}: protoc-gen-secsession accepts root=<dir> (repeatable) and runtime=<module>`);
    }
  }
  return { roots: roots ?? rootsFromBufYaml(), runtime };
}

/** The module paths of ./buf.yaml, where buf runs plugins from; else the current directory. */
function rootsFromBufYaml(): string[] {
  if (!existsSync("buf.yaml")) return ["."];
  const paths = [...readFileSync("buf.yaml", "utf8").matchAll(/^\s*-\s*path:\s*(\S+)\s*$/gm)].map((m) => m[1]!);
  return paths.length > 0 ? paths : ["."];
}

function generateTs(schema: Schema<SecsessionOptions>): void {
  const services = new Map<string, DescService>();
  const messages = new Map<string, DescMessage>();
  for (const file of schema.allFiles) {
    for (const s of file.services) services.set(s.typeName, s);
    const walk = (ms: readonly DescMessage[]): void => {
      for (const m of ms) {
        messages.set(m.typeName, m);
        walk(m.nestedMessages);
      }
    };
    walk(file.messages);
  }
  // Where each file's source was found: buf runs plugins in the workspace root and prints
  // paths relative to it (module directory + file name), so diagnostics do too.
  const shownAs = new Map<string, string>();
  const unread = new Set<string>();
  const readSource = (name: string): string | undefined => {
    for (const root of schema.options.roots) {
      const p = join(root, name);
      if (existsSync(p)) {
        // An absolute root (programmatic use) keeps the name relative to it.
        if (!isAbsolute(root)) shownAs.set(name, normalize(p).split(sep).join("/"));
        return readFileSync(p, "utf8");
      }
    }
    unread.add(name);
    return undefined;
  };
  const problems: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const file of schema.files) {
    const { descriptors, diagnostics } = compileFile(file, (n) => services.get(n), readSource);
    for (const d of diagnostics) {
      const shown = { ...d, position: { ...d.position, file: shownAs.get(d.position.file) ?? d.position.file } };
      const line = formatDiagnostic(shown);
      if (seen.has(line)) continue;
      seen.add(line);
      problems.push(shown);
    }
    if (diagnostics.length === 0 && descriptors.length > 0) emitSessions(schema, file, descriptors, (t) => messages.get(t));
  }
  for (const name of unread) warn(`cannot read the source of ${name} under ${schema.options.roots.map((r) => `root=${r}`).join(", ")}: problems are reported at the session option, not at their place in the protocol; pass root=<the buf module directory holding ${name}>`);
  if (problems.length > 0) throw new SessionCheckError(problems);
}

/** A warning on stderr, which buf shows beside its own output; generation goes on. */
function warn(text: string): void {
  process.stderr.write(`protoc-gen-secsession: warning: ${text}\n`);
}
