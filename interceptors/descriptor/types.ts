/**
 * The compiled session descriptor: the only input the runtime needs to
 * enforce a session. Emitted by protoc-gen-secsession; specified field by
 * field in docs/descriptor.md.
 */

export type PrivacyTechnique = "none" | "chacha20-poly1305" | "aes-256-gcm" | "xsalsa20-poly1305";
export type AuthenticityTechnique = "none" | "hmac-sha256" | "ed25519";
export type HistoryMode = "none" | "visibility" | "full";
export type KeyEstablishmentMode = "none" | "static" | "noise";

/** The security attributes in force for one direction of one interaction. */
export interface DirectionSecurity {
  readonly privacy: PrivacyTechnique;
  readonly authenticity: AuthenticityTechnique;
  readonly nonRepudiation: boolean;
  readonly replayPrevention: boolean;
  readonly history: HistoryMode;
}

/** Session-level attributes: the defaults of every direction, and key establishment. */
export interface SessionSecurity extends DirectionSecurity {
  readonly keyEstablishment: KeyEstablishmentMode;
}

/**
 * When a pair channel's step is a DH step (key establishment `noise`; docs/keys.md, "Ratchet policy"):
 * at a side's first turn once it has sealed `messages` messages toward the peer (0: no message bound)
 * or `seconds` seconds have passed (0: no time bound) since its own last DH step; every other step is
 * symmetric. `{ messages: 1, seconds: 0 }` is a DH step at every turn. At least one bound is non-zero.
 */
export interface RatchetPolicy {
  readonly messages: number;
  readonly seconds: number;
}

export interface RoleDescriptor {
  readonly name: string;
  /** Fully-qualified name of the service the role serves, or null. */
  readonly service: string | null;
  /** Bound during the session by an edge with `binds`, not at the start. */
  readonly dynamic: boolean;
}

export interface StateDescriptor {
  readonly id: number;
  /** The role that acts next, or null at the end of the session. */
  readonly holder: string | null;
}

/** A field of a message, by name and number. */
export interface FieldRef {
  readonly name: string;
  readonly number: number;
}

/** A field of an earlier message of the session. */
export interface EarlierFieldRef {
  /** gRPC path of the earlier rpc, e.g. `/pkg.Service/Method`. */
  readonly rpc: string;
  readonly direction: "request" | "response";
  readonly field: FieldRef;
}

export type EdgeKind = "oneway" | "request" | "response";

export interface EdgeDescriptor {
  readonly id: number;
  readonly from: number;
  readonly to: number;
  readonly sender: string;
  readonly receiver: string;
  readonly kind: EdgeKind;
  /** gRPC path of the rpc: `/package.Service/Method`. */
  readonly rpc: string;
  /** Fully-qualified type of the message this edge carries. */
  readonly messageType: string;
  /** The oneof case a response branch carries, or null. */
  readonly case: { readonly oneof: string; readonly field: FieldRef } | null;
  /** Roles whose principal this message binds (dynamic binding). */
  readonly binds: ReadonlyArray<{ readonly role: string; readonly field: FieldRef | null }>;
  /** Fields that must equal a field of an earlier message. */
  readonly where: ReadonlyArray<{ readonly field: FieldRef; readonly equals: EarlierFieldRef }>;
  /** The earlier commitment this message's payload must open (SHA-256 of the payload bytes). */
  readonly opens: EarlierFieldRef | null;
  readonly security: DirectionSecurity;
  /** Roles whose latest attestation the receiver checks (at most one each). */
  readonly visibility: readonly string[];
}

export interface LocalStateDescriptor {
  readonly id: number;
  readonly globals: readonly number[];
  readonly final: boolean;
}

export interface LocalTransitionDescriptor {
  readonly from: number;
  readonly to: number;
  readonly direction: "send" | "receive";
  readonly peer: string;
  readonly label: string;
  readonly edges: readonly number[];
}

export interface ProjectionDescriptor {
  readonly initial: number;
  readonly states: readonly LocalStateDescriptor[];
  readonly transitions: readonly LocalTransitionDescriptor[];
}

/** A compiled session. */
export interface SessionDescriptor {
  readonly format: "secsession.descriptor.v1";
  readonly package: string;
  readonly name: string;
  /** The .proto file that declares it, relative to its import root. Informative: not part of the session code. */
  readonly file: string;
  readonly roles: readonly RoleDescriptor[];
  readonly security: SessionSecurity;
  readonly replayWindowMs: number;
  /** The ratchet policy the session declares; absent: the default, 64 messages or 60 s (docs/keys.md). */
  readonly ratchet?: RatchetPolicy;
  readonly initial: number;
  readonly states: readonly StateDescriptor[];
  readonly edges: readonly EdgeDescriptor[];
  readonly projections: Readonly<Record<string, ProjectionDescriptor>>;
  /** The session code: hex SHA-256 of the canonical JSON of every other field but `file`. */
  readonly code: string;
}
