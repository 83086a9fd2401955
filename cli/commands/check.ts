/**
 * `secsession check <file.proto>... [-I DIR]...`: checks the sessions the
 * files declare, as protoc-gen-secsession does during `buf generate`, and
 * prints every problem as `file:line:col: message`.
 */
import { formatDiagnostic } from "../../plugin/language/diagnostic.js";
import { EXIT, parse, type Command, type Io } from "../command.js";
import { compileProtosOrReport } from "../proto-compile.js";

export const check: Command = {
  kind: "command",
  summary: "check the sessions declared in .proto files (as the plugin does), without generating code",
  usage: "secsession check <file.proto>... [-I DIR]...",
  help: `Usage: secsession check <file.proto>... [-I DIR]...

Compiles the files with buf (syntax, imports, types), then checks every session
they declare exactly as protoc-gen-secsession does during buf generate: roles,
services and methods, token discipline, choices, knowledge of choice, loops,
bindings and security attributes (docs/language.md lists every check).

Problems are printed one per line as file:line:col: message, pointing into the
.proto source; on success, one line per session with its roles and the size of
its global graph.

Options:
  -I, --proto-path DIR  an import root (repeatable). Default: the modules of the
                        nearest buf.yaml above the first file, else its directory.
                        secsession/v1/options.proto is always found.
  -h, --help            this help

Needs buf (npm install --save-dev @bufbuild/buf, or set BUF to its path).
Exit codes: 0 no problem, 1 problems found (printed on stderr), 2 usage error
(missing file, unknown option, buf not found).`,
  async run(args: readonly string[], io: Io): Promise<number> {
    const { values, positionals } = parse(args, { "proto-path": { type: "string", short: "I", multiple: true } }, { min: 1, max: Number.MAX_SAFE_INTEGER, names: "<file.proto>" });
    const compiled = compileProtosOrReport(positionals, values["proto-path"] ?? [], io);
    if (compiled === undefined) return EXIT.failed;
    if (compiled.diagnostics.length > 0) {
      io.err(`${compiled.diagnostics.map(formatDiagnostic).join("\n")}\n${compiled.diagnostics.length} problem${compiled.diagnostics.length === 1 ? "" : "s"} found\n`);
      return EXIT.failed;
    }
    if (compiled.descriptors.length === 0) {
      io.out(`no session declared in ${positionals.join(", ")} (declare one with option (secsession.v1.session): docs/language.md)\n`);
      return EXIT.ok;
    }
    for (const d of compiled.descriptors) {
      io.out(`${compiled.displayName(d.file)}: session ${d.name} OK: roles ${d.roles.map((r) => r.name).join(", ")}; ${d.states.length} states, ${d.edges.length} messages; code ${d.code.slice(0, 16)}…\n`);
    }
    return EXIT.ok;
  },
};
