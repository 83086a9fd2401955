/**
 * Forward secrecy and post-compromise security of pair channels, against an
 * attacker who recorded everything on the wire (first-contact message,
 * ratchet public keys, ciphertexts) and later obtains keys: every long-term
 * key (both statics, both signing keys) and every prekey still held.
 */
import test from "ava";
import { createNodeBackend } from "../../../interceptors/keys/crypto/index.js";
import { createHandshakeState } from "../../../interceptors/keys/noise/index.js";
import { generateIdentity, prekeyPrivate, rotatePrekey, type Identity } from "../../../interceptors/keys/identity.js";
import { acceptUpdate, directionKeys, NOISE_PROTOCOL, ratchetRoot, sendKeys, type PairContext, type PairState } from "../../../interceptors/keys/pair-channel.js";
import { hkdf32 } from "../../../interceptors/keys/pairwise.js";
import { openPayload, sealPayload } from "../../../interceptors/wire/payload-crypto.js";
import { concat, label, lp, lps } from "../../../interceptors/wire/encoding.js";

const c = createNodeBackend();
const sid = c.randomBytes(32);
const P = { id: "p", x25519: c.x25519KeyPair() };
const Q = { id: "q", x25519: c.x25519KeyPair() };
/** Pair contexts; with `prekeyOf`, P's first contact toward Q uses Q's published prekey. */
function contexts(prekeyOf?: Identity) {
  const pk = prekeyOf?.prekeys?.at(-1);
  const ctxP: PairContext = { crypto: c, sid, self: P, peerId: "q", peerStatic: Q.x25519.publicKey, ...(pk ? { peerPrekey: pk } : {}) };
  const ctxQ: PairContext = { crypto: c, sid, self: Q, peerId: "p", peerStatic: P.x25519.publicKey, ownPrekey: (id) => (prekeyOf ? prekeyPrivate(prekeyOf, id) : undefined) };
  return { ctxP, ctxQ };
}
const alg = "chacha20-poly1305" as const;

interface Recorded {
  readonly from: string;
  readonly to: string;
  readonly version: number;
  readonly step: bigint;
  readonly ciphertext: Uint8Array;
}

/** P and Q exchange six messages; the wire shows updates and ciphertexts only. */
function conversation(prekeyOf?: Identity) {
  const { ctxP, ctxQ } = contexts(prekeyOf);
  const wire: { noise?: Uint8Array; ratchets: Uint8Array[]; messages: Recorded[] } = { ratchets: [], messages: [] };
  let p: PairState | undefined;
  let q: PairState | undefined;
  const steal: Record<number, PairState> = {};
  let step = 0n;
  const send = (fromP: boolean) => {
    const [ctx, st] = fromP ? [ctxP, p] : [ctxQ, q];
    const change = sendKeys(ctx, st);
    const u = change.update;
    if (u?.kind === "noise") wire.noise = u.message;
    if (u?.kind === "ratchet") wire.ratchets.push(u.publicKey);
    // The receiver applies the update, as the monitor does.
    const other = fromP ? q : p;
    const accepted = u === undefined ? undefined : acceptUpdate(fromP ? ctxQ : ctxP, other, u.version, u as never);
    if (fromP) {
      p = change.pair;
      if (accepted) q = accepted.pair;
    } else {
      q = change.pair;
      if (accepted) p = accepted.pair;
    }
    step++;
    const keys = change.pair.send!;
    const header = { sid, edge: 0, step, sender: fromP ? "p" : "q", receiver: fromP ? "q" : "p", keyVersion: keys.version };
    wire.messages.push({ from: header.sender, to: header.receiver, version: keys.version, step, ciphertext: sealPayload(c, alg, keys.enc, header, new TextEncoder().encode("the same secret")) });
    steal[Number(step)] = fromP ? p! : q!;
  };
  send(true); // v1: P's first contact
  send(true); // still v1: no reply yet
  send(false); // v2: Q ratchets (ee)
  send(true); // v3: P ratchets
  send(false); // v4
  send(true); // v5
  return { wire, steal };
}

function tryDecrypt(m: Recorded, enc: Uint8Array | undefined): boolean {
  if (enc === undefined) return false;
  const header = { sid, edge: 0, step: m.step, sender: m.from, receiver: m.to, keyVersion: m.version };
  return openPayload(c, alg, enc, header, m.ciphertext) !== undefined;
}

/** Every key the attacker can derive for `m` from the private keys it holds, in place of the zeroed ratchet keys. */
function guessesFor(m: Recorded, rootsV1: readonly Uint8Array[], ratchets: readonly Uint8Array[], privs: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const rootV1 of rootsV1) {
    out.push(directionKeys(c, rootV1, m.from, m.to, 1).enc);
    for (const pub of ratchets) for (const priv of privs) out.push(directionKeys(c, ratchetRoot(c, rootV1, c.x25519(priv, pub)), m.from, m.to, m.version).enc);
  }
  return out;
}

/** The first roots the attacker can build from the first-contact message with Q's static key and each prekey private it holds. */
function firstRootsWith(noise: Uint8Array, prekeyPrivs: readonly Uint8Array[]): Uint8Array[] {
  const hs = createHandshakeState({ protocolName: NOISE_PROTOCOL, initiator: false, prologue: concat(label("pair"), lp(sid), lps("p"), lps("q")), s: Q.x25519, rs: P.x25519.publicKey, backend: c });
  const payload = hs.readMessage(noise);
  const k = hs.transport!.receive!.k!;
  const hh = hs.transport!.handshakeHash;
  const ratchet = payload.slice(0, 32);
  const roots = [hkdf32(c, hh, k, label("root"))];
  for (const priv of prekeyPrivs) roots.push(hkdf32(c, hh, concat(k, c.x25519(priv, ratchet)), label("root-prekey")));
  return roots;
}

