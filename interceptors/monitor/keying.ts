/**
 * Key access while one message is sealed or opened. With key establishment
 * `noise`, keys come from the pair channels in the session state (first
 * contact, then DH or symmetric steps as the session's ratchet policy says,
 * counting the messages sealed toward each peer); with `static`, from the static pairwise root of the
 * two principals. Changes to pair channels are collected and applied to the
 * next state; the buffers they retire are zeroed only once that state is
 * committed, and the buffers they created are zeroed if it is not.
 */
import type { WireKeyUpdate } from "../wire/envelope-codec.js";
import { acceptUpdate, countSent, DEFAULT_RATCHET, KeyUpdateError, sendKeys, type DirectionKeys, type KeyUpdateBody, type PairContext, type PairState } from "../keys/pair-channel.js";
import { zeroize, type CryptoBackend } from "../keys/crypto/index.js";
import { prekeyPrivate, verifyPrekey, type PeerPublicKeys, type SignedPrekey } from "../keys/identity.js";
import type { MonitorContext } from "./context.js";
import { record, type SessionState } from "./state.js";
import { defences } from "./defences.js";

/** A key update this message makes, addressed to `to`. */
export interface NewKeyUpdate {
  readonly to: string;
  readonly version: number;
  readonly body: { case: "noise" | "ratchet" | "symmetric"; value: Uint8Array };
  readonly tag: Uint8Array;
}

/** Thrown when a key is needed for a principal the resolver does not know. */
export class UnknownPeerError extends Error {}

export class Keying {
  private readonly pairs: Record<string, PairState>;
  readonly updates: NewKeyUpdate[] = [];
  /** Per peer principal: buffers to retire at commit, buffers created. */
  readonly changes = new Map<string, { retired: Uint8Array[]; created: Uint8Array[] }>();
  /** Receive keys by `principal@version`, as updates are applied. */
  private readonly recv = new Map<string, DirectionKeys>();
  /** Peers whose keys this message already counted (a message counts once per peer, however many keys it uses). */
  private readonly counted = new Set<string>();
  /** Pair contexts made for this message, by principal (its sends and the updates it applies share one). */
  private readonly contexts = new Map<string, PairContext>();

  constructor(
    private readonly ctx: MonitorContext,
    private readonly st: SessionState,
  ) {
    this.pairs = record(st.pairs);
    for (const [p, pair] of Object.entries(st.pairs)) if (pair.recv) this.recv.set(`${p}@${pair.recv.version}`, pair.recv);
  }

  private get noise(): boolean {
    return this.ctx.plan.descriptor.security.keyEstablishment === "noise";
  }

  private pairContext(principal: string): PairContext {
    let pc = this.contexts.get(principal);
    if (pc === undefined) {
      pc = this.newPairContext(principal);
      this.contexts.set(principal, pc);
    }
    return pc;
  }

  private newPairContext(principal: string): PairContext {
    const keys = this.ctx.peerKeys(principal);
    if (keys === undefined) throw new UnknownPeerError(`no public key for principal ${JSON.stringify(principal)}`);
    const self = this.ctx.self;
    const peerPrekey = verifiedPrekey(this.ctx.crypto, principal, keys);
    return {
      crypto: this.ctx.crypto,
      sid: this.st.sessionId,
      self,
      peerId: principal,
      peerStatic: keys.x25519,
      ...(peerPrekey === undefined ? {} : { peerPrekey }),
      ownPrekey: (id) => prekeyPrivate(self, id),
    };
  }

  /** This side's keys toward `principal` (making a first contact or a ratchet step if due). */
  sendKeys(principal: string): DirectionKeys {
    if (!this.noise || principal === this.ctx.self.id) return this.staticKeys(this.ctx.self.id, principal);
    const d = this.ctx.plan.descriptor;
    const change = sendKeys(this.pairContext(principal), this.pairs[principal], d.ratchet ?? DEFAULT_RATCHET, Number(this.ctx.now()));
    let pair = change.pair;
    if (!this.counted.has(principal)) {
      this.counted.add(principal);
      pair = countSent(pair);
    }
    this.pairs[principal] = pair;
    this.record(principal, change.retired, change.created);
    const u = change.update;
    if (u !== undefined) {
      this.updates.push({
        to: principal,
        version: u.version,
        body: u.kind === "noise" ? { case: "noise", value: u.message } : u.kind === "ratchet" ? { case: "ratchet", value: u.publicKey } : { case: "symmetric", value: EMPTY },
        tag: u.kind === "noise" ? EMPTY : u.tag,
      });
    }
    return pair.send!;
  }

