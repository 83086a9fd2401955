/**
 * Maps the protocol text of a session option back to positions in the .proto
 * source. protoc and buf record source positions for whole option statements
 * only, so we re-scan the option's text (a protobuf text-format message
 * literal) to find the string literals of its `protocol` field and the
 * position of every character they contribute. String literals are decoded
 * exactly as buf decodes them (simple, octal, hex, \u and \U escapes, the
 * bytes read as UTF-8); a literal buf would refuse makes the scan fail.
 */
import type { Position } from "./diagnostic.js";
import { offsetOfColumn } from "./display-width.js";

/** The protocol text of one session, with a source position per character. */
export interface ProtocolSource {
  readonly text: string;
  /** `positionAt(i)` is the .proto position of `text[i]` (or of its end). */
  positionAt(offset: number): Position;
  /** Position of the first character of a top-level field key of the option literal. */
  fieldPosition(name: string): Position | undefined;
  /** Position of the `{` of the k-th element of the top-level list field `name`. */
  elementPosition(name: string, k: number): Position | undefined;
  /**
   * True when the text is the literals as protoc stores them, joined without the line breaks that
   * separate them in the source: where a `//` comment's literal ends is then unknown.
   */
  readonly linesJoined?: boolean;
}

/** The protocol source of an option statement found in the .proto text. */
export interface OptionSource extends ProtocolSource {
  /** The value protoc stores: the decoded literals, concatenated (`text` separates them with line breaks). */
  readonly value: string;
}

interface Token {
  kind: "ident" | "string" | "punct";
  text: string; // decoded content for strings
  offset: number;
  /** For strings: the source offset of each decoded character (UTF-16 unit), then of the closing quote. */
  chars?: number[];
}

/**
 * Builds the protocol source of the session option statement starting at
 * (line, col), 0-based as in SourceCodeInfo spans (the column in buf's
 * terminal cells: see display-width.ts). Returns undefined when the source
 * text does not hold an option statement there, or holds one buf would refuse.
 */
export function protocolSourceAt(file: string, source: string, line: number, col: number): OptionSource | undefined {
  const lineStarts = [0];
  for (let i = source.indexOf("\n"); i >= 0; i = source.indexOf("\n", i + 1)) lineStarts.push(i + 1);
  if (!Number.isSafeInteger(line) || line < 0 || line >= lineStarts.length) return undefined;
  const start = lineStarts[line]!;
  const end = line + 1 < lineStarts.length ? lineStarts[line + 1]! - 1 : source.length;
  const inLine = offsetOfColumn(source.slice(start, end), col);
  if (inLine === undefined) return undefined;
  const tokens = tokenizeOption(source, start + inLine);
  // The statement starts exactly there, with `option`.
  if (tokens === undefined || tokens[0]?.kind !== "ident" || tokens[0].text !== "option" || tokens[0].offset !== start + inLine) return undefined;
  const positionOf = (offset: number): Position => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file, line: lo + 1, col: offset - lineStarts[lo]! + 1 };
  };
  return buildProtocolSource(tokens, positionOf);
}

/** A fallback source: the text with every character at one position. */
export function protocolSourceWithout(file: string, text: string, at: Position): ProtocolSource {
  return { text, positionAt: () => at, fieldPosition: () => undefined, elementPosition: () => undefined, linesJoined: true };
}

function buildProtocolSource(tokens: readonly Token[], positionOf: (offset: number) => Position): OptionSource {
  let depth = 0;
  const fields = new Map<string, Position>();
  const elements = new Map<string, Position[]>();
  let field = "";
  let inList = false;
  let text = "";
  let value = "";
  const pos: number[] = [];
  let end = tokens[0]!.offset;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === "punct" && (t.text === "{" || t.text === "<") && depth === 2 && inList) {
      const list = elements.get(field) ?? [];
      list.push(positionOf(t.offset));
      elements.set(field, list);
    }
    if (t.kind === "punct" && t.text === "[" && depth === 1) inList = true;
    if (t.kind === "punct" && (t.text === "{" || t.text === "<" || t.text === "[")) depth++;
    else if (t.kind === "punct" && (t.text === "}" || t.text === ">" || t.text === "]")) depth--;
    else if (t.kind === "ident" && depth === 1 && !fields.has(t.text)) {
      field = t.text;
      inList = false;
      fields.set(t.text, positionOf(t.offset));
      if (t.text === "protocol") {
        let j = i + 1;
        if (tokens[j]?.kind === "punct" && tokens[j]!.text === ":") j++;
        while (tokens[j]?.kind === "string") {
          const s = tokens[j]!;
          const chars = s.chars!;
          if (text.length > 0 && !text.endsWith("\n")) {
            // Adjacent literals read as separate lines: a `//` comment ends with its literal.
            text += "\n";
            pos.push(end);
          }
          text += s.text;
          value += s.text;
          for (let k = 0; k < s.text.length; k++) pos.push(chars[k]!);
          end = chars[s.text.length]!;
          j++;
        }
        i = j - 1;
      }
    }
  }
  pos.push(end);
  return {
    text,
    value,
    positionAt(offset: number): Position {
      return positionOf(pos[Math.max(0, Math.min(Number.isFinite(offset) ? Math.trunc(offset) : 0, pos.length - 1))]!);
    },
    fieldPosition: (name) => fields.get(name),
    elementPosition: (name, k) => elements.get(name)?.[k],
  };
}

