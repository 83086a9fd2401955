/**
 * secsession runtime: the public surface.
 */

// End-user API
export { createSessionRuntime, SessionRuntime } from "./api/session-runtime.js";
export type { SessionRuntimeOptions } from "./api/session-runtime.js";
export type { RoleState, Incoming, Final, SendOptions, SessionHandlers, Machine, Move } from "./api/types.js";
export { generateIdentity, publicKeysOf, staticResolver, keyringResolver, keyringJson } from "./keys/identity.js";
export type { Identity, KeyResolver, PeerPublicKeys, KeyringFile } from "./keys/identity.js";
export { SecSessionError, STATUS_OF } from "./errors.js";
export type { AlertKind, SecurityAlert } from "./errors.js";
export { Party } from "./runtime/party.js";
export type { Received } from "./runtime/party.js";
export type { EvidenceEntry, EvidenceItem, EvidenceSink } from "./runtime/evidence.js";
export { createMemoryStore, createMemoryReplayCache } from "./store/memory.js";
export type { SessionStore, ReplayCache } from "./store/store.js";
export { StoreUnavailableError } from "./store/store.js";

// For generated code
export { defineRole } from "./api/role.js";
export type { RoleDefinition } from "./api/role.js";
export type {
  SessionDescriptor,
  EdgeDescriptor,
  StateDescriptor,
  RoleDescriptor,
  ProjectionDescriptor,
  LocalStateDescriptor,
  LocalTransitionDescriptor,
  DirectionSecurity,
  SessionSecurity,
  EdgeKind,
  FieldRef,
  EarlierFieldRef,
  PrivacyTechnique,
  AuthenticityTechnique,
  HistoryMode,
  KeyEstablishmentMode,
} from "./descriptor/types.js";
export { sessionCode, verifySessionCode, canonicalJson } from "./descriptor/code.js";