test("forward secrecy without a prekey: the long-term keys open no message of a later ratchet version; the first flight is the documented limit", (t) => {
  const { wire } = conversation();
  t.is(wire.messages.length, 6);
  // The attacker now holds both static private keys. Ratchet private keys were zeroed.
  const roots = firstRootsWith(wire.noise!, []);
  for (const m of wire.messages) {
    const opened = guessesFor(m, roots, wire.ratchets, [P.x25519.privateKey, Q.x25519.privateKey]).some((k) => tryDecrypt(m, k));
    if (m.version === 1) {
      // A first flight to a peer that publishes no prekey is protected by es and ss only (docs/keys.md),
      // so the receiver's static key opens it after the fact. Asserted so the docs stay true.
      t.true(opened, `version-1 message ${m.step} is readable with the receiver's static key`);
    } else {
      t.false(opened, `message ${m.step} (version ${m.version}) stays secret`);
    }
  }
});

test("forward secrecy with a signed prekey: once Q rotates the prekey out, every long-term and held key together opens no message, the first flight included", (t) => {
  let q = generateIdentity("q", c);
  const used = q.prekeys!.at(-1)!;
  const usedPrivCopy = used.privateKey.slice();
  const { wire } = conversation(q);
  t.is(wire.messages.length, 6);
  // Before rotation the prekey is live: the first flight is exactly as secret as that prekey (asserted so the docs stay true).
  t.true(guessesFor(wire.messages[0]!, firstRootsWith(wire.noise!, [usedPrivCopy]), [], []).some((k) => tryDecrypt(wire.messages[0]!, k)), "the live prekey opens the first flight");
  // Q rotates twice (the default keeps the new prekey and its predecessor): the prekey used is zeroed.
  q = rotatePrekey(rotatePrekey(q, c), c);
  t.true(used.privateKey.every((b) => b === 0), "the rotated-out prekey's private key reads back as zeros");
  t.is(prekeyPrivate(q, used.id), undefined);
  // The attacker now holds both statics, Q's signing key and every prekey Q still holds.
  const held = q.prekeys!.map((p) => p.privateKey);
  const roots = firstRootsWith(wire.noise!, held);
  const privs = [P.x25519.privateKey, Q.x25519.privateKey, ...held];
  for (const m of wire.messages) {
    t.false(guessesFor(m, roots, wire.ratchets, privs).some((k) => tryDecrypt(m, k)), `message ${m.step} (version ${m.version}) stays secret`);
  }
  // The attacker's derivation is the right one: with the zeroed prekey's copy it would open the first flight.
  t.true(guessesFor(wire.messages[0]!, firstRootsWith(wire.noise!, [usedPrivCopy]), [], []).some((k) => tryDecrypt(wire.messages[0]!, k)));
});

test("a first contact under a prekey the receiver no longer holds is refused with what to do", (t) => {
  const q = generateIdentity("q", c);
  const { ctxP } = contexts(q);
  const first = sendKeys(ctxP, undefined);
  // While the prekey is held, the message is accepted and both sides derive the same keys.
  const ok = acceptUpdate(contexts(q).ctxQ, undefined, 1, first.update as never);
  t.deepEqual(ok.pair.recv!.enc, first.pair.send!.enc);
  // Rotated out (and zeroed), the same message is refused.
  const rotated = rotatePrekey(rotatePrekey(q, c), c);
  const e = t.throws(() => acceptUpdate(contexts(rotated).ctxQ, undefined, 1, first.update as never));
  t.regex(e!.message, /uses prekey 1, which this peer no longer holds.*current keyring/);
});

test("post-compromise security: a stolen state reads the next version, and is healed by the victim's next ratchet step", (t) => {
  const { wire, steal } = conversation(generateIdentity("q", c));
  // The attacker steals Q's whole state right after Q sent message 3 (version 2): root and ratchet private.
  const stolen = steal[3]!;
  const m4 = wire.messages[3]!; // P's version 3: DH(P's fresh key, Q's stolen ratchet key)
  const root3 = ratchetRoot(c, stolen.root, c.x25519(stolen.mine!.privateKey, wire.ratchets[1]!));
  t.true(tryDecrypt(m4, directionKeys(c, root3, "p", "q", 3).enc), "the compromise reaches the version that used Q's stolen ratchet key");
  // Q's next step uses a fresh ratchet key the attacker never saw: versions 4 and 5 are out of reach.
  for (const m of wire.messages.slice(4)) {
    const guesses = [stolen.mine!.privateKey, Q.x25519.privateKey, P.x25519.privateKey].flatMap((priv) =>
      wire.ratchets.map((pub) => directionKeys(c, ratchetRoot(c, root3, c.x25519(priv, pub)), m.from, m.to, m.version).enc),
    );
    t.false(guesses.some((k) => tryDecrypt(m, k)), `message ${m.step} (version ${m.version}) is healed`);
  }
});

test("ciphertexts of equal plaintexts differ per message and per direction, also within one key version", (t) => {
  const { wire } = conversation();
  const hexes = wire.messages.map((m) => Buffer.from(m.ciphertext).toString("hex"));
  t.is(new Set(hexes).size, hexes.length);
});
