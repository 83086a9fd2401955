/**
 * What each party of an example saw: every role records the messages it
 * receives (`got`) and the final state it reaches (`end`). Sessions are
 * sequential (the receiver of a message sends next), so the combined trace
 * is in protocol order.
 */
import type { Final } from "secsession";

const ARROW = " → ";
const GAP = "  ";

/** Per receiving role, the lines of `lines` addressed to it, as `sender: Message(...)` (as `Trace.saw()`). */
export function seenBy(lines: readonly string[]): Record<string, string[]> {
  const seen: Record<string, string[]> = {};
  for (const line of lines) {
    const [from, rest = ""] = line.split(ARROW, 2) as [string, string?];
    const gap = rest.indexOf(GAP);
    (seen[rest.slice(0, gap)] ??= []).push(`${from}: ${rest.slice(gap + GAP.length)}`);
  }
  return seen;
}

export class Trace {
  /** `from → to  Message(...)`, in the order received. */
  readonly lines: string[] = [];
  private readonly seen: Record<string, string[]> = {};
  private readonly finals: Record<string, boolean> = {};
  private readonly changed = new Set<() => void>();

  /** `print` receives each line as it is recorded (omit it to stay quiet). */
  constructor(private readonly print?: (line: string) => void) {}

  /** `to` received `what` from `from`. */
  got(to: string, from: string, what: string): void {
    const line = `${from}${ARROW}${to}${GAP}${what}`;
    this.lines.push(line);
    (this.seen[to] ??= []).push(`${from}: ${what}`);
    this.print?.(`  ${line}`);
  }

  /** `role` reached the final state of its part of the session. */
  end(role: string, state: Final): void {
    this.finals[role] = state.final;
    for (const f of this.changed) f();
  }

  /** The messages each role received, as `sender: Message(...)`. */
  saw(): Record<string, string[]> {
    return Object.fromEntries(Object.entries(this.seen).map(([k, v]) => [k, [...v]]));
  }

  /** `final` of each role that finished. */
  finished(): Record<string, boolean> {
    return { ...this.finals };
  }

  /** Resolves when every role in `roles` finished; rejects after `ms`. */
  ended(roles: readonly string[], ms = 10_000): Promise<void> {
    const done = () => roles.every((r) => this.finals[r] === true);
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        const missing = roles.filter((r) => this.finals[r] !== true);
        reject(new Error(`trace: ${missing.join(", ")} did not finish; seen so far:\n${this.lines.join("\n")}`));
      }, ms);
      const cleanup = () => {
        clearTimeout(timer);
        this.changed.delete(check);
      };
      this.changed.add(check);
    });
  }
}
