/**
 * Tokens of the session language. Comments run from `//` to the end of the
 * line (each string literal of the protocol option is a line).
 */
import type { Position } from "./diagnostic.js";
import type { ProtocolSource } from "./proto-source.js";

export type TokenKind = "ident" | "->" | "=>" | "==" | "=" | "." | ";" | ":" | "{" | "}" | "(" | ")" | "?" | "eof";

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly pos: Position;
}

/** Thrown for a character the language does not know; carries its position. */
export class LexError extends Error {
  constructor(
    readonly pos: Position,
    message: string,
  ) {
    super(message);
    this.name = "LexError";
  }
}

const PUNCT: ReadonlyArray<TokenKind> = ["->", "=>", "==", "=", ".", ";", ":", "{", "}", "(", ")", "?"];

/** Splits the protocol text into tokens, ending with an `eof` token. */
export function tokenize(src: ProtocolSource): Token[] {
  const text = src.text;
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    if (text.startsWith("//", i)) {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i, i + 128));
    if (ident) {
      out.push({ kind: "ident", text: ident[0], pos: src.positionAt(i) });
      i += ident[0].length;
      continue;
    }
    const p = PUNCT.find((k) => text.startsWith(k, i));
    if (p === undefined) {
      throw new LexError(src.positionAt(i), `unexpected character ${JSON.stringify(c)}`);
    }
    out.push({ kind: p, text: p, pos: src.positionAt(i) });
    i += p.length;
  }
  out.push({ kind: "eof", text: "end of protocol", pos: src.positionAt(text.length) });
  return out;
}
