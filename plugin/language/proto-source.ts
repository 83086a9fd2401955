/**
 * Maps the protocol text of a session option back to positions in the .proto
 * source. protoc and buf record source positions for whole option statements
 * only, so we re-scan the option's text (a protobuf text-format message
 * literal) to find the string literals of its `protocol` field and the
 * position of every character they contribute.
 */
import type { Position } from "./diagnostic.js";

/** The protocol text of one session, with a source position per character. */
export interface ProtocolSource {
  readonly text: string;
  /** `positionAt(i)` is the .proto position of `text[i]` (or of its end). */
  positionAt(offset: number): Position;
  /** Position of the first character of a top-level field key of the option literal. */
  fieldPosition(name: string): Position | undefined;
  /** Position of the `{` of the k-th element of the top-level list field `name`. */
  elementPosition(name: string, k: number): Position | undefined;
}

interface Token {
  kind: "ident" | "string" | "punct";
  text: string; // decoded content for strings
  line: number; // 0-based
  col: number; // 0-based
  /** For strings: position of each decoded character, then one past the end. */
  chars?: Array<[number, number]>;
}

/**
 * Builds the protocol source of the session option statement starting at
 * (line, col), 0-based as in SourceCodeInfo spans. Returns undefined when the
 * source text does not hold an option statement there.
 */
export function protocolSourceAt(
  file: string,
  source: string,
  line: number,
  col: number,
): ProtocolSource | undefined {
  const lines = source.split("\n");
  let offset = 0;
  for (let i = 0; i < line && i < lines.length; i++) offset += (lines[i] ?? "").length + 1;
  offset += col;
  const tokens = tokenizeOption(source, offset, line, col);
  if (tokens === undefined || tokens[0]?.text !== "option") return undefined;
  return buildProtocolSource(file, tokens);
}

/** A fallback source: the text with every character at one position. */
export function protocolSourceWithout(file: string, text: string, at: Position): ProtocolSource {
  return { text, positionAt: () => at, fieldPosition: () => undefined, elementPosition: () => undefined };
}

function buildProtocolSource(file: string, tokens: Token[]): ProtocolSource {
  let depth = 0;
  const fields = new Map<string, Position>();
  const elements = new Map<string, Position[]>();
  let field = "";
  let text = "";
  const pos: Array<[number, number]> = [];
  let end: [number, number] = [tokens[0]!.line, tokens[0]!.col];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === "punct" && (t.text === "{" || t.text === "<") && depth === 2 && tokens.slice(0, i).some((x) => x.text === "[")) {
      const list = elements.get(field) ?? [];
      list.push({ file, line: t.line + 1, col: t.col + 1 });
      elements.set(field, list);
    }
    if (t.kind === "punct" && (t.text === "{" || t.text === "<" || t.text === "[")) depth++;
    else if (t.kind === "punct" && (t.text === "}" || t.text === ">" || t.text === "]")) depth--;
    else if (t.kind === "ident" && depth === 1 && !fields.has(t.text)) {
      field = t.text;
      fields.set(t.text, { file, line: t.line + 1, col: t.col + 1 });
      if (t.text === "protocol") {
        let j = i + 1;
        if (tokens[j]?.text === ":") j++;
        while (tokens[j]?.kind === "string") {
          const s = tokens[j]!;
          const chars = s.chars!;
          if (text.length > 0 && !text.endsWith("\n")) {
            // Adjacent literals read as separate lines: a `//` comment ends with its literal.
            text += "\n";
            pos.push(end);
          }
          text += s.text;
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
    positionAt(offset: number): Position {
      const p = pos[Math.max(0, Math.min(offset, pos.length - 1))]!;
      return { file, line: p[0] + 1, col: p[1] + 1 };
    },
    fieldPosition: (name) => fields.get(name),
    elementPosition: (name, k) => elements.get(name)?.[k],
  };
}

/** Tokenizes from `offset` to the end of the option statement (its `;`). */
function tokenizeOption(src: string, offset: number, line0: number, col0: number): Token[] | undefined {
  const out: Token[] = [];
  let i = offset;
  let line = line0;
  let col = col0;
  let depth = 0;
  const advance = (n: number): void => {
    for (let k = 0; k < n; k++) {
      if (src[i] === "\n") {
        line++;
        col = 0;
      } else col++;
      i++;
    }
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === "\n" || c === " " || c === "\t" || c === "\r") advance(1);
    else if (src.startsWith("//", i)) {
      while (i < src.length && src[i] !== "\n") advance(1);
    } else if (src.startsWith("/*", i)) {
      const close = src.indexOf("*/", i + 2);
      advance((close < 0 ? src.length : close + 2) - i);
    } else if (c === '"' || c === "'") {
      const t = readString(src, i, line, col);
      if (t === undefined) return undefined;
      out.push(t.token);
      advance(t.length);
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(src.slice(i, i + 256))!;
      out.push({ kind: "ident", text: m[0], line, col });
      advance(m[0].length);
    } else {
      out.push({ kind: "punct", text: c, line, col });
      if (c === "{" || c === "<" || c === "[" || c === "(") depth++;
      if (c === "}" || c === ">" || c === "]" || c === ")") depth--;
      advance(1);
      if (c === ";" && depth <= 0) return out;
    }
  }
  return out;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
  "\\": "\\",
  "'": "'",
  '"': '"',
  "?": "?",
};

function readString(
  src: string,
  start: number,
  line: number,
  col: number,
): { token: Token; length: number } | undefined {
  const quote = src[start]!;
  let i = start + 1;
  let text = "";
  const chars: Array<[number, number]> = [];
  while (i < src.length && src[i] !== quote) {
    if (src[i] === "\n") return undefined;
    const at: [number, number] = [line, col + (i - start)];
    if (src[i] === "\\") {
      const e = src[i + 1] ?? "";
      let decoded: string;
      let len: number;
      if (e in SIMPLE_ESCAPES) {
        decoded = SIMPLE_ESCAPES[e]!;
        len = 2;
      } else if (e === "x" || e === "X") {
        const m = /^[0-9a-fA-F]{1,2}/.exec(src.slice(i + 2, i + 4))?.[0] ?? "0";
        decoded = String.fromCharCode(parseInt(m, 16));
        len = 2 + m.length;
      } else if (/[0-7]/.test(e)) {
        const m = /^[0-7]{1,3}/.exec(src.slice(i + 1, i + 4))![0];
        decoded = String.fromCharCode(parseInt(m, 8));
        len = 1 + m.length;
      } else {
        decoded = e;
        len = 2;
      }
      text += decoded;
      for (let k = 0; k < decoded.length; k++) chars.push(at);
      i += len;
    } else {
      text += src[i];
      chars.push(at);
      i++;
    }
  }
  if (i >= src.length) return undefined;
  chars.push([line, col + (i - start)]);
  return { token: { kind: "string", text, line, col, chars }, length: i + 1 - start };
}
