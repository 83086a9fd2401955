/**
 * Payload privacy under forks: two copies of one saved state that seal
 * different payloads at the same step under the same key must not reuse
 * (key, nonce), or a recorder of both learns the XOR of the plaintexts.
 */
import test from "ava";
import { createNaclBackend, createNodeBackend } from "../../interceptors/keys/crypto/index.js";
import { openPayload, sealPayload, type PayloadHeader } from "../../interceptors/wire/payload-crypto.js";

const algs = ["chacha20-poly1305", "aes-256-gcm", "xsalsa20-poly1305"] as const;
const backends = [
  ["node", createNodeBackend()],
  ["tweetnacl", createNaclBackend()],
] as const;

for (const [name, c] of backends) {
  for (const alg of algs) {
    test(`${name} ${alg}: two sends at one step under one key share no keystream, and each opens only with its own header`, (t) => {
      const key = c.randomBytes(32);
      const h: PayloadHeader = { sid: c.randomBytes(32), edge: 3, step: 7n, sender: "p", receiver: "q", keyVersion: 2 };
      const a = new TextEncoder().encode("accept the offer of 100 EUR");
      const b = new TextEncoder().encode("reject the offer of 100 EUR");
      const ca = sealPayload(c, alg, key, h, a);
      const cb = sealPayload(c, alg, key, h, b);
      // With a nonce derived from the step alone, the bodies would XOR to the plaintexts' XOR.
      const xorPlain = a.map((x, i) => x ^ b[i]!);
      let leak = false;
      for (let s = 0; s + a.length <= Math.min(ca.length, cb.length); s++) {
        if (xorPlain.every((x, i) => (ca[s + i]! ^ cb[s + i]!) === x)) leak = true;
      }
      t.false(leak, "no window of the two payloads XORs to the plaintexts' XOR");
      t.deepEqual(openPayload(c, alg, key, h, ca), a);
      t.deepEqual(openPayload(c, alg, key, h, cb), b);
      t.is(openPayload(c, alg, key, { ...h, step: 8n }, ca), undefined, "the step is authenticated");
      t.is(openPayload(c, alg, key, h, ca.subarray(0, 5)), undefined, "a payload shorter than its nonce is refused, not thrown");
    });
  }
}

test("a payload sealed by one backend opens on the other", (t) => {
  const [, n] = backends[0];
  const [, s] = backends[1];
  for (const alg of algs) {
    const key = n.randomBytes(32);
    const h: PayloadHeader = { sid: n.randomBytes(32), edge: 0, step: 1n, sender: "a", receiver: "b", keyVersion: 1 };
    const m = n.randomBytes(64);
    t.deepEqual(openPayload(s, alg, key, h, sealPayload(n, alg, key, h, m)), m, alg);
    t.deepEqual(openPayload(n, alg, key, h, sealPayload(s, alg, key, h, m)), m, alg);
  }
});
