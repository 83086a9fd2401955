/**
 * Tokens of the session language. Comments run from `//` to the end of the
 * line (each string literal of the protocol option is a line).
 */
import { describeCharacter, type Position } from "./diagnostic.js";
import type { ProtocolSource } from "./proto-source.js";

export type TokenKind = "ident" | "->" | "=>" | "==" | "=" | "." | ";" | ":" | "{" | "}" | "(" | ")" | "?" | "eof";

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly pos: Position;
  /** Offset of the token in the protocol text (UTF-16 units): the source order, whatever the positions. */
  readonly offset: number;
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
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;

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
      const end = text.indexOf("\n", i);
      if (end < 0 && src.linesJoined === true) {
        // The literals were joined without their line breaks: where this comment's literal ends is unknown.
        throw new LexError(
          src.positionAt(i),
          "a '//' comment in the protocol must end with '\\n' when the .proto source is not available: the plugin cannot tell where its string literal ends " +
            "(run the plugin with root=<dir>, the directory the .proto file names are relative to, or end the comment with \\n)",
        );
      }
      i = end < 0 ? text.length : end;
      continue;
    }
    IDENT.lastIndex = i;
    const ident = IDENT.exec(text);
    if (ident) {
      out.push({ kind: "ident", text: ident[0], pos: src.positionAt(i), offset: i });
      i += ident[0].length;
      continue;
    }
    const p = PUNCT.find((k) => text.startsWith(k, i));
    if (p === undefined) {
      throw new LexError(src.positionAt(i), `unexpected character ${describeCharacter(text.codePointAt(i)!)}`);
    }
    out.push({ kind: p, text: p, pos: src.positionAt(i), offset: i });
    i += p.length;
  }
  out.push({ kind: "eof", text: "end of protocol", pos: src.positionAt(text.length), offset: text.length });
  return out;
}
