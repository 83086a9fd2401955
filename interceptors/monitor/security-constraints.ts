/**
 * The configuration constraints between micro-protocols (SecComm), checked
 * again when a runtime loads a descriptor: a hand-edited or stale descriptor
 * must not switch on an attribute without what it depends on.
 */
import type { DirectionSecurity, KeyEstablishmentMode } from "../descriptor/types.js";

/** One message per violated constraint; empty when the configuration is valid. */
export function securityViolations(d: DirectionSecurity, keys: KeyEstablishmentMode): string[] {
  const out: string[] = [];
  if (d.nonRepudiation && d.authenticity !== "ed25519") {
    out.push("non-repudiation needs signatures: set authenticity to AUTHENTICITY_ED25519");
  }
  if (d.replayPrevention && d.authenticity === "none") {
    out.push("replay prevention without integrity is refused: a forged step counter would pass; set authenticity or switch replay prevention off");
  }
  if (d.history !== "none" && d.authenticity === "none") {
    out.push("signed history needs authenticity: set authenticity or set history to HISTORY_NONE");
  }
  if (d.privacy !== "none" && keys === "none") {
    out.push("privacy needs key establishment: set key_establishment to KEY_ESTABLISHMENT_NOISE or KEY_ESTABLISHMENT_STATIC");
  }
  if (d.authenticity === "hmac-sha256" && keys === "none") {
    out.push("HMAC authenticity needs pairwise keys: set key_establishment, or use AUTHENTICITY_ED25519");
  }
  return out;
}
