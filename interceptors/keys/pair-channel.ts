/**
 * The keys of one pair of principals in one session (docs/keys.md).
 *
 * First contact: the first time P needs a key for Q, P writes one
 * Noise_K_25519_ChaChaPoly_SHA256 message (`e, es, ss`, both statics known
 * from the key resolver) whose payload is P's first ratchet public key and,
 * when Q publishes a signed prekey, that prekey's id; the first root then
 * also mixes DH(P's ratchet key, Q's prekey), so once Q rotates the prekey
 * out, no long-term key opens the first flight. The message rides in P's
 * envelope, addressed to Q, and is carried by later roles until Q receives
 * it: no extra round trip, and Q can check MACs from a role it never talked to.
 *
 * Steps: when the token passes back between the pair — P needs a send key
 * after Q stepped — P makes a new version, by one of two steps the session's
 * ratchet policy chooses (docs/keys.md, "Ratchet policy"):
 * - a DH step: P draws a fresh ratchet key pair and mixes DH(new, Q's latest)
 *   into the root key (heals a compromise of P's state);
 * - a symmetric step: the new root is a one-way KDF of the old one, keyed by
 *   the direction and the new version (forward secrecy per turn, no healing).
 * Either way the version goes up by one and every key buffer of the old
 * version is retired (zeroed); a ratchet private key still needed is moved
 * into a fresh buffer, so no buffer outlives its version (the key vault).
 *
 * Functions here are pure: they return the new pair state and the buffers to
 * retire once the message that caused the change is committed.
 */
import { createHandshakeState } from "./noise/index.js";
import { expand64, hkdf32, hkdf64 } from "./pairwise.js";
import { constantTimeEqual, zeroize, type CryptoBackend, type KeyPair } from "./crypto/index.js";
import { concat, label, lp, lps, u32 } from "../wire/encoding.js";
import type { SignedPrekey } from "./identity.js";
import type { RatchetPolicy } from "../descriptor/types.js";

export type { RatchetPolicy };

/** Keys of one direction at one version. */
export interface DirectionKeys {
  readonly version: number;
  readonly mac: Uint8Array;
  readonly enc: Uint8Array;
}

/** One side's state of a pair channel. */
export interface PairState {
  /** DH steps so far: 1 after first contact. */
  readonly version: number;
  readonly root: Uint8Array;
  /** This side's latest ratchet key pair, until the peer's next ratchet consumes it. */
  readonly mine: KeyPair | undefined;
  /** The peer's latest ratchet public key. */
  readonly theirs: Uint8Array | undefined;
  readonly send: DirectionKeys | undefined;
  readonly recv: DirectionKeys | undefined;
  /** The peer stepped since this side's send keys were made: the next send makes a new version. */
  readonly mustRatchet: boolean;
  /** Messages this side sealed with keys of this pair since its own last DH step (or first contact); saturates at 2³² − 1. */
  readonly sent: number;
  /** This side's clock (ms since the epoch) at its own last DH step or first contact; 0 if it made none. */
  readonly dhAtMs: number;
}

/** A DH step at every turn. */
export const EVERY_TURN: RatchetPolicy = Object.freeze({ messages: 1, seconds: 0 });

/** The policy of a session that declares none: the first turn after 64 messages or 60 s (design note 28). */
export const DEFAULT_RATCHET: RatchetPolicy = Object.freeze({ messages: 64, seconds: 60 });

const U32_MAX = 0xffff_ffff;

/** What is wrong with a ratchet policy, or undefined: whole seconds and messages up to 2³² − 1, at least one bound. */
export function ratchetPolicyProblem(p: RatchetPolicy): string | undefined {
  for (const [k, v] of [["messages", p.messages], ["seconds", p.seconds]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > U32_MAX) return `ratchet ${k} must be a whole number from 0 to ${U32_MAX}, not ${v}`;
  }
  if (p.messages === 0 && p.seconds === 0) return "a ratchet policy needs a bound (messages, seconds or every_turn): without one, a stolen state would never heal";
  return undefined;
}

/** The pair state after this side sealed one more message with its keys. */
export function countSent(st: PairState): PairState {
  return st.sent >= U32_MAX ? st : { ...st, sent: st.sent + 1 };
}

/** True when this side's next step must be a DH step. */
export function dhDue(st: PairState, policy: RatchetPolicy, nowMs: number): boolean {
  if (st.mine === undefined) return true; // this side never contributed a ratchet key
  // A turn always follows at least one message of this side's since its last DH step (that step's own): 1 is every turn.
  if (policy.messages === 1 || (policy.messages > 0 && st.sent >= policy.messages)) return true;
  return policy.seconds > 0 && nowMs - st.dhAtMs >= policy.seconds * 1000;
}

