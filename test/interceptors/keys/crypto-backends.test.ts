/**
 * The node:crypto and pure-JS backends against published vectors (RFC 4231,
 * RFC 7748, RFC 8032, RFC 8439, NIST GCM) and against each other, plus the
 * failure behaviour: tampering gives undefined / false, misuse throws with a
 * precise message, low-order X25519 points throw.
 */
import test from "ava";
import { randomBytes } from "node:crypto";
import {
  aeadNonceLength,
  constantTimeEqual,
  createNaclBackend,
  createNodeBackend,
  defaultBackend,
  type AeadAlgorithm,
  type CryptoBackend,
} from "../../../interceptors/keys/crypto/index.js";

const node = createNodeBackend();
const nacl = createNaclBackend();
const BOTH: readonly CryptoBackend[] = [node, nacl];
const ALGS: readonly AeadAlgorithm[] = ["chacha20-poly1305", "aes-256-gcm", "xsalsa20-poly1305"];

const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const rnd = (n: number): Uint8Array => Uint8Array.from(randomBytes(n));
const adFor = (alg: AeadAlgorithm, n: number): Uint8Array => (alg === "xsalsa20-poly1305" ? new Uint8Array(0) : rnd(n));

test("defaultBackend is one shared node backend", (t) => {
  t.is(defaultBackend(), defaultBackend());
  t.is(defaultBackend().name, "node");
  t.is(nacl.name, "tweetnacl");
});

