/**
 * secsession runtime: the public surface.
 */
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
