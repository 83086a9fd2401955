/**
 * A recursive-descent parser for the session language. The grammar is in
 * docs/language.md; the first syntax error stops the parse. Blocks nest at
 * most MAX_NESTING deep, which bounds the recursion of the parser and of every
 * later pass over the syntax tree.
 */
import type {
  Block,
  Clause,
  Interaction,
  Name,
  ResponseBranch,
  Statement,
} from "./ast.js";
import type { Diagnostic, Position } from "./diagnostic.js";
import { LexError, tokenize, type Token, type TokenKind } from "./lexer.js";
import type { ProtocolSource } from "./proto-source.js";

const KEYWORDS = new Set(["choice", "at", "or", "rec", "continue", "bind", "where", "opens", "returns"]);

/** How deep blocks (`{ … }` of loops, choices, call bodies and response branches) may nest. */
export const MAX_NESTING = 64;

/** The result of parsing: a protocol, or the syntax error that stopped the parse. */
export type ParseResult =
  | { readonly ok: true; readonly protocol: Block }
  | { readonly ok: false; readonly diagnostic: Diagnostic };

class SyntaxError_ extends Error {
  constructor(
    readonly pos: Position,
    message: string,
  ) {
    super(message);
  }
}

/** Parses the protocol text of a session. */
export function parseProtocol(src: ProtocolSource): ParseResult {
  try {
    const p = new Parser(tokenize(src));
    return { ok: true, protocol: p.protocol() };
  } catch (e: unknown) {
    if (e instanceof SyntaxError_ || e instanceof LexError) {
      return { ok: false, diagnostic: { code: "syntax", position: e.pos, message: e.message } };
    }
    throw e;
  }
}

class Parser {
  private i = 0;
  /** Blocks open at the current token. */
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  protocol(): Block {
    const pos = this.peek().pos;
    const stmts = this.statements((t) => t.kind === "eof");
    if (stmts.length === 0) throw new SyntaxError_(pos, "the protocol is empty");
    return { pos, stmts, end: this.peek().pos };
  }

  private statements(stop: (t: Token, next: Token) => boolean): Statement[] {
    const out: Statement[] = [];
    for (;;) {
      const t = this.peek();
      if (stop(t, this.peek(1))) return out;
      if (t.kind === "eof") throw this.expected("a statement or '}'");
      if (t.kind === ";") {
        this.i++;
        continue;
      }
      out.push(this.statement());
    }
  }

  private statement(): Statement {
    const t = this.peek();
    if (t.kind !== "ident") throw this.expected("a statement");
    switch (t.text) {
      case "choice":
        return this.choice();
      case "rec": {
        this.i++;
        const label = this.name("a loop label");
        return { kind: "rec", pos: t.pos, label, body: this.block() };
      }
      case "continue": {
        this.i++;
        const label = this.name("a loop label");
        this.expect(";");
        return { kind: "continue", pos: t.pos, label };
      }
      default:
        return this.interaction();
    }
  }

  private choice(): Statement {
    const pos = this.next().pos;
    this.keyword("at");
    const at = this.name("a role");
    const branches: Block[] = [this.block()];
    while (this.peek().kind === "ident" && this.peek().text === "or") {
      this.i++;
      branches.push(this.block());
    }
    if (branches.length < 2) throw new SyntaxError_(this.peek().pos, "a choice needs at least two branches: expected 'or'");
    return { kind: "choice", pos, at, branches };
  }

  private interaction(): Interaction {
    const offset = this.peek().offset;
    const from = this.name("a role");
    const arrow = this.peek();
    if (arrow.kind !== "->" && arrow.kind !== "=>") throw this.expected("'->' or '=>'");
    this.i++;
    const to = this.name("a role");
    this.expect(".");
    const method = this.name("a method name");
    const call = arrow.kind === "=>";
    const requestType = this.peek().kind === "(" ? this.typeName() : undefined;
    let responseType: Name | undefined;
    if (this.peek().kind === "ident" && this.peek().text === "returns") {
      if (!call) throw new SyntaxError_(this.peek().pos, "a one-way message ('->') has no response type: use '=>' for a call");
      this.i++;
      responseType = this.typeName();
    }
    const clauses = this.clauses();
    let body: Block | undefined;
    let branches: ResponseBranch[] | undefined;
    let branchesPos: Position | undefined;
    if (this.peek().kind === "{") {
      if (!call) throw new SyntaxError_(this.peek().pos, "only a call ('=>') has a body: the callee of a one-way message acts after it");
      body = this.block();
    }
    if (this.peek().kind === "?") {
      if (!call) throw new SyntaxError_(this.peek().pos, "only a call ('=>') has response branches");
      branchesPos = this.next().pos;
      branches = this.responseBranches();
    }
    if (body === undefined && branches === undefined) this.expect(";");
    else if (this.peek().kind === ";") this.i++;
    return { kind: "interaction", pos: from.pos, offset, from, to, method, requestType, responseType, call, clauses, body, branches, branchesPos };
  }

