/**
 * The one error type of the Noise implementation, with a code saying what went
 * wrong. Handshake failures are fatal to a handshake attempt, but they never
 * change its state (see handshake-state.ts), so a caller may also drop the
 * offending message and keep waiting for a genuine one.
 */

/**
 * Why a Noise operation failed.
 *
 * - `"unsupported-protocol"`: a protocol name this implementation cannot run.
 * - `"missing-key"`: `Initialize` lacks a key or PSK the pattern needs.
 * - `"invalid-state"`: the call is out of turn, or the handshake is over.
 * - `"malformed-message"`: too short for its tokens, or over 65535 bytes (§3).
 * - `"decrypt-failed"`: an AEAD tag did not verify.
 * - `"invalid-public-key"`: a DH with a low-order public key (all-zero output).
 * - `"nonce-exhausted"`: n reached 2^64-1, which is reserved (§5.1).
 */
export type NoiseErrorCode =
  | "unsupported-protocol"
  | "missing-key"
  | "invalid-state"
  | "malformed-message"
  | "decrypt-failed"
  | "invalid-public-key"
  | "nonce-exhausted";

/** A failed Noise operation; `cause` keeps an inner error for logs, never for the peer. */
export class NoiseError extends Error {
  constructor(
    readonly code: NoiseErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`secsession: noise: ${message}`, options);
    this.name = "NoiseError";
  }

  /** Normalises anything thrown into a NoiseError of `code`, keeping it as the cause. */
  static from(e: unknown, code: NoiseErrorCode = "invalid-state"): NoiseError {
    if (e instanceof NoiseError) return e;
    return new NoiseError(code, e instanceof Error ? e.message : String(e), { cause: e });
  }
}
