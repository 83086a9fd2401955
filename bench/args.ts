/** Command-line options of the benchmark scripts: `--name value`. */
export interface BenchArgs {
  /** The value after `--name`, or `fallback`. */
  opt(name: string, fallback: string): string;
  /** `--name` as a positive integer; throws naming the option otherwise. */
  positive(name: string, fallback: string): number;
}

export function benchArgs(args: readonly string[] = process.argv.slice(2)): BenchArgs {
  const opt = (name: string, fallback: string): string => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
  };
  const positive = (name: string, fallback: string): number => {
    const n = Number(opt(name, fallback));
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${opt(name, fallback)}`);
    return n;
  };
  return { opt, positive };
}