/** What a key update carries on the wire. */
export type KeyUpdateBody =
  | { readonly kind: "noise"; readonly message: Uint8Array }
  | { readonly kind: "ratchet"; readonly publicKey: Uint8Array; readonly tag: Uint8Array }
  | { readonly kind: "symmetric"; readonly tag: Uint8Array };

/** The two principals and the session a pair channel belongs to. */
export interface PairContext {
  readonly crypto: CryptoBackend;
  readonly sid: Uint8Array;
  readonly self: { readonly id: string; readonly x25519: KeyPair };
  readonly peerId: string;
  readonly peerStatic: Uint8Array;
  /** The peer's current signed prekey (verified by the caller), used by a first contact toward it. */
  readonly peerPrekey?: SignedPrekey;
  /** This side's prekey private keys by id, for first contacts toward it. */
  readonly ownPrekey?: (id: number) => Uint8Array | undefined;
}

/** A change of a pair state. */
export interface PairChange {
  readonly pair: PairState;
  /** Buffers of the old state to zero once the change is committed. */
  readonly retired: readonly Uint8Array[];
  /** Buffers created for the new state (zeroed if the change is abandoned). */
  readonly created: readonly Uint8Array[];
}

export const NOISE_PROTOCOL = "Noise_K_25519_ChaChaPoly_SHA256";

function prologue(ctx: PairContext, initiator: string, responder: string): Uint8Array {
  return concat(label("pair"), lp(ctx.sid), lps(initiator), lps(responder));
}

/**
 * The first root: from the Noise split key, and with a prekey also from
 * DH(ratchet, prekey). The `dh` buffer is zeroed here.
 */
function firstRoot(c: CryptoBackend, handshakeHash: Uint8Array, k: Uint8Array, dh: Uint8Array | undefined): Uint8Array {
  if (dh === undefined) return hkdf32(c, handshakeHash, k, label("root"));
  const ikm = concat(k, dh);
  const root = hkdf32(c, handshakeHash, ikm, label("root-prekey"));
  zeroize(ikm);
  zeroize(dh);
  return root;
}

/*
 * Every derivation keyed by a root is one HMAC-SHA512 call (HKDF-SHA512-Expand,
 * RFC 5869 §2.3, or the extract of a DH step): a root is already a uniform key
 * (an HKDF output), so no extract precedes an expand, and 64 bytes of one call
 * give two 32-byte outputs. The inputs under one root never coincide: each
 * expand's info begins with its own length-prefixed label and is longer than
 * 32 bytes, and a DH step's extract input is the 32-byte X25519 output.
 */

/** The labels of the expands: this module's own copies, only ever read (by the HMAC). */
const KEYS = label("keys");
const SYMMETRIC = label("symmetric");
const KEY_UPDATE = label("key-update");
const RATCHET = label("ratchet");

/** The MAC and encryption keys of one direction from a root key: the two halves of one expand, in one buffer. */
export function directionKeys(c: CryptoBackend, root: Uint8Array, from: string, to: string, version: number): DirectionKeys {
  // One buffer for both: a session holds several such pairs, and each separate buffer costs far more than its 32 bytes.
  const both = expand64(c, root, KEYS, lps(from), lps(to));
  return { version, mac: both.subarray(0, 32), enc: both.subarray(32, 64) };
}

/** The MAC of a DH step, keyed by the previous version's root (the first half of one expand). */
function ratchetTag(c: CryptoBackend, oldRoot: Uint8Array, from: string, to: string, version: number, publicKey: Uint8Array): Uint8Array {
  return expand64(c, oldRoot, KEY_UPDATE, lps(from), lps(to), u32(version), lp(publicKey)).subarray(0, 32);
}

/** The root of a DH step: HKDF-SHA512(salt = root, ikm = dh, info = label("ratchet")), first 32 bytes (the caller zeroes `dh`). */
export function ratchetRoot(c: CryptoBackend, root: Uint8Array, dh: Uint8Array): Uint8Array {
  const okm = hkdf64(c, root, dh, RATCHET);
  okm.fill(0, 32);
  return okm.subarray(0, 32);
}

/**
 * A symmetric step by `from` to `version`: the new root and the step's tag, the
 * two halves of one expand of the old root. One-way (the old root is the key),
 * never the same for two directions or versions; the tag, which is public,
 * tells nothing of the root (both halves are outputs of one PRF call).
 */