for (const b of BOTH) {
  test(`${b.name}: SHA-256 (FIPS 180-4 "abc"), HMAC-SHA256 and HMAC-SHA512 (RFC 4231 §4.3)`, (t) => {
    t.is(hex(b.sha256(utf8("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    t.is(hex(b.sha256(utf8("a"), utf8(""), utf8("bc"))), hex(b.sha256(utf8("abc"))));
    const mac = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    t.is(hex(b.hmacSha256(utf8("Jefe"), utf8("what do ya want "), utf8("for nothing?"))), mac);
    const mac512 = "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737";
    t.is(hex(b.hmacSha512(utf8("Jefe"), utf8("what do ya want "), utf8("for nothing?"))), mac512);
    t.is(Object.getPrototypeOf(b.hmacSha512(utf8("Jefe"))), Uint8Array.prototype, "plain Uint8Array, not Buffer");
    t.is(Object.getPrototypeOf(b.sha256()), Uint8Array.prototype, "plain Uint8Array, not Buffer");
  });

  test(`${b.name}: X25519 (RFC 7748 §5.2 and §6.1)`, (t) => {
    const k = unhex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
    const u = unhex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c");
    t.is(hex(b.x25519(k, u)), "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
    const alice = b.x25519KeyPair(unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
    const bob = b.x25519KeyPair(unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
    t.is(hex(alice.publicKey), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    t.is(hex(bob.publicKey), "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    const shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
    t.is(hex(b.x25519(alice.privateKey, bob.publicKey)), shared);
    t.is(hex(b.x25519(bob.privateKey, alice.publicKey)), shared);
  });

  test(`${b.name}: X25519 refuses low-order points (all-zero shared secret)`, (t) => {
    const priv = b.x25519KeyPair().privateKey;
    const lowOrder = [
      "00".repeat(32),
      `01${"00".repeat(31)}`,
      `ec${"ff".repeat(30)}7f`, // p - 1
      "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    ];
    for (const u of lowOrder) t.throws(() => b.x25519(priv, unhex(u)), { message: /all zeros \(low-order public key\)/ }, u);
  });

  test(`${b.name}: Ed25519 (RFC 8032 §7.1 tests 1 and 2)`, (t) => {
    const cases = [
      ["9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"],
      ["4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb", "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"],
    ] as const;
    for (const [seed, pub, msg, sig] of cases) {
      const kp = b.ed25519KeyPair(unhex(seed));
      t.is(hex(kp.publicKey), pub);
      t.is(hex(kp.privateKey), seed);
      t.is(hex(b.ed25519Sign(kp.privateKey, unhex(msg))), sig);
      t.true(b.ed25519Verify(unhex(pub), unhex(msg), unhex(sig)));
    }
  });

  test(`${b.name}: Ed25519 verify returns false, never throws, on bad signatures`, (t) => {
    const kp = b.ed25519KeyPair();
    const msg = utf8("hello");
    const sig = b.ed25519Sign(kp.privateKey, msg);
    t.true(b.ed25519Verify(kp.publicKey, msg, sig));
    t.false(b.ed25519Verify(kp.publicKey, utf8("hellO"), sig));
    for (const i of [0, 31, 32, 63]) {
      const bad = sig.slice();
      bad[i] = (bad[i] as number) ^ 1;
      t.false(b.ed25519Verify(kp.publicKey, msg, bad), `bit flipped in byte ${i}`);
    }
    t.false(b.ed25519Verify(kp.publicKey, msg, sig.subarray(0, 63)));
    t.false(b.ed25519Verify(kp.publicKey, msg, new Uint8Array(65)));
    t.false(b.ed25519Verify(kp.publicKey, msg, new Uint8Array(64)));
    t.false(b.ed25519Verify(kp.publicKey, msg, new Uint8Array(64).fill(0xff)));
    t.false(b.ed25519Verify(kp.publicKey, msg, "not bytes" as unknown as Uint8Array));
    t.false(b.ed25519Verify(new Uint8Array(32).fill(0xff), msg, sig), "undecodable public key");
    // S + L: the malleated twin of a valid signature must be rejected (RFC 8032 §5.1.7).
    t.false(b.ed25519Verify(kp.publicKey, msg, addOrderToS(sig)));
  });

  test(`${b.name}: misuse throws with precise messages`, (t) => {
    t.throws(() => b.x25519(new Uint8Array(31), new Uint8Array(32)), { message: "secsession: x25519: privateKey: expected 32 bytes, got 31" });
    t.throws(() => b.x25519KeyPair(new Uint8Array(33)), { message: "secsession: x25519KeyPair: privateKey: expected 32 bytes, got 33" });
    t.throws(() => b.ed25519Sign(new Uint8Array(64), utf8("m")), { message: "secsession: ed25519Sign: seed: expected 32 bytes, got 64" });
    t.throws(() => b.ed25519Verify(new Uint8Array(31), utf8("m"), new Uint8Array(64)), { message: "secsession: ed25519Verify: publicKey: expected 32 bytes, got 31" });
    t.throws(() => b.sha256("abc" as unknown as Uint8Array), { message: "secsession: sha256: parts[0]: expected Uint8Array, got string" });
    t.throws(() => b.randomBytes(-1), { message: "secsession: randomBytes: expected a non-negative integer, got -1" });
    t.throws(() => b.aeadSeal("chacha20-poly1305", new Uint8Array(31), new Uint8Array(12), utf8("x"), new Uint8Array(0)), {
      message: "secsession: aeadSeal(chacha20-poly1305): key: expected 32 bytes, got 31",
    });
    t.throws(() => b.aeadOpen("aes-256-gcm", new Uint8Array(32), new Uint8Array(24), new Uint8Array(20), new Uint8Array(0)), {
      message: "secsession: aeadOpen(aes-256-gcm): nonce: expected 12 bytes, got 24",
    });
    t.throws(() => b.aeadSeal("xsalsa20-poly1305", new Uint8Array(32), new Uint8Array(12), utf8("x"), new Uint8Array(0)), {
      message: "secsession: aeadSeal(xsalsa20-poly1305): nonce: expected 24 bytes, got 12",
    });
    t.throws(() => b.aeadSeal("xsalsa20-poly1305", new Uint8Array(32), new Uint8Array(24), utf8("x"), new Uint8Array(3)), {
      message: /ad: expected 0 bytes .* got 3/,
    });
    t.throws(() => b.aeadSeal("rot13" as AeadAlgorithm, new Uint8Array(32), new Uint8Array(12), utf8("x"), new Uint8Array(0)), {
      message: 'secsession: aead: unknown algorithm "rot13"',
    });
  });

  test(`${b.name}: ChaCha20-Poly1305 (RFC 8439 §2.8.2)`, (t) => {
    const key = unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    const nonce = unhex("070000004041424344454647");
    const ad = unhex("50515253c0c1c2c3c4c5c6c7");
    const pt = utf8("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
    const expected =
      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36" +
      "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116" +
      "1ae10b594f09e26a7e902ecbd0600691";
    t.is(hex(b.aeadSeal("chacha20-poly1305", key, nonce, pt, ad)), expected);
    t.deepEqual(b.aeadOpen("chacha20-poly1305", key, nonce, unhex(expected), ad), pt);
  });

  test(`${b.name}: AES-256-GCM (NIST GCM spec test case 16)`, (t) => {
    const key = unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
    const nonce = unhex("cafebabefacedbaddecaf888");
    const ad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    const pt = unhex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
    );
    const expected =
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662" +
      "76fc6ece0f4e1768cddf8853bb2d551b";
    t.is(hex(b.aeadSeal("aes-256-gcm", key, nonce, pt, ad)), expected);
    t.deepEqual(b.aeadOpen("aes-256-gcm", key, nonce, unhex(expected), ad), pt);
  });

  for (const alg of ALGS) {
    test(`${b.name}: ${alg} refuses tampering with undefined`, (t) => {
      const key = rnd(32);
      const nonce = rnd(aeadNonceLength(alg));
      const ad = adFor(alg, 7);
      const pt = rnd(40);
      const ct = b.aeadSeal(alg, key, nonce, pt, ad);
      t.is(ct.length, pt.length + 16);
      t.deepEqual(b.aeadOpen(alg, key, nonce, ct, ad), pt);
      for (const i of [0, 20, ct.length - 16, ct.length - 1]) {
        const bad = ct.slice();
        bad[i] = (bad[i] as number) ^ 0x01;
        t.is(b.aeadOpen(alg, key, nonce, bad, ad), undefined, `byte ${i}`);
      }
      const otherKey = key.slice();
      otherKey[0] = (otherKey[0] as number) ^ 1;
      t.is(b.aeadOpen(alg, otherKey, nonce, ct, ad), undefined, "wrong key");
      if (alg !== "xsalsa20-poly1305") t.is(b.aeadOpen(alg, key, nonce, ct, rnd(7)), undefined, "wrong ad");
      t.is(b.aeadOpen(alg, key, nonce, ct.subarray(0, 15), ad), undefined, "shorter than a tag");
      t.is(b.aeadOpen(alg, key, nonce, ct.subarray(0, ct.length - 1), ad), undefined, "truncated");
    });
  }
}

test("both backends produce identical bytes and open each other's output", (t) => {
  for (let round = 0; round < 8; round++) {
    const parts = [rnd(round), rnd(100 * round + 1)];
    t.deepEqual(node.sha256(...parts), nacl.sha256(...parts));
    const macKey = rnd(round * 20); // includes the empty key and keys longer than a block
    t.deepEqual(node.hmacSha256(macKey, ...parts), nacl.hmacSha256(macKey, ...parts));
    const longKey = rnd(round * 40); // SHA-512's block is 128 bytes: includes keys longer than it
    t.deepEqual(node.hmacSha512(longKey, ...parts), nacl.hmacSha512(longKey, ...parts));
    const x = node.x25519KeyPair();
    const y = nacl.x25519KeyPair();
    t.deepEqual(nacl.x25519KeyPair(x.privateKey).publicKey, x.publicKey);
    t.deepEqual(node.x25519KeyPair(y.privateKey).publicKey, y.publicKey);
    t.deepEqual(node.x25519(x.privateKey, y.publicKey), nacl.x25519(y.privateKey, x.publicKey));
    const ed = node.ed25519KeyPair();
    t.deepEqual(nacl.ed25519KeyPair(ed.privateKey).publicKey, ed.publicKey);
    const msg = parts[1] as Uint8Array;
    const sig = node.ed25519Sign(ed.privateKey, msg);
    t.deepEqual(nacl.ed25519Sign(ed.privateKey, msg), sig, "Ed25519 is deterministic");
    t.true(nacl.ed25519Verify(ed.publicKey, msg, sig));
    for (const alg of ALGS) {
      const key = rnd(32);
      const nonce = rnd(aeadNonceLength(alg));
      const ad = adFor(alg, round * 3);
      const pt = rnd(round * 37);
      const a = node.aeadSeal(alg, key, nonce, pt, ad);
      t.deepEqual(nacl.aeadSeal(alg, key, nonce, pt, ad), a, alg);
      t.deepEqual(nacl.aeadOpen(alg, key, nonce, a, ad), pt, alg);
      t.deepEqual(node.aeadOpen(alg, key, nonce, a, ad), pt, alg);
    }
  }
});

test("key pairs never alias their argument; randomBytes is fresh", (t) => {
  for (const b of BOTH) {
    const priv = rnd(32);
    t.not(b.x25519KeyPair(priv).privateKey, priv);
    t.not(b.ed25519KeyPair(priv).privateKey, priv);
    t.is(b.randomBytes(0).length, 0);
    t.is(b.randomBytes(33).length, 33);
    t.false(constantTimeEqual(b.randomBytes(32), b.randomBytes(32)));
  }
});

test("constantTimeEqual", (t) => {
  t.true(constantTimeEqual(unhex("0102"), unhex("0102")));
  t.false(constantTimeEqual(unhex("0102"), unhex("0103")));
  t.false(constantTimeEqual(unhex("0102"), unhex("010200")));
  t.true(constantTimeEqual(new Uint8Array(0), new Uint8Array(0)));
});

/** The signature with S replaced by S + L (still < 2^256 for any canonical S, since L < 2^253). */
function addOrderToS(sig: Uint8Array): Uint8Array {
  const L = unhex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
  const out = sig.slice();
  let carry = 0;
  for (let i = 0; i < 32; i++) {
    const v = (out[32 + i] as number) + (L[i] as number) + carry;
    out[32 + i] = v & 0xff;
    carry = v >> 8;
  }
  return out;
}