  private clauses(): Clause[] {
    const out: Clause[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind !== "ident") return out;
      if (t.text === "bind") {
        this.i++;
        const role = this.name("a role");
        let field: Name | undefined;
        if (this.peek().kind === "=") {
          this.i++;
          field = this.name("a field name");
        }
        out.push({ kind: "bind", pos: t.pos, role, field });
      } else if (t.text === "where") {
        this.i++;
        const field = this.name("a field name");
        this.expect("==");
        const method = this.name("a method name");
        this.expect(".");
        out.push({ kind: "where", pos: t.pos, field, method, other: this.name("a field name") });
      } else if (t.text === "opens") {
        this.i++;
        const method = this.name("a method name");
        this.expect(".");
        out.push({ kind: "opens", pos: t.pos, method, field: this.name("a field name") });
      } else {
        throw this.expected("';', '{', '?' or a clause (bind, where, opens)");
      }
    }
  }

  private responseBranches(): ResponseBranch[] {
    this.open();
    const out: ResponseBranch[] = [];
    while (this.peek().kind !== "}") {
      const label = this.name("a oneof case name");
      const colon = this.expect(":");
      const stmts = this.statements(
        (t, next) => t.kind === "}" || (t.kind === "ident" && next.kind === ":"),
      );
      out.push({ label, body: { pos: colon.pos, stmts, end: this.peek().pos } });
    }
    this.i++;
    this.depth--;
    if (out.length === 0) throw new SyntaxError_(this.peek(-1).pos, "response branches need at least one case");
    return out;
  }

  /** `( Name ( '.' Name )* )`: a message type, maybe qualified. */
  private typeName(): Name {
    this.expect("(");
    const first = this.name("a message type");
    let text = first.text;
    while (this.peek().kind === ".") {
      this.i++;
      text += "." + this.name("a message type").text;
    }
    this.expect(")");
    return { text, pos: first.pos };
  }

  private block(): Block {
    const open = this.open();
    const stmts = this.statements((t) => t.kind === "}");
    const end = this.next().pos;
    this.depth--;
    return { pos: open.pos, stmts, end };
  }

  /** `{`, one level deeper: refused beyond MAX_NESTING. */
  private open(): Token {
    const t = this.expect("{");
    if (++this.depth > MAX_NESTING) {
      throw new SyntaxError_(t.pos, `blocks nest more than ${MAX_NESTING} deep here: the language allows at most ${MAX_NESTING} nested blocks ('{ … }')`);
    }
    return t;
  }

  private name(what: string): Name {
    const t = this.peek();
    if (t.kind !== "ident" || KEYWORDS.has(t.text)) throw this.expected(what);
    this.i++;
    return { text: t.text, pos: t.pos };
  }

  private keyword(k: string): void {
    const t = this.peek();
    if (t.kind !== "ident" || t.text !== k) throw this.expected(`'${k}'`);
    this.i++;
  }

  private expect(kind: TokenKind): Token {
    const t = this.peek();
    if (t.kind !== kind) throw this.expected(`'${kind}'`);
    this.i++;
    return t;
  }

  private expected(what: string): SyntaxError_ {
    const t = this.peek();
    const found = t.kind === "eof" ? "end of protocol" : t.kind === "ident" ? `'${t.text}'` : `'${t.kind}'`;
    return new SyntaxError_(t.pos, `expected ${what}, found ${found}`);
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(Math.max(this.i + ahead, 0), this.tokens.length - 1)]!;
  }

  private next(): Token {
    return this.tokens[this.i++]!;
  }
}
