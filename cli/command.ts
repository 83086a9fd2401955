/**
 * What a CLI command is. Commands are leaves of a table (cli/secsession.ts);
 * groups (`evidence`) hold subcommands. Adding a command is adding one entry.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** Exit codes. */
export const EXIT = {
  /** Done; for `evidence verify`: the log verifies. */
  ok: 0,
  /** Verification failed (the input was read, and it is not valid evidence). */
  failed: 1,
  /** Usage error, or an input that could not be used (missing file, bad keyring, refusal to overwrite). */
  usage: 2,
} as const;

/** Where a command writes. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Directory relative paths are resolved against. */
  readonly cwd: string;
}

export interface Command {
  readonly kind: "command";
  /** One line for the list of commands. */
  readonly summary: string;
  /** The synopsis, e.g. \`secsession keygen <peer-id> [--out DIR]\` (printed with usage errors). */
  readonly usage: string;
  /** The full help text (`--help`), without the trailing newline. */
  readonly help: string;
  /** Runs with the arguments after the command's name; returns the exit code. Throw UsageError for usage errors. */
  run(args: readonly string[], io: Io): Promise<number>;
}

export interface Group {
  readonly kind: "group";
  readonly summary: string;
  readonly commands: Readonly<Record<string, Command | Group>>;
}

/** A usage error: exit code 2, the message, and where to find help. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig["options"]>;
/** What `parse` returns (named, so that the declarations of the built package can name it). */
export type Parsed<T extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>>;

/**
 * Parses options with node:util parseArgs (strict), turning its errors into
 * UsageErrors. `--help` is handled by the dispatcher before this runs.
 */
export function parse<T extends Options>(args: readonly string[], options: T, positionals: { min: number; max: number; names: string }): Parsed<T> {
  let parsed: Parsed<T>;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (e: unknown) {
    throw new UsageError(e instanceof Error ? e.message.replace(/\. To specify a positional argument.*$/s, "") : String(e));
  }
  const n = parsed.positionals.length;
  if (n < positionals.min) throw new UsageError(`missing ${positionals.names}`);
  if (n > positionals.max) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[positionals.max])}`);
  return parsed;
}