export function symmetricStep(c: CryptoBackend, root: Uint8Array, from: string, to: string, version: number): { readonly root: Uint8Array; readonly tag: Uint8Array } {
  const out = expand64(c, root, SYMMETRIC, lps(from), lps(to), u32(version));
  return { root: out.subarray(0, 32), tag: out.subarray(32, 64) };
}

/** A ratchet key pair moved into a fresh private-key buffer (the old one is retired by the caller). */
const moved = (k: KeyPair): KeyPair => ({ publicKey: k.publicKey, privateKey: k.privateKey.slice() });

/** Every key buffer of a pair state (one flat array: a step makes two such lists). */
function keyBuffers(st: { readonly root: Uint8Array; readonly mine: KeyPair | undefined; readonly send: DirectionKeys | undefined; readonly recv: DirectionKeys | undefined }): Uint8Array[] {
  const out = [st.root];
  if (st.mine !== undefined) out.push(st.mine.privateKey);
  if (st.send !== undefined) out.push(st.send.mac, st.send.enc);
  if (st.recv !== undefined) out.push(st.recv.mac, st.recv.enc);
  return out;
}

/**
 * This side's send keys toward the peer, with the key update to send when they
 * are new. A new version is made when the peer stepped since this side's send
 * keys: a DH step when `policy` requires one at `nowMs` (`dhDue`), a symmetric
 * step otherwise. The default policy here is a DH step at every turn; the
 * monitor passes the session's.
 */
export function sendKeys(
  ctx: PairContext,
  st: PairState | undefined,
  policy: RatchetPolicy = EVERY_TURN,
  nowMs = 0,
): PairChange & { readonly update: (KeyUpdateBody & { version: number }) | undefined } {
  const c = ctx.crypto;
  if (st === undefined) {
    // First contact: one Noise_K message whose payload is our first ratchet public key (and the peer's prekey id).
    const ratchet = c.x25519KeyPair();
    const pk = ctx.peerPrekey;
    const hs = createHandshakeState({ protocolName: NOISE_PROTOCOL, initiator: true, prologue: prologue(ctx, ctx.self.id, ctx.peerId), s: ctx.self.x25519, rs: ctx.peerStatic, backend: c });
    const message = hs.writeMessage(pk === undefined ? ratchet.publicKey : concat(ratchet.publicKey, u32(pk.id)));
    const t = hs.transport!;
    const root = firstRoot(c, t.handshakeHash, t.send!.k!, pk === undefined ? undefined : c.x25519(ratchet.privateKey, pk.publicKey));
    t.send!.destroy();
    hs.destroy();
    const send = directionKeys(c, root, ctx.self.id, ctx.peerId, 1);
    const pair: PairState = { version: 1, root, mine: ratchet, theirs: undefined, send, recv: undefined, mustRatchet: false, sent: 0, dhAtMs: nowMs };
    return { pair, retired: [], created: keyBuffers(pair), update: { kind: "noise", message, version: 1 } };
  }
  if (!st.mustRatchet && st.send !== undefined) return { pair: st, retired: [], created: [], update: undefined };
  if (st.theirs === undefined) throw new Error("secsession: internal error: ratchet without a peer ratchet key");
  const version = st.version + 1;
  if (!dhDue(st, policy, nowMs)) {
    const { root, tag } = symmetricStep(c, st.root, ctx.self.id, ctx.peerId, version);
    const mine = moved(st.mine!);
    const send = directionKeys(c, root, ctx.self.id, ctx.peerId, version);
    const pair: PairState = { ...st, version, root, mine, send, recv: undefined, mustRatchet: false };
    return {
      pair,
      retired: keyBuffers(st),
      created: keyBuffers(pair),
      update: { kind: "symmetric", tag, version },
    };
  }
  const ratchet = c.x25519KeyPair();
  const dh = c.x25519(ratchet.privateKey, st.theirs);
  const root = ratchetRoot(c, st.root, dh);
  zeroize(dh);
  const send = directionKeys(c, root, ctx.self.id, ctx.peerId, version);
  const pair: PairState = { version, root, mine: ratchet, theirs: st.theirs, send, recv: undefined, mustRatchet: false, sent: 0, dhAtMs: nowMs };
  return {
    pair,
    retired: keyBuffers(st),
    created: keyBuffers(pair),
    update: { kind: "ratchet", publicKey: ratchet.publicKey, tag: ratchetTag(c, st.root, ctx.self.id, ctx.peerId, version, ratchet.publicKey), version },
  };
}

/** Thrown for a key update that cannot be applied (refused as `bad-key-update`). */
export class KeyUpdateError extends Error {}

