/**
 * A session declaration as the checker sees it: the parsed protocol and the
 * descriptors its names resolve to, with source positions for diagnostics.
 */
import type { DescField, DescMessage, DescMethod, DescOneof, DescService } from "@bufbuild/protobuf";
import type { Block, Interaction } from "../language/ast.js";
import type { Position } from "../language/diagnostic.js";
import type { DirectionSecurity, SessionSecurity } from "./security.js";
import type { RatchetPolicy } from "../../interceptors/descriptor/types.js";

/** A declared role. */
export interface RoleDecl {
  readonly name: string;
  readonly pos: Position;
  /** The service the role serves, if it serves one. */
  readonly service: DescService | undefined;
  /** The role names a service that does not resolve (already reported). */
  readonly serviceMissing: boolean;
  readonly dynamic: boolean;
}

/** Everything the checks need about one session. */
export interface SessionDecl {
  readonly file: string;
  readonly packageName: string;
  readonly name: string;
  readonly pos: Position;
  readonly roles: readonly RoleDecl[];
  readonly protocol: Block;
  readonly security: SessionSecurity;
  readonly securityPos: Position;
  readonly replayWindowSeconds: number;
  /** The ratchet policy the session declares; absent: the default (the descriptor leaves it out). */
  readonly ratchet?: RatchetPolicy;
  /** Security attributes of a method's request and response (merged over the session's). */
  methodSecurity(m: DescMethod): { request: DirectionSecurity; response: DirectionSecurity };
  /** Problems in a method's own security annotation (levels it may not set). */
  methodSecurityMisuse(m: DescMethod): string[];
  /** Where a method is declared. */
  methodPos(m: DescMethod): Position;
}

/** An interaction with every name resolved. */
export interface ResolvedInteraction {
  readonly node: Interaction;
  readonly method: DescMethod;
  readonly request: DescMessage;
  readonly response: DescMessage | undefined;
  /** The oneof whose case the callee chooses, for `? { … }`. */
  readonly oneof: DescOneof | undefined;
  readonly bindings: ReadonlyArray<{ readonly role: string; readonly field: DescField | undefined }>;
  readonly where: ReadonlyArray<{ readonly field: DescField; readonly method: DescMethod; readonly inRequest: boolean; readonly other: DescField }>;
  readonly opens: { readonly method: DescMethod; readonly inRequest: boolean; readonly field: DescField } | undefined;
  readonly requestSecurity: DirectionSecurity;
  readonly responseSecurity: DirectionSecurity;
}
