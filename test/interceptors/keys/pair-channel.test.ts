import test from "ava";
import { createNaclBackend, createNodeBackend, zeroize } from "../../../interceptors/keys/crypto/index.js";
import { acceptUpdate, sendKeys, type PairContext, type PairState } from "../../../interceptors/keys/pair-channel.js";
import { KeyVault } from "../../../interceptors/keys/vault.js";
import { isAllZero } from "../../../interceptors/keys/crypto/bytes.js";

const backends = [createNodeBackend(), createNaclBackend()];
const sid = new Uint8Array(32).fill(7);

function contexts(cP = backends[0]!, cQ = backends[0]!): [PairContext, PairContext] {
  const p = { id: "p", x25519: cP.x25519KeyPair() };
  const q = { id: "q", x25519: cQ.x25519KeyPair() };
  return [
    { crypto: cP, sid, self: p, peerId: "q", peerStatic: q.x25519.publicKey },
    { crypto: cQ, sid, self: q, peerId: "p", peerStatic: p.x25519.publicKey },
  ];
}

const eq = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

for (const [x, y] of [[0, 0], [0, 1], [1, 0]] as const) {
  test(`first contact and ratchet steps agree (${backends[x]!.name} ↔ ${backends[y]!.name})`, (t) => {
    const [P, Q] = contexts(backends[x], backends[y]);
    // P's first contact.
    const p1 = sendKeys(P, undefined);
    t.is(p1.update?.kind, "noise");
    const q1 = acceptUpdate(Q, undefined, 1, p1.update as never);
    t.true(eq(p1.pair.send!.mac, q1.pair.recv!.mac));
    t.true(eq(p1.pair.send!.enc, q1.pair.recv!.enc));
    // Without a reply, P keeps its keys.
    t.is(sendKeys(P, p1.pair).update, undefined);
    // The token passes back: Q ratchets.
    const q2 = sendKeys(Q, q1.pair);
    t.is(q2.update?.kind, "ratchet");
    t.is(q2.pair.version, 2);
    const p2 = acceptUpdate(P, p1.pair, 2, q2.update as never);
    t.true(eq(q2.pair.send!.mac, p2.pair.recv!.mac));
    t.false(eq(q2.pair.send!.mac, p1.pair.send!.mac), "new version, new key");
    // And back again.
    const p3 = sendKeys(P, p2.pair);
    const q3 = acceptUpdate(Q, q2.pair, 3, p3.update as never);
    t.true(eq(p3.pair.send!.enc, q3.pair.recv!.enc));
    t.not(p3.pair.send!.mac, p1.pair.send!.mac);
  });
}

test("a tampered first contact or an out-of-order ratchet is refused", (t) => {
  const [P, Q] = contexts();
  const p1 = sendKeys(P, undefined);
  const msg = (p1.update as { message: Uint8Array }).message.slice();
  msg[40]! ^= 1;
  t.throws(() => acceptUpdate(Q, undefined, 1, { kind: "noise", message: msg }), { message: /does not verify/ });
  const q1 = acceptUpdate(Q, undefined, 1, p1.update as never);
  const q2 = sendKeys(Q, q1.pair);
  t.throws(() => acceptUpdate(P, p1.pair, 3, q2.update as never), { message: /version 3/ });
});

test("the old version's keys are retired: bumping with a live key throws, retired buffers read zero", (t) => {
  const [P, Q] = contexts();
  const vault = new KeyVault();
  const scope = "s:p:q";
  const p1 = sendKeys(P, undefined);
  vault.bump(scope); // version 1
  for (const b of p1.created) vault.issue(scope, b);
  const q1 = acceptUpdate(Q, undefined, 1, p1.update as never);
  const q2 = sendKeys(Q, q1.pair);
  const p2 = acceptUpdate(P, p1.pair, 2, q2.update as never);
  t.throws(() => vault.bump(scope), { message: /neither zeroed nor converted/ });
  // Zeroing a buffer that has no receipt does not help.
  zeroize(new Uint8Array(32));
  t.throws(() => vault.bump(scope));
  const receipts = vault.alive(scope);
  for (const r of receipts) if (p2.retired.includes(r.key)) vault.retire(r);
  // p1's send keys, root and ratchet private are all retired by P's acceptance of the ratchet.
  t.deepEqual(vault.alive(scope), []);
  t.is(vault.bump(scope), 2);
  for (const b of p2.retired) t.true(isAllZero(b), "a retired key reads all zeros");
  t.true(isAllZero(p1.pair.root));
  t.true(isAllZero(p1.pair.mine!.privateKey));
});

test("convert derives the next version's key and zeroes the old one", (t) => {
  const vault = new KeyVault();
  const r = vault.issue("x", new Uint8Array(32).fill(9));
  const old = r.key;
  const next = vault.convert(r, (k) => k.map((b) => b ^ 1));
  t.true(isAllZero(old));
  t.is(next.version, 1);
  t.is(vault.bump("x"), 1);
  t.throws(() => vault.retire(r), { message: /not outstanding/ });
});