/** Applies a key update from the peer: the receive keys of its new version. */
export function acceptUpdate(ctx: PairContext, st: PairState | undefined, version: number, body: KeyUpdateBody): PairChange {
  const c = ctx.crypto;
  if (body.kind === "noise") {
    if (st !== undefined || version !== 1) throw new KeyUpdateError(`a first-contact message from ${ctx.peerId} where version ${(st?.version ?? 0) + 1} was due`);
    const hs = createHandshakeState({ protocolName: NOISE_PROTOCOL, initiator: false, prologue: prologue(ctx, ctx.peerId, ctx.self.id), s: ctx.self.x25519, rs: ctx.peerStatic, backend: c });
    let theirs: Uint8Array;
    try {
      theirs = hs.readMessage(body.message);
    } catch (e: unknown) {
      hs.destroy();
      throw new KeyUpdateError(`the first-contact message from ${ctx.peerId} does not verify`, { cause: e });
    }
    if (theirs.length !== 32 && theirs.length !== 36) {
      hs.destroy();
      throw new KeyUpdateError("the first-contact payload must be a 32-byte ratchet key, optionally followed by a 4-byte prekey id");
    }
    let dh: Uint8Array | undefined;
    if (theirs.length === 36) {
      const id = new DataView(theirs.buffer, theirs.byteOffset + 32, 4).getUint32(0);
      const priv = ctx.ownPrekey?.(id);
      if (priv === undefined) {
        hs.destroy();
        throw new KeyUpdateError(`the first contact from ${ctx.peerId} uses prekey ${id}, which this peer no longer holds (rotated out): ${ctx.peerId} needs the current keyring`);
      }
      theirs = theirs.slice(0, 32);
      try {
        dh = c.x25519(priv, theirs);
      } catch (e: unknown) {
        hs.destroy();
        throw new KeyUpdateError("the first-contact ratchet key is not a valid X25519 public key", { cause: e });
      }
    }
    const t = hs.transport!;
    const root = firstRoot(c, t.handshakeHash, t.receive!.k!, dh);
    t.receive!.destroy();
    hs.destroy();
    const recv = directionKeys(c, root, ctx.peerId, ctx.self.id, 1);
    const pair: PairState = { version: 1, root, mine: undefined, theirs, send: undefined, recv, mustRatchet: true, sent: 0, dhAtMs: 0 };
    return { pair, retired: [], created: keyBuffers(pair) };
  }
  if (st === undefined || version !== st.version + 1) throw new KeyUpdateError(`ratchet version ${version} from ${ctx.peerId} where ${(st?.version ?? 0) + 1} was due`);
  if (st.mine === undefined) throw new KeyUpdateError(`a ratchet from ${ctx.peerId} before this side offered a ratchet key`);
  // This side's ratchet key stays until its own next DH step (the peer may step against it again), in a fresh buffer.
  const mine = moved(st.mine);
  const retired = keyBuffers(st);
  if (body.kind === "symmetric") {
    const { root, tag } = symmetricStep(c, st.root, ctx.peerId, ctx.self.id, version);
    if (!constantTimeEqual(tag, body.tag)) {
      zeroize(root, tag, mine.privateKey);
      throw new KeyUpdateError(`the symmetric step ${version} from ${ctx.peerId} does not verify`);
    }
    const recv = directionKeys(c, root, ctx.peerId, ctx.self.id, version);
    const pair: PairState = { ...st, version, root, mine, send: undefined, recv, mustRatchet: true };
    return { pair, retired, created: keyBuffers(pair) };
  }
  if (body.publicKey.length !== 32 || !constantTimeEqual(ratchetTag(c, st.root, ctx.peerId, ctx.self.id, version, body.publicKey), body.tag)) {
    zeroize(mine.privateKey);
    throw new KeyUpdateError(body.publicKey.length !== 32 ? "a ratchet key is 32 bytes" : `the ratchet step ${version} from ${ctx.peerId} does not verify`);
  }
  let dh: Uint8Array;
  try {
    dh = c.x25519(st.mine.privateKey, body.publicKey);
  } catch (e: unknown) {
    zeroize(mine.privateKey);
    throw new KeyUpdateError("the ratchet key is not a valid X25519 public key", { cause: e });
  }
  const root = ratchetRoot(c, st.root, dh);
  zeroize(dh);
  const recv = directionKeys(c, root, ctx.peerId, ctx.self.id, version);
  // A copy: the decoded key is a view into the whole envelope, which it would keep alive.
  const pair: PairState = { ...st, version, root, mine, theirs: body.publicKey.slice(), send: undefined, recv, mustRatchet: true };
  return { pair, retired, created: keyBuffers(pair) };
}