  /** Applies the key updates addressed to this peer, in version order. Throws KeyUpdateError. */
  applyUpdates(updates: readonly WireKeyUpdate[]): void {
    if (!this.noise) return;
    const mine = updates.filter((u) => u.to === this.ctx.self.id).sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : a.version - b.version));
    for (const u of mine) {
      const current = this.pairs[u.from];
      if (current !== undefined && u.version <= current.version) continue; // already applied
      const body = updateBody(u);
      if (body === undefined) throw new KeyUpdateError(`key update ${u.version} from ${u.from} has no body`);
      let change;
      try {
        change = acceptUpdate(this.pairContext(u.from), current, u.version, body);
      } catch (e: unknown) {
        if (e instanceof KeyUpdateError && !defences.keyUpdates) continue;
        throw e;
      }
      this.pairs[u.from] = change.pair;
      this.record(u.from, change.retired, change.created);
      this.recv.set(`${u.from}@${u.version}`, change.pair.recv!);
    }
  }

  /** The keys `principal` used toward this peer at `version` (0: static). */
  recvKeys(principal: string, version: number): DirectionKeys | undefined {
    if (version === 0 || !this.noise || principal === this.ctx.self.id) {
      if (this.noise && principal !== this.ctx.self.id) return undefined; // noise sessions never use static keys
      return this.staticKeys(principal, this.ctx.self.id);
    }
    return this.recv.get(`${principal}@${version}`);
  }

  /** This peer's current send keys toward `principal`, without making new ones. */
  sendKeysIfAny(principal: string): DirectionKeys | undefined {
    if (!this.noise || principal === this.ctx.self.id) return this.staticKeys(this.ctx.self.id, principal);
    return this.pairs[principal]?.send;
  }

  /** The pair channels after this message. */
  result(): Readonly<Record<string, PairState>> {
    return this.pairs;
  }

  /** Zeroes what this message created (it was refused). */
  abandon(): void {
    for (const c of this.changes.values()) for (const b of c.created) zeroize(b);
  }

  private record(principal: string, retired: readonly Uint8Array[], created: readonly Uint8Array[]): void {
    const c = this.changes.get(principal) ?? { retired: [], created: [] };
    c.retired.push(...retired);
    c.created.push(...created);
    this.changes.set(principal, c);
  }

  private staticKeys(from: string, to: string): DirectionKeys {
    const peer = from === this.ctx.self.id ? to : from;
    const keys = this.ctx.staticKeys(this.st.sessionId, peer, from, to);
    if (keys === undefined) throw new UnknownPeerError(`no public key for principal ${JSON.stringify(peer)}`);
    return keys;
  }
}

const EMPTY = new Uint8Array(0);

/** The body of a wire key update, or undefined when it has none (a symmetric step's body must be empty). */
function updateBody(u: WireKeyUpdate): KeyUpdateBody | undefined {
  switch (u.body.case) {
    case "noise": return { kind: "noise", message: u.body.value };
    case "ratchet": return { kind: "ratchet", publicKey: u.body.value, tag: u.tag };
    case "symmetric":
      if (u.body.value.length !== 0) throw new KeyUpdateError(`the symmetric step ${u.version} from ${u.from} carries a body`);
      return { kind: "symmetric", tag: u.tag };
    default: return undefined;
  }
}

/** Prekeys whose signature verified, with the owner it verified for, so each is checked once per process. */
const verified = new WeakMap<SignedPrekey, { readonly principal: string; readonly ed25519: Uint8Array }>();

/** The peer's published prekey if its signature verifies; a badly signed prekey is refused, never skipped. */
function verifiedPrekey(c: CryptoBackend, principal: string, keys: PeerPublicKeys): SignedPrekey | undefined {
  const p = keys.prekey;
  if (p === undefined) return undefined;
  const owner = verified.get(p);
  if (owner !== undefined && owner.principal === principal && sameBytes(owner.ed25519, keys.ed25519)) return p;
  if (!verifyPrekey(c, principal, keys.ed25519, p)) throw new UnknownPeerError(`the prekey ${p.id} of principal ${JSON.stringify(principal)} is not signed by its ed25519 key`);
  verified.set(p, { principal, ed25519: keys.ed25519.slice() });
  return p;
}

/** Equality of public bytes (no secret: not constant time). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
