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

/** Formats a diagnostic the way compilers do, on one line: `file:line:col: message`. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${oneLine(d.position.file)}:${d.position.line}:${d.position.col}: ${oneLine(d.message)}`;
}

/**
 * Every character that some tool reads as a line break (LF, CR, VT, FF, NEL, U+2028, U+2029), and
 * the other C0 and C1 controls: a diagnostic must stay on its line.
 */
const BREAKS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** `s` with line breaks and control characters escaped as `\uXXXX`, so that it prints on one line. */
export function oneLine(s: string): string {
  return s.replace(BREAKS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * A character for a message: `"$"`, `"é" (U+00E9)`, or only its code point when it does not print
 * as itself (controls, line and paragraph separators, spaces other than ' ', unpaired surrogates,
 * combining marks, format characters, unassigned or private-use code points).
 */
export function describeCharacter(codePoint: number): string {
  const code = `U+${codePoint.toString(16).toUpperCase().padStart(4, "0")}`;
  const c = String.fromCodePoint(codePoint);
  if (!/^[\p{L}\p{N}\p{P}\p{S}]$/u.test(c)) return code;
  return codePoint < 0x80 ? JSON.stringify(c) : `${JSON.stringify(c)} (${code})`;
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
    this.diagnostics.push({ code, position, message: oneLine(message) });
  }

  get failed(): boolean {
    return this.diagnostics.length > 0;
  }
}
