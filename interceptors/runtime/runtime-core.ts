/**
 * What parties share within one runtime: identity, crypto backend, keys,
 * stores, clock, alerts and metrics.
 */
import { toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import { EnvelopeSchema, type Envelope } from "../../gen/secsession/v1/envelope_pb.js";
import { SecSessionError, type AlertKind, type SecurityAlert } from "../errors.js";
import { zeroize, type CryptoBackend } from "../keys/crypto/index.js";
import type { Identity, KeyResolver } from "../keys/identity.js";
import { staticPairwiseKey } from "../keys/pairwise.js";
import type { MonitorContext } from "../monitor/context.js";
import type { SessionPlan } from "../monitor/plan.js";
import type { ReplayCache, SessionStore } from "../store/store.js";
import { hex } from "../wire/encoding.js";

/** Counters a runtime keeps. */
export interface RuntimeMetrics {
  accepted: number;
  refused: Record<AlertKind, number>;
}

export class RuntimeCore {
  readonly metrics: RuntimeMetrics = { accepted: 0, refused: {} as Record<AlertKind, number> };
  /** Pairwise keys by session id and peer principal; zeroed when retired. */
  private readonly keys = new Map<string, Map<string, Uint8Array>>();
  private readonly keyOrder: string[] = [];

  constructor(
    readonly identity: Identity,
    readonly resolver: KeyResolver,
    readonly crypto: CryptoBackend,
    readonly store: SessionStore,
    readonly replay: ReplayCache,
    readonly now: () => number,
    private readonly emit: (a: SecurityAlert) => void,
    private readonly verifyAttestations: boolean,
    private readonly maxCachedSessions = 10_000,
  ) {}

  monitorContext(plan: SessionPlan, role: string): MonitorContext {
    return {
      plan,
      role,
      self: this.identity,
      crypto: this.crypto,
      peerKeys: (p) => this.resolver(p),
      macKey: (sid, p) => this.macKey(sid, p),
      now: () => BigInt(this.now()),
      verifyAttestations: this.verifyAttestations,
    };
  }

  /** The static pairwise key with `principal` in session `sid` (cached per session). */
  macKey(sid: Uint8Array, principal: string): Uint8Array | undefined {
    const s = hex(sid);
    let perPeer = this.keys.get(s);
    const cached = perPeer?.get(principal);
    if (cached !== undefined) return cached;
    const peer = this.resolver(principal);
    if (peer === undefined) return undefined;
    const key = staticPairwiseKey(this.crypto, this.identity.x25519.privateKey, peer.x25519, this.identity.id, principal, sid);
    if (perPeer === undefined) {
      perPeer = new Map();
      this.keys.set(s, perPeer);
      this.keyOrder.push(s);
      if (this.keyOrder.length > this.maxCachedSessions) this.forgetKeys(this.keyOrder.shift()!);
    }
    perPeer.set(principal, key);
    return key;
  }

  /** Zeroes and drops the cached keys of a session. */
  forgetKeys(sidHex: string): void {
    const perPeer = this.keys.get(sidHex);
    if (perPeer === undefined) return;
    for (const k of perPeer.values()) zeroize(k);
    this.keys.delete(sidHex);
  }

  encode(schema: DescMessage, m: Message): Uint8Array {
    return toBinary(schema, m);
  }

  encodeEnvelope(e: Envelope): Uint8Array {
    return toBinary(EnvelopeSchema, e);
  }

  /** Counts and emits a refusal; returns the error to throw. */
  alert(e: SecSessionError, sessionId: string, edge: number, peer: string): SecSessionError {
    this.metrics.refused[e.kind] = (this.metrics.refused[e.kind] ?? 0) + 1;
    this.emit({ kind: e.kind, sessionId, edge, peer, reason: e.reason });
    return e;
  }

  accepted(_edge: number): void {
    this.metrics.accepted++;
  }
}
