/**
 * The evidence a role records: every message of a session it knows of (the
 * segments it accepted and the messages it sent), with the signatures that
 * came with them. With non-repudiation on an edge, the sender's Ed25519
 * signature over the transcript hash is among them; an offline verifier
 * recomputes the transcript from the session start and checks it.
 */
import type { RoleBinding } from "../wire/encoding.js";

/** One message as evidence. */
export interface EvidenceItem {
  readonly edge: number;
  readonly step: bigint;
  readonly payloadHash: Uint8Array;
  readonly bindings: readonly RoleBinding[];
}

/** What a role learnt or did with one envelope. */
export interface EvidenceEntry {
  readonly direction: "sent" | "received";
  readonly sessionCode: string;
  readonly sessionId: Uint8Array;
  readonly role: string;
  /** The session start (nonce, code, time, static bindings). */
  readonly start: { readonly nonce: Uint8Array; readonly code: Uint8Array; readonly timeMs: bigint; readonly bindings: readonly RoleBinding[] };
  /** The messages this envelope taught the role, oldest first, ending with the envelope's own. */
  readonly items: readonly EvidenceItem[];
  /** Signatures (attestations with an empty target) that came with the envelope. */
  readonly signatures: ReadonlyArray<{ readonly role: string; readonly step: bigint; readonly tag: Uint8Array }>;
  /** The envelope's payload exactly as sent (ciphertext when the edge has privacy). */
  readonly payload: Uint8Array;
}

/** Where a runtime appends evidence (e.g. a hash-chained log file). */
export interface EvidenceSink {
  append(entry: EvidenceEntry): void | Promise<void>;
}
