/**
 * Errors and security alerts. Every refused message has a `kind`; each kind
 * maps to one gRPC status code (docs/protocol.md, "Failure behaviour").
 */
import { Metadata, status, type ServiceError, type StatusObject } from "@grpc/grpc-js";

/** Why a message was refused. */
export type AlertKind =
  | "malformed"
  | "unknown-edge"
  | "wrong-session-code"
  | "bad-start"
  | "stale-start"
  | "replayed-start"
  | "unknown-session"
  | "not-addressed"
  | "replay"
  | "out-of-order"
  | "unknown-peer"
  | "bad-attestation"
  | "bad-key-update"
  | "value"
  | "bad-ack"
  | "conflict"
  | "store-unavailable"
  | "session-limit"
  | "internal";

/** The gRPC status code of each kind. */
export const STATUS_OF: Readonly<Record<AlertKind, status>> = {
  malformed: status.INVALID_ARGUMENT,
  "bad-start": status.INVALID_ARGUMENT,
  "unknown-edge": status.PERMISSION_DENIED,
  "wrong-session-code": status.PERMISSION_DENIED,
  "unknown-session": status.PERMISSION_DENIED,
  "not-addressed": status.PERMISSION_DENIED,
  "out-of-order": status.PERMISSION_DENIED,
  value: status.PERMISSION_DENIED,
  "stale-start": status.ABORTED,
  "replayed-start": status.ABORTED,
  replay: status.ABORTED,
  conflict: status.ABORTED,
  "unknown-peer": status.UNAUTHENTICATED,
  "bad-attestation": status.UNAUTHENTICATED,
  "bad-key-update": status.UNAUTHENTICATED,
  "bad-ack": status.UNAUTHENTICATED,
  "store-unavailable": status.UNAVAILABLE,
  "session-limit": status.RESOURCE_EXHAUSTED,
  internal: status.INTERNAL,
};

/** What a `securityAlert` listener receives. */
export interface SecurityAlert {
  readonly kind: AlertKind;
  /** Hex session id, or "" when the envelope had none. */
  readonly sessionId: string;
  /** The edge the message claimed, or -1. */
  readonly edge: number;
  /** The transport peer (gRPC peer address) or principal, as known. */
  readonly peer: string;
  readonly reason: string;
}

/** A refused message, or a failed call: carries the alert kind and its gRPC code. */
export class SecSessionError extends Error {
  readonly code: status;
  constructor(
    readonly kind: AlertKind,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`secsession ${kind}: ${reason}`, options);
    this.name = "SecSessionError";
    this.code = STATUS_OF[kind];
  }

  /**
   * Normalises anything thrown into a SecSessionError, keeping it as the
   * cause. Without a kind, an error that is not already a refusal is a fault
   * of this runtime, not of the peer's message: `internal` (INTERNAL), never
   * blamed on the input.
   */
  static from(e: unknown, kind: AlertKind = "internal"): SecSessionError {
    if (e instanceof SecSessionError) return e;
    return new SecSessionError(kind, e instanceof Error ? e.message : String(e), { cause: e });
  }
}

/** The outcome of checking an incoming message: accepted, or refused with a kind. */
export type Verdict<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly kind: AlertKind; readonly reason: string; readonly edge: number; readonly sessionId: string };

/** A refusal. */
export function refuse(kind: AlertKind, reason: string, edge = -1, sessionId = ""): Verdict<never> {
  return { ok: false, kind, reason, edge, sessionId };
}

/** Trailing metadata key carrying the alert kind of a refusal to the caller. */
export const ALERT_KIND_METADATA = "secsession-alert-kind";

/**
 * Kinds whose reason is not sent to the peer: they are about this runtime
 * (a fault, a resolver or hook that threw, a store down), and their text may
 * hold what a caller must not see (a credential in a resolver's exception, a
 * store address). The alert and the log keep the reason.
 */
const LOCAL_KINDS: ReadonlySet<AlertKind> = new Set(["internal", "store-unavailable"]);

/** The reason a peer is told: the refusal's own, or a generic one for kinds about this runtime. */
export function peerReason(err: SecSessionError): string {
  if (!LOCAL_KINDS.has(err.kind)) return err.message;
  return err.kind === "internal" ? "secsession internal: the receiver could not check this message" : "secsession store-unavailable: the receiver's session store is unavailable; retry later";
}

/** The status a refusal ends a call with: its code, the reason the peer may see, and the kind in trailing metadata. */
export function refusalStatus(err: SecSessionError): Pick<StatusObject, "code" | "details" | "metadata"> {
  const metadata = new Metadata();
  metadata.set(ALERT_KIND_METADATA, err.kind);
  return { code: err.code, details: peerReason(err), metadata };
}

/** Rebuilds the SecSessionError of a refused call (or returns the gRPC error unchanged). */
export function fromServiceError(e: ServiceError): SecSessionError | ServiceError {
  const kind = e.metadata?.get(ALERT_KIND_METADATA)[0];
  if (typeof kind !== "string" || !(kind in STATUS_OF)) return e;
  const reason = e.details.replace(/^secsession [a-z-]+: /, "");
  return new SecSessionError(kind as AlertKind, reason, { cause: e });
}
