/**
 * Crypto backends for key establishment: one {@link CryptoBackend} interface,
 * a node:crypto implementation (the default) and a portable pure-JS one.
 */
import type { CryptoBackend } from "./backend.js";
import { createNodeBackend } from "./node-backend.js";

export type { AeadAlgorithm, CryptoBackend, KeyPair } from "./backend.js";
export { AEAD_KEY_LENGTH, AEAD_TAG_LENGTH, aeadNonceLength } from "./backend.js";
export { assertBytes, concatBytes, constantTimeEqual, zeroize } from "./bytes.js";
export { createNodeBackend } from "./node-backend.js";
export { createNaclBackend } from "./nacl-backend.js";

let shared: CryptoBackend | undefined;

/**
 * The shared node:crypto backend. Backends hold no secrets or other state,
 * so one instance serves the whole process.
 */
export function defaultBackend(): CryptoBackend {
  shared ??= createNodeBackend();
  return shared;
}
