/**
 * secsession runtime: the public surface.
 */

// End-user API
export { createSessionRuntime, SessionRuntime } from "./api/session-runtime.js";
export type { HandlerError, SessionRuntimeOptions } from "./api/session-runtime.js";
export type { MeterProviderLike, TelemetryOptions, TracerProviderLike } from "./runtime/telemetry.js";
export type { RoleState, Incoming, Final, SendOptions, ReceiveOptions, SendMessage, SessionHandlers, Machine, Move } from "./api/types.js";
export { ReceiveTimeoutError, SessionExpiredError } from "./api/local-session.js";
export type { PeerAddresses } from "./api/options.js";
export { generateIdentity, publicKeysOf, staticResolver, keyringResolver, keyringJson } from "./keys/identity.js";
export type { Identity, KeyResolver, PeerPublicKeys, KeyringFile } from "./keys/identity.js";
export { loadIdentity, loadKeyring, writeIdentity, identityJson, KEY_FILE_FORMAT } from "./keys/key-file.js";
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
export type { AnyBindings, RoleDefinition } from "./api/role.js";
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
  RatchetPolicy,
} from "./descriptor/types.js";
export { sessionCode, verifySessionCode, canonicalJson } from "./descriptor/code.js";

// Save and restore of a role's session (docs/save-restore.md)
export { encodeState, decodeState, StateCodecError, STATE_FORMAT_VERSION, MAX_STATE_BYTES } from "./store/state-codec.js";
export { exportSession, importSession, sealState, ImportRefusedError, StaleExportError, EXPORT_FORMAT_VERSION } from "./store/export.js";
export type { ImportOptions, ImportRefusal } from "./store/export.js";
export { withHighWater, createMemoryHighWaterMarks, highWaterKey, highWaterMarksOf } from "./store/high-water.js";
export type { HighWaterMarks, HighWaterStore } from "./store/high-water.js";
export { resumeSession, localStateOf } from "./store/resume.js";
export type { AnyRoleState, ResumableRuntime } from "./store/resume.js";

// Replicated roles: sessions and replay state shared in Redis (docs/scale-out.md)
export { createRedisStore, createRedisReplayCache, createRedisHighWaterMarks, DEFAULT_STATE_TTL_MS } from "./store/redis.js";
export { createRedisPrekeySource, type RedisPrekeySourceOptions } from "./store/redis-prekeys.js";
export { createMemoryPrekeySource, type PrekeySource } from "./keys/prekey-source.js";
export type { RedisStore, RedisStoreOptions, RedisReplayCache, RedisReplayCacheOptions, RedisCommandClient, RedisClusterCommandClient, RedisConnectionOptions } from "./store/redis.js";
export { sealStoredState, openStoredState, SealedStateError, STORED_STATE_FORMAT_VERSION } from "./store/sealed-state.js";
export type { ReplicaHandlers, AnyIncoming } from "./store/replicated-role.js";
export type { SessionState } from "./monitor/state.js";

// Evidence logs (docs/evidence.md)
export * from "./evidence/index.js";
