/**
 * The Noise Protocol Framework, revision 34 (https://noiseprotocol.org/noise.html):
 * 25519 DH, ChaChaPoly or AESGCM, SHA256; every one-way, fundamental and
 * deferred pattern, with PSK modifiers.
 */
export { createHandshakeState, MAX_MESSAGE_LENGTH } from "./handshake-state.js";
export type { HandshakeState, TransportState } from "./handshake-state.js";
export type { HandshakeOptions } from "./handshake-options.js";
export { NoiseError } from "./noise-error.js";
export type { NoiseErrorCode } from "./noise-error.js";
export { handshakePattern, parseProtocolName, PATTERN_NAMES } from "./patterns.js";
export type { HandshakePattern, NoiseCipherName, NoiseProtocol, PreMessageToken, Token } from "./patterns.js";

// Library symbols: the spec's lower-level state objects.
export { createCipherState, MAX_NONCE } from "./cipher-state.js";
export type { CipherState } from "./cipher-state.js";
export { createSymmetricState } from "./symmetric-state.js";
export type { SymmetricState } from "./symmetric-state.js";
