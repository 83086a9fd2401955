/**
 * The arguments of a Noise handshake (Initialize(), §5.3, with psks per §9)
 * and their entry-point checks against what the chosen pattern needs.
 */
import type { CryptoBackend, KeyPair } from "../crypto/backend.js";
import { assertBytes } from "../crypto/bytes.js";
import { NoiseError } from "./noise-error.js";
import type { NoiseProtocol } from "./patterns.js";

/** DHLEN for 25519 (§12.1). */
export const DHLEN = 32;

/** The arguments of Initialize() (§5.3). Keys the pattern does not use are ignored. */
export interface HandshakeOptions {
  /** E.g. `"Noise_XXpsk3_25519_ChaChaPoly_SHA256"`. */
  readonly protocolName: string;
  readonly initiator: boolean;
  readonly prologue?: Uint8Array | undefined;
  /** The local static key pair; the caller keeps ownership (it is never zeroed here). */
  readonly s?: KeyPair | undefined;
  /**
   * A pre-message ephemeral, or, departing from §5.3 (which always generates e
   * at the "e" token), a fixed ephemeral for test vectors. It is copied; the
   * copy is zeroed when the handshake ends. Never set this outside tests.
   */
  readonly e?: KeyPair | undefined;
  /** The peer's static public key, when a pre-message carries it. */
  readonly rs?: Uint8Array | undefined;
  /** The peer's ephemeral public key, when a pre-message carries it. */
  readonly re?: Uint8Array | undefined;
  /** One 32-byte PSK per "psk" token, in token order (§9); the caller keeps ownership. */
  readonly psks?: readonly Uint8Array[] | undefined;
  /** Defaults to the shared node:crypto backend. */
  readonly backend?: CryptoBackend | undefined;
}

/** Checks Initialize()'s arguments (internal) against what the pattern needs, with precise messages. */
export function checkOptions(p: NoiseProtocol, o: HandshakeOptions): void {
  const role = o.initiator ? "initiator" : "responder";
  const { pattern } = p;
  const own = o.initiator ? pattern.initiatorPreMessage : pattern.responderPreMessage;
  const peer = o.initiator ? pattern.responderPreMessage : pattern.initiatorPreMessage;
  const sends = pattern.messages.filter((_, i) => (i % 2 === 0) === o.initiator).flat();
  const missing = (what: string): never => {
    throw new NoiseError("missing-key", `${p.name} as ${role} needs ${what}`);
  };
  if (o.prologue !== undefined) assertBytes("Initialize: prologue", o.prologue);
  for (const [name, kp] of [["s", o.s], ["e", o.e]] as const) {
    if (kp === undefined) continue;
    assertBytes(`Initialize: ${name}.publicKey`, kp.publicKey, DHLEN);
    assertBytes(`Initialize: ${name}.privateKey`, kp.privateKey, DHLEN);
  }
  if (o.rs !== undefined) assertBytes("Initialize: rs", o.rs, DHLEN);
  if (o.re !== undefined) assertBytes("Initialize: re", o.re, DHLEN);
  if (o.s === undefined && (own.includes("s") || sends.includes("s"))) missing("its static key pair (s)");
  if (o.e === undefined && own.includes("e")) missing("its pre-message ephemeral key pair (e)");
  if (o.rs === undefined && peer.includes("s")) missing("the peer's static public key (rs)");
  if (o.re === undefined && peer.includes("e")) missing("the peer's pre-message ephemeral public key (re)");
  const psks = o.psks ?? [];
  if (psks.length !== pattern.pskCount) missing(`exactly ${pattern.pskCount} PSK(s), got ${psks.length}`);
  psks.forEach((k, i) => assertBytes(`Initialize: psks[${i}]`, k, 32));
}
