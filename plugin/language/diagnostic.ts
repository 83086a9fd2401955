/**
 * Diagnostics: every problem the plugin finds in a session is reported as
 * `file.proto:line:col: message`, pointing into the .proto source.
 */

/** A position in a .proto file; line and column are 1-based. */
export interface Position {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** The check that produced a diagnostic (docs/language.md lists them all). */
export type DiagnosticCode =
  | "syntax"
  | "session"
  | "unknown-role"
  | "unknown-service"
  | "unknown-method"
  | "unknown-field"
  | "type"
  | "oneway-not-empty"
  | "streaming"
  | "token"
  | "nondeterministic-choice"
  | "knowledge-of-choice"
  | "unguarded-recursion"
  | "dangling-recursion"
  | "unreachable"
  | "unused-role"
  | "binding"
  | "security";

/** One problem found in a session declaration. */
export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly position: Position;
  readonly message: string;
}

/** Formats a diagnostic the way compilers do: `file:line:col: message`. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.position.file}:${d.position.line}:${d.position.col}: ${d.message}`;
}

/** Orders diagnostics by file, line and column (stable for equal positions). */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  return ds
    .map((d, i) => ({ d, i }))
    .sort(
      (a, b) =>
        a.d.position.file.localeCompare(b.d.position.file) ||
        a.d.position.line - b.d.position.line ||
        a.d.position.col - b.d.position.col ||
        a.i - b.i,
    )
    .map(({ d }) => d);
}

/** Collects diagnostics while a pass runs. */
export class DiagnosticSink {
  readonly diagnostics: Diagnostic[] = [];

  report(code: DiagnosticCode, position: Position, message: string): void {
    this.diagnostics.push({ code, position, message });
  }

  get failed(): boolean {
    return this.diagnostics.length > 0;
  }
}
