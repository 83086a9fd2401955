/**
 * `secsession graph <file.proto> [--session NAME] [--role R] [--format F] [--out FILE]`:
 * draws a session's global graph, or one role's projection, as Mermaid, DOT or SVG.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { formatDiagnostic } from "../../plugin/language/diagnostic.js";
import { GRAPH_FORMATS, GraphEngineMissingError, renderSession, type GraphFormat } from "../../plugin/graph/render.js";
import { EXIT, parse, UsageError, type Command, type Io } from "../command.js";
import { chooseSession, compileProtosOrReport } from "../proto-compile.js";

export const graph: Command = {
  kind: "command",
  summary: "draw a session's global graph or a role's projection (mermaid, dot, svg)",
  usage: "secsession graph <file.proto> [--session NAME] [--role R] [--format mermaid|dot|svg] [--out FILE] [-I DIR]...",
  help: `Usage: secsession graph <file.proto> [--session NAME] [--role R] [--format mermaid|dot|svg] [--out FILE] [-I DIR]...

Draws the global graph of a session the file declares: its states (numbered,
labelled by the role that acts there; "end" where the session is over), one
edge per message (sender → receiver: Method, with "(call)" for a request and
"reply <case>" for a response), and the edges that close a loop dashed.
With --role, draws that role's projection instead: its local states and what
it sends and receives in each.

Options:
  --session NAME        the session to draw, when the file declares several
  --role R              draw the projection of role R
  --format F            mermaid (default; paste it into Markdown), dot (Graphviz),
                        or svg (laid out by Graphviz, compiled to WebAssembly:
                        needs npm install --save-dev @hpcc-js/wasm-graphviz)
  --out FILE            write to FILE instead of standard output
  -I, --proto-path DIR  an import root (repeatable), as for secsession check
  -h, --help            this help

The session is checked first: a file with problems is not drawn.
Exit codes: 0 drawn, 1 the file has problems (printed on stderr), 2 usage error.`,
  async run(args: readonly string[], io: Io): Promise<number> {
    const { values, positionals } = parse(
      args,
      {
        session: { type: "string" },
        role: { type: "string" },
        format: { type: "string", default: "mermaid" },
        out: { type: "string" },
        "proto-path": { type: "string", short: "I", multiple: true },
      },
      { min: 1, max: 1, names: "<file.proto>" },
    );
    const format = values.format as GraphFormat;
    if (!GRAPH_FORMATS.includes(format)) throw new UsageError(`unknown --format ${JSON.stringify(values.format)}: use ${GRAPH_FORMATS.join(", ")}`);
    const compiled = compileProtosOrReport(positionals, values["proto-path"] ?? [], io);
    if (compiled === undefined) return EXIT.failed;
    if (compiled.diagnostics.length > 0) {
      io.err(`${compiled.diagnostics.map(formatDiagnostic).join("\n")}\nnot drawn: fix the problems above (secsession check lists them too)\n`);
      return EXIT.failed;
    }
    const d = chooseSession(compiled.descriptors, values.session, positionals[0]!);
    if (values.role !== undefined && d.projections[values.role] === undefined) {
      throw new UsageError(`session ${d.name} has no role ${JSON.stringify(values.role)}; its roles are ${d.roles.map((r) => r.name).join(", ")}`);
    }
    let text: string;
    try {
      text = await renderSession(d, { format, ...(values.role === undefined ? {} : { role: values.role }) });
    } catch (e: unknown) {
      if (e instanceof GraphEngineMissingError) throw new UsageError(e.message);
      throw e;
    }
    if (values.out === undefined) {
      io.out(text);
      return EXIT.ok;
    }
    const path = resolve(io.cwd, values.out);
    try {
      writeFileSync(path, text);
    } catch (e: unknown) {
      throw new UsageError(`cannot write ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
    io.out(`wrote ${path} (${format}, ${values.role === undefined ? `global graph of ${d.name}` : `projection of ${d.name} on ${values.role}`})\n`);
    return EXIT.ok;
  },
};
