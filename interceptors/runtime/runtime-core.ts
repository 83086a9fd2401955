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
import { directionKeys, type DirectionKeys } from "../keys/pair-channel.js";
import { KeyVault } from "../keys/vault.js";
import type { MonitorContext } from "../monitor/context.js";
import type { SessionPlan } from "../monitor/plan.js";
import { assertProtection, isBaseline, type Protection } from "../monitor/protection.js";
import { ReplicaView } from "../store/replica-view.js";
import type { ReplayCache, SessionStore } from "../store/store.js";
import type { EvidenceSink } from "./evidence.js";
import { DEFAULT_MAX_SESSIONS_PER_PRINCIPAL, DEFAULT_SESSION_IDLE_TIMEOUT_MS, OpenSessions } from "./open-sessions.js";
import { hex } from "../wire/encoding.js";
import { Telemetry, type PartyLabels } from "./telemetry.js";

/** Counters a runtime keeps. */
export interface RuntimeMetrics {
  accepted: number;
  refused: Record<AlertKind, number>;
}

/** The default of SessionRuntimeOptions.maxClockSkewMs: how far ahead of the receiver's clock a session start may be. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 30_000;

export class RuntimeCore {
  readonly metrics: RuntimeMetrics = { accepted: 0, refused: {} as Record<AlertKind, number> };
  /** Static keys by session id, then `peer` and `from>to`; zeroed when retired. */
  private readonly keys = new Map<string, Map<string, Uint8Array | DirectionKeys>>();
  /** Enforced deletion of pair-channel keys (docs/keys.md). */
  readonly vault = new KeyVault();
  private readonly keyOrder: string[] = [];
  /** How far ahead of this clock a session start may be (SessionRuntimeOptions.maxClockSkewMs). */
  maxClockSkewMs = DEFAULT_MAX_CLOCK_SKEW_MS;
  /** The sessions held open, their idle time and who opened them (SessionRuntimeOptions.sessionIdleTimeoutMs, maxSessionsPerPrincipal). */
  openSessions = new OpenSessions(DEFAULT_SESSION_IDLE_TIMEOUT_MS, DEFAULT_MAX_SESSIONS_PER_PRINCIPAL);
  /** OpenTelemetry metrics and spans (a no-op unless an SDK is registered or providers are given). */
  telemetry = new Telemetry(false, () => 0);

  constructor(
    /** Replaced when the prekey rotates (SessionRuntime.rotatePrekey). */
    public identity: Identity,
    readonly resolver: KeyResolver,
    readonly crypto: CryptoBackend,
    readonly store: SessionStore,
    readonly replay: ReplayCache,
    readonly now: () => number,
    private readonly emit: (a: SecurityAlert) => void,
    private readonly verifyAttestations: boolean,
    private readonly maxCachedSessions = 10_000,
    /** Where evidence of every message is appended, if anywhere. */
    readonly evidence: EvidenceSink | undefined = undefined,
    /** Benchmark baselines only (monitor/protection.ts); "full" otherwise. */
    readonly protection: Protection = "full",
  ) {
    assertProtection(protection);
    // A shared store decodes fresh copies: keep the vault's buffers and the store's states one (docs/scale-out.md).
    if (store.detached === true) this.store = new ReplicaView(store, this.vault);
  }

  monitorContext(plan: SessionPlan, role: string): MonitorContext {
    if (this.protection !== "full" && !isBaseline(plan.descriptor)) {
      throw new Error(`secsession: protection ${JSON.stringify(this.protection)} plays a baseline descriptor (withProtection), not session ${plan.descriptor.name} itself`);
    }
    const core = this; // eslint-disable-line @typescript-eslint/no-this-alias
    return {
      plan,
      role,
      // A getter: the identity changes when the prekey rotates.
      get self() {
        return core.identity;
      },
      crypto: this.crypto,
      peerKeys: (p) => this.resolver(p),
      staticKeys: (sid, peer, from, to) => this.staticKeys(sid, peer, from, to),
      now: () => BigInt(this.now()),
      get maxClockSkewMs() {
        return core.maxClockSkewMs;
      },
      verifyAttestations: this.verifyAttestations,
      protection: this.protection,
    };
  }

  /** Static keys of the direction `from` -> `to` between this peer and `peer` in session `sid` (cached per session). */
  staticKeys(sid: Uint8Array, peer: string, from: string, to: string): DirectionKeys | undefined {
    const s = hex(sid);
    let cache = this.keys.get(s);
    const k = `${from}>${to}`;
    const hit = cache?.get(k);
    if (hit !== undefined) return hit as DirectionKeys;
    let root = cache?.get(peer) as Uint8Array | undefined;
    if (root === undefined) {
      const keys = this.resolver(peer);
      if (keys === undefined) return undefined;
      root = staticPairwiseKey(this.crypto, this.identity.x25519.privateKey, keys.x25519, this.identity.id, peer, sid);
    }
    if (cache === undefined) {
      cache = new Map();
      this.keys.set(s, cache);
      this.keyOrder.push(s);
      if (this.keyOrder.length > this.maxCachedSessions) this.forgetKeys(this.keyOrder.shift()!);
    }
    cache.set(peer, root);
    const dir = directionKeys(this.crypto, root, from, to, 0);
    cache.set(k, dir);
    return dir;
  }

  /** Zeroes and drops the cached keys of a session. */
  forgetKeys(sidHex: string): void {
    this.vault.closeAll(`${sidHex}:`);
    const perPeer = this.keys.get(sidHex);
    if (perPeer === undefined) return;
    for (const k of perPeer.values()) {
      if (k instanceof Uint8Array) zeroize(k);
      else zeroize(k.mac, k.enc);
    }
    this.keys.delete(sidHex);
  }

  encode(schema: DescMessage, m: Message): Uint8Array {
    return toBinary(schema, m);
  }

  encodeEnvelope(e: Envelope): Uint8Array {
    return toBinary(EnvelopeSchema, e);
  }

  /** Counts and emits a refusal; returns the error to throw. `labels`: the party that refused, when one did. */
  alert(e: SecSessionError, sessionId: string, edge: number, peer: string, labels?: PartyLabels): SecSessionError {
    this.metrics.refused[e.kind] = (this.metrics.refused[e.kind] ?? 0) + 1;
    this.telemetry.refused(e.kind, labels);
    this.emit({ kind: e.kind, sessionId, edge, peer, reason: e.reason });
    return e;
  }

  accepted(_edge: number): void {
    this.metrics.accepted++;
  }
}
