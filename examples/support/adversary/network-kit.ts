/**
 * Helpers of the network attacker's scenarios: the refusals they expect,
 * the messages they target, and the common move — hold a genuine message,
 * inject a copy of the attacker's making, then let the genuine one through.
 */
import type { Envelope } from "../../../gen/secsession/v1/envelope_pb.js";
import { at, authenticated, firstHop, grpcStatus, injectable, label, type Expectation, type NotApplicable, type Plan, type Planning } from "./kit.js";
import { rewrite } from "./mitm.js";
import type { Hop } from "./rig.js";

export const unauthenticated = (kind: "bad-attestation" | "bad-key-update" = "bad-attestation"): Expectation => ({ kind, status: grpcStatus.UNAUTHENTICATED });
export const denied = (kind: "out-of-order" | "unknown-edge" | "unknown-session" | "wrong-session-code" | "not-addressed"): Expectation => ({ kind, status: grpcStatus.PERMISSION_DENIED });
export const aborted = (kind: "replay" | "replayed-start" | "stale-start"): Expectation => ({ kind, status: grpcStatus.ABORTED });
export const invalid = (kind: "malformed" | "bad-start"): Expectation => ({ kind, status: grpcStatus.INVALID_ARGUMENT });

/** A one-way message or request the receiver authenticates and checks for replays: the usual target. */
export const protectedCall = (h: Hop): boolean => injectable(h.edge) && authenticated(h.edge) && h.edge.security.replayPrevention;

/** The first message of a session (it carries the session start), if it is delivered by a call. */
export const startHop = (p: Planning): Hop | undefined => firstHop(p.hops, (h) => h.index === 0 && injectable(h.edge));

/** Injects `make(genuine)` at message `hop` before letting the genuine one through. */
export function injectAt(p: Planning, hop: Hop, expect: Expectation, what: string, make: (genuine: Hop) => { bytes: Uint8Array; path?: string; to?: string }): Plan {
  return {
    target: label(hop, p.hops),
    expect,
    after: "completes",
    interceptor: (a) =>
      at(hop.index, {
        call: async (h) => {
          const m = make(h);
          await a.inject(m.to ?? h.to, m.path ?? h.path, m.bytes, what);
        },
      }),
  };
}

/** Rewrites envelope fields of the first protected message that `pick` accepts. */
export function rewriteField(p: Planning, expect: Expectation | ((h: Hop) => Expectation), what: string, pick: (h: Hop) => boolean, change: (e: Envelope, h: Hop) => void, na: string): Plan | NotApplicable {
  const hop = firstHop(p.hops, (h) => protectedCall(h) && pick(h));
  if (hop === undefined) return { na };
  return injectAt(p, hop, typeof expect === "function" ? expect(hop) : expect, what, (h) => ({ bytes: rewrite(h.bytes, (e) => change(e, h)) }));
}
