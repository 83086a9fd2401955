/**
 * The `secsession` command: one entry point, a table of subcommands.
 * Exit codes: 0 done, 1 a check failed, 2 a usage error.
 */
import { keygen, UsageError } from "./keygen.js";

interface Command {
  readonly usage: string;
  readonly summary: string;
  run(args: string[]): number;
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith("--")) throw new UsageError(`--${name} needs a value`);
  args.splice(i, 2);
  return v;
}

function bool(args: string[], name: string): boolean {
  const i = args.indexOf(`--${name}`);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
}

const COMMANDS: Record<string, Command> = {
  keygen: {
    usage: "secsession keygen <peer-id> [--out DIR] [--keyring FILE] [--force]",
    summary: "write a peer's Ed25519 and X25519 keys and its public keyring entry",
    run(args) {
      const out = flag(args, "out") ?? ".";
      const keyring = flag(args, "keyring");
      const force = bool(args, "force");
      const unknown = args.filter((a) => a.startsWith("--"));
      if (unknown.length > 0) throw new UsageError(`unknown option ${unknown[0]}`);
      if (args.length !== 1) throw new UsageError("keygen takes exactly one peer id");
      for (const line of keygen({ id: args[0]!, out, keyring, force })) process.stdout.write(`wrote ${line}\n`);
      return 0;
    },
  },
};

function help(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}\n             ${c.usage}`);
  return `secsession: secure multiparty gRPC sessions\n\ncommands:\n${lines.join("\n")}\n\nsecsession <command> --help for one command\n`;
}

function main(argv: string[]): number {
  const [name, ...args] = argv;
  if (name === undefined || name === "--help" || name === "-h") {
    process.stdout.write(help());
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS[name];
  if (cmd === undefined) {
    process.stderr.write(`secsession: unknown command ${JSON.stringify(name)}\n\n${help()}`);
    return 2;
  }
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`${cmd.usage}\n  ${cmd.summary}\n`);
    return 0;
  }
  try {
    return cmd.run(args);
  } catch (e: unknown) {
    if (e instanceof UsageError) {
      process.stderr.write(`secsession ${name}: ${e.message}\nusage: ${cmd.usage}\n`);
      return 2;
    }
    throw e;
  }
}

process.exitCode = main(process.argv.slice(2));
