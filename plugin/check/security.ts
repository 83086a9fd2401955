/**
 * Security attributes: merging the session, interaction and direction levels,
 * and the configuration constraints between micro-protocols (the SecComm
 * configuration graph, closed transitively). The same constraint function
 * runs again when a runtime is built from a descriptor.
 */
// Types only: the plugin must load without the repository's generated code (buf's `clean: true` removes gen/).
import type {
  Authenticity as AuthenticityEnum,
  History as HistoryEnum,
  KeyEstablishment as KeyEstablishmentEnum,
  Privacy as PrivacyEnum,
  Switch as SwitchEnum,
  Security,
} from "../../gen/secsession/v1/options_pb.js";

/** The values of the options' enums (proto/secsession/v1/options.proto); tsc checks them against the generated enums. */
type Values<E extends Record<string, number | string>> = { readonly [K in keyof E]: E[K] };
const Switch = { UNSPECIFIED: 0, OFF: 1, ON: 2 } as const satisfies Values<typeof SwitchEnum>;
const Privacy = { UNSPECIFIED: 0, NONE: 1, CHACHA20_POLY1305: 2, AES_256_GCM: 3, XSALSA20_POLY1305: 4 } as const satisfies Values<typeof PrivacyEnum>;
const Authenticity = { UNSPECIFIED: 0, NONE: 1, HMAC_SHA256: 2, ED25519: 3 } as const satisfies Values<typeof AuthenticityEnum>;
const History = { UNSPECIFIED: 0, NONE: 1, VISIBILITY: 2, FULL: 3 } as const satisfies Values<typeof HistoryEnum>;
const KeyEstablishment = { UNSPECIFIED: 0, NONE: 1, STATIC: 2, NOISE: 3 } as const satisfies Values<typeof KeyEstablishmentEnum>;

import type {
  DirectionSecurity,
  KeyEstablishmentMode,
  SessionSecurity,
} from "../../interceptors/descriptor/types.js";

export type { DirectionSecurity, KeyEstablishmentMode, SessionSecurity };

/**
 * The defaults: authenticated messages (HMAC-SHA256 under Noise keys), replay
 * prevention and signed history with the visibility optimisation; privacy and
 * non-repudiation are opt-in.
 */
export const DEFAULT_SECURITY: SessionSecurity = {
  privacy: "none",
  authenticity: "hmac-sha256",
  nonRepudiation: false,
  replayPrevention: true,
  history: "visibility",
  keyEstablishment: "noise",
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Applies the fields a `Security` message sets on top of `base`. */
export function applySecurity<T extends DirectionSecurity>(base: T, s: Security | undefined): T {
  if (s === undefined) return base;
  const out = { ...base } as Mutable<T>;
  switch (s.privacy) {
    case Privacy.NONE: out.privacy = "none"; break;
    case Privacy.CHACHA20_POLY1305: out.privacy = "chacha20-poly1305"; break;
    case Privacy.AES_256_GCM: out.privacy = "aes-256-gcm"; break;
    case Privacy.XSALSA20_POLY1305: out.privacy = "xsalsa20-poly1305"; break;
    case Privacy.UNSPECIFIED: break;
  }
  switch (s.authenticity) {
    case Authenticity.NONE: out.authenticity = "none"; break;
    case Authenticity.HMAC_SHA256: out.authenticity = "hmac-sha256"; break;
    case Authenticity.ED25519: out.authenticity = "ed25519"; break;
    case Authenticity.UNSPECIFIED: break;
  }
  if (s.nonRepudiation !== Switch.UNSPECIFIED) out.nonRepudiation = s.nonRepudiation === Switch.ON;
  if (s.replayPrevention !== Switch.UNSPECIFIED) out.replayPrevention = s.replayPrevention === Switch.ON;
  switch (s.history) {
    case History.NONE: out.history = "none"; break;
    case History.VISIBILITY: out.history = "visibility"; break;
    case History.FULL: out.history = "full"; break;
    case History.UNSPECIFIED: break;
  }
  if ("keyEstablishment" in out) {
    const o = out as Mutable<SessionSecurity>;
    switch (s.keyEstablishment) {
      case KeyEstablishment.NONE: o.keyEstablishment = "none"; break;
      case KeyEstablishment.STATIC: o.keyEstablishment = "static"; break;
      case KeyEstablishment.NOISE: o.keyEstablishment = "noise"; break;
      case KeyEstablishment.UNSPECIFIED: break;
    }
  }
  return out;
}

/** Only the direction attributes of a session's security. */
export function directionPart(s: SessionSecurity): DirectionSecurity {
  const { privacy, authenticity, nonRepudiation, replayPrevention, history } = s;
  return { privacy, authenticity, nonRepudiation, replayPrevention, history };
}

export { securityViolations } from "../../interceptors/monitor/security-constraints.js";
