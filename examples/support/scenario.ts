/**
 * One session of an example, start to finish, on a fresh local cluster:
 * serve the roles, listen, play the initiator, wait until every role has
 * reached its final state, close. Returns what each role saw.
 */
import type { AlertKind } from "secsession";
import { localCluster, type LocalCluster } from "./local-cluster.js";
import { seenBy, Trace } from "./trace.js";

export interface ScenarioOptions {
  /** One peer per principal. */
  readonly principals: readonly string[];
  /** The trace labels of the roles that must finish (usually the role names). */
  readonly roles: readonly string[];
  /** Receives each trace line as it happens (main.ts prints them). */
  readonly print?: (line: string) => void;
  /** Also print addresses and security alerts. */
  readonly verbose?: boolean;
}

/** What a session looked like to its parties. */
export interface Report {
  /** `from → to  Message(...)`, in protocol order. */
  readonly lines: string[];
  /** Per role: the messages it received, as `sender: Message(...)`. */
  readonly saw: Record<string, string[]>;
  /** Per role: `final` of the state it ended in. */
  readonly finished: Record<string, boolean>;
  /** Per principal: the messages its runtime refused, by alert kind. */
  readonly refused: Record<string, Partial<Record<AlertKind, number>>>;
}

export interface Outcome<T> {
  /** What the initiator's run returned. */
  readonly result: T;
  readonly report: Report;
  /** Per principal: the messages its runtime accepted. */
  readonly accepted: Record<string, number>;
}

/** The report of an honest run whose trace is `lines`: each role saw its share, every role finished, nothing was refused. */
export function honest(options: Pick<ScenarioOptions, "principals" | "roles">, lines: readonly string[]): Report {
  return {
    lines: [...lines],
    saw: seenBy(lines),
    finished: Object.fromEntries(options.roles.map((r) => [r, true])),
    refused: Object.fromEntries(options.principals.map((p) => [p, {}])),
  };
}

export async function runSession<T>(
  options: ScenarioOptions,
  setup: (cluster: LocalCluster, trace: Trace) => void,
  play: (cluster: LocalCluster, trace: Trace) => Promise<T>,
): Promise<Outcome<T>> {
  const cluster = localCluster(options.principals, { verbose: options.verbose ?? false, ...(options.print ? { print: options.print } : {}) });
  const trace = new Trace(options.print);
  setup(cluster, trace);
  return cluster.run(async () => {
    const result = await play(cluster, trace);
    await trace.ended(options.roles);
    const report = { lines: [...trace.lines], saw: trace.saw(), finished: trace.finished(), refused: cluster.refused() };
    return { result, report, accepted: Object.fromEntries(Object.values(cluster.peers).map((p) => [p.id, p.runtime.metrics.accepted])) };
  });
}

/** True when no runtime refused anything. */
export function clean(outcome: Outcome<unknown>): boolean {
  return Object.values(outcome.report.refused).every((r) => Object.keys(r).length === 0);
}

/** Prints a line on stdout. */
export const out = (line = ""): void => void process.stdout.write(`${line}\n`);

/** For main.ts: prints `title`, runs the session printing its trace, and flags any refusal. */
export async function demo<T>(
  title: string,
  options: Omit<ScenarioOptions, "print">,
  setup: (cluster: LocalCluster, trace: Trace) => void,
  play: (cluster: LocalCluster, trace: Trace) => Promise<T>,
): Promise<T> {
  out(`\n${title}`);
  const outcome = await runSession({ ...options, print: out }, setup, play);
  if (!clean(outcome)) {
    out(`  unexpected refusals: ${JSON.stringify(outcome.report.refused)}`);
    process.exitCode = 1;
  }
  return outcome.result;
}
