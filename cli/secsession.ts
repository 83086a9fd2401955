#!/usr/bin/env node
/**
 * The secsession command line: one entry point, a table of commands.
 *
 *   npx tsx cli/secsession.ts <command> [args]      (or: npm run secsession -- <command>, or the `secsession` bin)
 *
 * To add a command, add an entry to COMMANDS (a Command, or a Group of them).
 */
import { readFileSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { EXIT, UsageError, type Command, type Group, type Io } from "./command.js";
import { bench } from "./commands/bench.js";
import { check } from "./commands/check.js";
import { evidenceVerify } from "./commands/evidence-verify.js";
import { graph } from "./commands/graph.js";
import { keygen } from "./commands/keygen.js";

/** The command table. */
export const COMMANDS: Group = {
  kind: "group",
  summary: "multiparty gRPC sessions, secure by construction",
  commands: {
    keygen,
    check,
    graph,
    bench,
    evidence: {
      kind: "group",
      summary: "evidence logs of the messages a runtime sent and accepted",
      commands: { verify: evidenceVerify },
    },
  },
};

const HELP = new Set(["-h", "--help"]);

/**
 * The version of package secsession: its package.json is two levels above
 * this file when installed (dist/cli/), interceptors/package.json in the
 * source tree.
 */
export function version(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [join(here, "..", "..", "package.json"), join(here, "..", "interceptors", "package.json")]) {
    try {
      const m = JSON.parse(readFileSync(p, "utf8")) as { name?: unknown; version?: unknown };
      if (m.name === "secsession" && typeof m.version === "string") return m.version;
    } catch {
      // not this one
    }
  }
  return "unknown";
}

/** Runs the command line `argv` (without node and script); returns the exit code. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
    io.out(`secsession ${version()}\n`);
    return EXIT.ok;
  }
  let node: Command | Group = COMMANDS;
  const path: string[] = [];
  let i = 0;
  while (node.kind === "group") {
    const word = argv[i];
    if (word === undefined || HELP.has(word) || word === "help") {
      const text = groupHelp(path, node);
      if (word === undefined) {
        io.err(text);
        return EXIT.usage;
      }
      io.out(text);
      return EXIT.ok;
    }
    const next: Command | Group | undefined = Object.hasOwn(node.commands, word) ? node.commands[word] : undefined;
    if (next === undefined) {
      io.err(`secsession: unknown command ${JSON.stringify([...path, word].join(" "))}\n\n${groupHelp(path, node)}`);
      return EXIT.usage;
    }
    path.push(word);
    node = next;
    i++;
  }
  const args = argv.slice(i);
  const name = path.join(" ");
  if (args.some((a) => HELP.has(a))) {
    io.out(`${node.help}\n`);
    return EXIT.ok;
  }
  try {
    return await node.run(args, io);
  } catch (e: unknown) {
    if (e instanceof UsageError) {
      io.err(`secsession ${name}: ${e.message}\nusage: ${node.usage}\nRun \`secsession ${name} --help\` for details.\n`);
      return EXIT.usage;
    }
    io.err(`secsession ${name}: ${e instanceof Error ? e.message.replace(/^secsession: /, "") : String(e)}\n`);
    return EXIT.usage;
  }
}

function groupHelp(path: readonly string[], g: Group): string {
  const prefix = ["secsession", ...path].join(" ");
  const rows = Object.entries(g.commands).flatMap(([k, c]) =>
    c.kind === "command" ? [[`${k}`, c.summary] as const] : Object.entries(c.commands).map(([k2, c2]) => [`${k} ${k2}`, c2.summary] as const),
  );
  const width = Math.max(...rows.map(([k]) => k.length));
  return `Usage: ${prefix} <command> [args]   (${prefix} <command> --help for each)

${path.length === 0 ? `secsession: ${g.summary}` : g.summary}

Commands:
${rows.map(([k, s]) => `  ${k.padEnd(width)}  ${s}`).join("\n")}

Options: --version prints the version; <command> --help describes a command.
Exit codes: 0 ok, 1 check or verification failed, 2 usage error.
`;
}

function processIo(): Io {
  // A reader that stops early (`secsession … | head`) closes the pipe: stop quietly, as Unix tools do.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
  return { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t), cwd: process.cwd() };
}

/** True when this file is the program node runs (not imported by cli/bin.mjs or a test). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntryPoint()) process.exitCode = await main(process.argv.slice(2));
