/**
 * The node backend caches the KeyObject of each raw key buffer. A cached
 * object must never stand for other bytes: a buffer refilled in place, or
 * zeroized and reused, gives the results of its new contents.
 */
import test from "ava";
import { createNaclBackend, createNodeBackend, zeroize } from "../../../interceptors/keys/crypto/index.js";

const node = createNodeBackend();
const nacl = createNaclBackend();
const msg = new TextEncoder().encode("a statement");

test("Ed25519: a seed buffer refilled in place signs with its new contents", (t) => {
  const a = nacl.ed25519KeyPair();
  const b = nacl.ed25519KeyPair();
  const buf = a.privateKey.slice();
  t.true(nacl.ed25519Verify(a.publicKey, msg, node.ed25519Sign(buf, msg)));
  buf.set(b.privateKey);
  t.true(nacl.ed25519Verify(b.publicKey, msg, node.ed25519Sign(buf, msg)), "not the cached key of the old bytes");
  zeroize(buf);
  buf.set(a.privateKey);
  t.true(nacl.ed25519Verify(a.publicKey, msg, node.ed25519Sign(buf, msg)), "after zeroize and reuse");
});

test("X25519: private and public buffers refilled in place agree with the portable backend", (t) => {
  const p = nacl.x25519KeyPair();
  const q = nacl.x25519KeyPair();
  const r = nacl.x25519KeyPair();
  const priv = p.privateKey.slice();
  const pub = q.publicKey.slice();
  t.deepEqual(node.x25519(priv, pub), nacl.x25519(p.privateKey, q.publicKey));
  pub.set(r.publicKey);
  t.deepEqual(node.x25519(priv, pub), nacl.x25519(p.privateKey, r.publicKey), "a refilled public key");
  priv.set(q.privateKey);
  t.deepEqual(node.x25519(priv, pub), nacl.x25519(q.privateKey, r.publicKey), "a refilled private key");
  const before = node.x25519(priv, pub);
  zeroize(priv);
  const after = node.x25519(priv, pub);
  t.notDeepEqual(after, before, "a zeroized buffer no longer stands for its old key");
  t.deepEqual(after, nacl.x25519(new Uint8Array(32), r.publicKey), "it is the (clamped) all-zero scalar, as in the portable backend");
});

test("Ed25519 verification: a public key buffer refilled in place verifies with its new contents", (t) => {
  const a = nacl.ed25519KeyPair();
  const b = nacl.ed25519KeyPair();
  const pub = a.publicKey.slice();
  const sigB = nacl.ed25519Sign(b.privateKey, msg);
  t.false(node.ed25519Verify(pub, msg, sigB));
  pub.set(b.publicKey);
  t.true(node.ed25519Verify(pub, msg, sigB));
});
