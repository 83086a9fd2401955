/**
 * The abstract syntax of the session language (docs/language.md).
 */
import type { Position } from "./diagnostic.js";

/** An identifier with its source position. */
export interface Name {
  readonly text: string;
  readonly pos: Position;
}

/** A sequence of statements between braces, or the whole protocol. */
export interface Block {
  readonly pos: Position;
  readonly stmts: readonly Statement[];
  /** Position of the closing brace (or of the end of the protocol). */
  readonly end: Position;
}

export type Statement = Interaction | Choice | Rec | Continue;

/** `A -> B.M` (one-way) or `A => B.M` (call), with optional clauses, body and branches. */
export interface Interaction {
  readonly kind: "interaction";
  readonly pos: Position;
  /** Offset of the sender in the protocol text: the source order of interactions, even where positions coincide. */
  readonly offset: number;
  readonly from: Name;
  readonly to: Name;
  readonly method: Name;
  /** `(Type)` after the method: the request type the protocol expects. */
  readonly requestType: Name | undefined;
  /** `returns (Type)` after a call: the response type the protocol expects. */
  readonly responseType: Name | undefined;
  /** True for `=>`: the callee responds. */
  readonly call: boolean;
  readonly clauses: readonly Clause[];
  /** `{ … }` after a call: what the callee does before it responds. */
  readonly body: Block | undefined;
  /** `? { case: … }` after a call: the callee chooses by the response's oneof case. */
  readonly branches: readonly ResponseBranch[] | undefined;
  readonly branchesPos: Position | undefined;
}

/** One case of a response choice. */
export interface ResponseBranch {
  readonly label: Name;
  readonly body: Block;
}

export type Clause = BindClause | WhereClause | OpensClause;

/** `bind r` or `bind r = field`: the sender binds role r's principal. */
export interface BindClause {
  readonly kind: "bind";
  readonly pos: Position;
  readonly role: Name;
  readonly field: Name | undefined;
}

/** `where field == Method.field`: a value equal to one an earlier message carried. */
export interface WhereClause {
  readonly kind: "where";
  readonly pos: Position;
  readonly field: Name;
  readonly method: Name;
  readonly other: Name;
}

/** `opens Method.field`: the payload opens the commitment an earlier message carried. */
export interface OpensClause {
  readonly kind: "opens";
  readonly pos: Position;
  readonly method: Name;
  readonly field: Name;
}

/** `choice at A { … } or { … }`: the token holder chooses by what it sends. */
export interface Choice {
  readonly kind: "choice";
  readonly pos: Position;
  readonly at: Name;
  readonly branches: readonly Block[];
}

/** `rec L { … }`: a loop; `continue L` jumps back to its start. */
export interface Rec {
  readonly kind: "rec";
  readonly pos: Position;
  readonly label: Name;
  readonly body: Block;
}

/** `continue L;` */
export interface Continue {
  readonly kind: "continue";
  readonly pos: Position;
  readonly label: Name;
}