/** Tokenizes from `offset` to the end of the option statement (its `;`). */
function tokenizeOption(src: string, offset: number): Token[] | undefined {
  const out: Token[] = [];
  let i = offset;
  let depth = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === "\n" || c === " " || c === "\t" || c === "\r" || c === "\v" || c === "\f") i++;
    else if (src.startsWith("//", i)) {
      const nl = src.indexOf("\n", i);
      i = nl < 0 ? src.length : nl;
    } else if (src.startsWith("/*", i)) {
      const close = src.indexOf("*/", i + 2);
      if (close < 0) return undefined;
      i = close + 2;
    } else if (c === '"' || c === "'") {
      const t = readString(src, i);
      if (t === undefined) return undefined;
      out.push(t.token);
      i = t.end;
    } else if (/[A-Za-z_]/.test(c)) {
      const ident = /[A-Za-z_][A-Za-z0-9_.]*/y;
      ident.lastIndex = i;
      const m = ident.exec(src)![0];
      out.push({ kind: "ident", text: m, offset: i });
      i += m.length;
    } else {
      out.push({ kind: "punct", text: c, offset: i });
      if (c === "{" || c === "<" || c === "[" || c === "(") depth++;
      if (c === "}" || c === ">" || c === "]" || c === ")") depth--;
      i++;
      if (c === ";" && depth <= 0) return out;
    }
  }
  return out;
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  n: 0x0a,
  t: 0x09,
  r: 0x0d,
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  v: 0x0b,
  "\\": 0x5c,
  "'": 0x27,
  '"': 0x22,
  "?": 0x3f,
};

const HEX = /^[0-9A-Fa-f]+$/;

/** The UTF-8 encoding of a code point (not a surrogate). */
function utf8Bytes(cp: number): number[] {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 0x3f)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
}

/**
 * Reads the string literal at `start`: its decoded text, with the source offset of each character
 * (of the escape, or of the first escape of a multi-byte character, for escaped ones). Undefined
 * for a literal buf refuses: unterminated, a line break or a NUL inside, an unknown escape, or
 * bytes that are not UTF-8.
 */
function readString(src: string, start: number): { token: Token; end: number } | undefined {
  const quote = src[start]!;
  // The literal's bytes, each with the source offset of the character or escape it comes from.
  const bytes: number[] = [];
  const from: number[] = [];
  const raw: boolean[] = [];
  const push = (at: number, escaped: boolean, ...bs: number[]) => {
    for (const b of bs) {
      bytes.push(b);
      from.push(at);
      raw.push(!escaped);
    }
  };
  let i = start + 1;
  for (;;) {
    if (i >= src.length) return undefined;
    const c = src[i]!;
    if (c === quote) break;
    if (c === "\n" || c === "\0") return undefined;
    if (c !== "\\") {
      const cp = src.codePointAt(i)!;
      if (cp >= 0xd800 && cp <= 0xdfff) return undefined; // an unpaired surrogate: not in any UTF-8 file
      push(i, false, ...utf8Bytes(cp));
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    const e = src[i + 1] ?? "";
    if (e in SIMPLE_ESCAPES) {
      push(i, true, SIMPLE_ESCAPES[e]!);
      i += 2;
    } else if (e === "x" || e === "X") {
      const digits = /^[0-9A-Fa-f]{1,2}/.exec(src.slice(i + 2, i + 4))?.[0];
      if (digits === undefined) return undefined;
      push(i, true, parseInt(digits, 16));
      i += 2 + digits.length;
    } else if (e >= "0" && e <= "7") {
      const digits = /^[0-7]{1,3}/.exec(src.slice(i + 1, i + 4))![0];
      push(i, true, parseInt(digits, 8) & 0xff);
      i += 1 + digits.length;
    } else if (e === "u" || e === "U") {
      const n = e === "u" ? 4 : 8;
      const digits = src.slice(i + 2, i + 2 + n);
      if (digits.length !== n || !HEX.test(digits)) return undefined;
      const cp = parseInt(digits, 16);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
      push(i, true, ...utf8Bytes(cp));
      i += 2 + n;
    } else {
      return undefined;
    }
  }
  const decoded = decodeUtf8(bytes, from, raw);
  if (decoded === undefined) return undefined;
  decoded.chars.push(i);
  return { token: { kind: "string", text: decoded.text, offset: start, chars: decoded.chars }, end: i + 1 };
}

/**
 * Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF): the text, and for each
 * UTF-16 unit its source offset: its own for a character written as is, that of the escape of its
 * first byte for an escaped one. Undefined for anything else.
 */
function decodeUtf8(bytes: readonly number[], from: readonly number[], raw: readonly boolean[]): { text: string; chars: number[] } | undefined {
  let text = "";
  const chars: number[] = [];
  for (let k = 0; k < bytes.length; ) {
    const b = bytes[k]!;
    const n = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (n === 0 || k + n > bytes.length) return undefined;
    let cp = n === 1 ? b : b & (0xff >> (n + 1));
    for (let m = 1; m < n; m++) {
      const x = bytes[k + m]!;
      if ((x & 0xc0) !== 0x80) return undefined;
      cp = (cp << 6) | (x & 0x3f);
    }
    const least = [0, 0, 0x80, 0x800, 0x10000][n]!;
    if (cp < least || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
    const ch = String.fromCodePoint(cp);
    text += ch;
    for (let u = 0; u < ch.length; u++) chars.push(from[k]! + (raw[k] ? u : 0));
    k += n;
  }
  return { text, chars };
}
