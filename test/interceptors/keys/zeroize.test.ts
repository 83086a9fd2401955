/**
 * Retired secrets read all-zero: the test keeps references to buffers the
 * Noise state objects retire (chaining keys, handshake keys, HKDF outputs,
 * DH outputs, ephemeral private keys) and checks them after MixKey, Split,
 * the end of a handshake, and a failed ReadMessage.
 */
import test from "ava";
import {
  createNaclBackend,
  createNodeBackend,
  type CryptoBackend,
  type KeyPair,
} from "../../../interceptors/keys/crypto/index.js";
import {
  createCipherState,
  createHandshakeState,
  createSymmetricState,
  NoiseError,
  type HandshakeState,
} from "../../../interceptors/keys/noise/index.js";

const zero = (b: Uint8Array | undefined): boolean => b !== undefined && b.length > 0 && b.every((x) => x === 0);
const nonZero = (b: Uint8Array | undefined): boolean => b !== undefined && b.some((x) => x !== 0);

/** A backend that records every secret it hands out, so the test can check they are zeroed later. */
function spy(inner: CryptoBackend): { backend: CryptoBackend; secrets: Uint8Array[] } {
  const secrets: Uint8Array[] = [];
  const keep = <T extends Uint8Array>(b: T): T => (secrets.push(b), b);
  const backend: CryptoBackend = {
    name: inner.name,
    randomBytes: (n) => inner.randomBytes(n),
    sha256: (...p) => inner.sha256(...p),
    hmacSha256: (k, ...p) => keep(inner.hmacSha256(k, ...p)), // HKDF temp_key, outputs, ck
    hmacSha512: (k, ...p) => keep(inner.hmacSha512(k, ...p)),
    x25519KeyPair: (priv) => {
      const kp = inner.x25519KeyPair(priv);
      if (priv === undefined) keep(kp.privateKey); // a generated ephemeral
      return kp;
    },
    x25519: (a, b) => keep(inner.x25519(a, b)),
    ed25519KeyPair: (seed) => inner.ed25519KeyPair(seed),
    ed25519Sign: (seed, m) => inner.ed25519Sign(seed, m),
    ed25519Verify: (pub, m, s) => inner.ed25519Verify(pub, m, s),
    aeadSeal: (...a) => inner.aeadSeal(...a),
    aeadOpen: (...a) => inner.aeadOpen(...a),
  };
  return { backend, secrets };
}

function handshake(name: string, b: CryptoBackend, keys: { i?: KeyPair; r?: KeyPair; psk?: Uint8Array }): [HandshakeState, HandshakeState] {
  const psks = keys.psk === undefined ? undefined : [keys.psk];
  const init = createHandshakeState({ protocolName: name, initiator: true, s: keys.i, rs: keys.r?.publicKey, psks, backend: b });
  const resp = createHandshakeState({ protocolName: name, initiator: false, s: keys.r, rs: keys.i?.publicKey, psks, backend: b });
  return [init, resp];
}

for (const inner of [createNodeBackend(), createNaclBackend()]) {
  const n = inner.name;

  test(`${n}: after a handshake every HKDF output, DH output and ephemeral private key is zero`, (t) => {
    const { backend, secrets } = spy(inner);
    const keys = { i: inner.x25519KeyPair(), r: inner.x25519KeyPair(), psk: inner.randomBytes(32) };
    for (const name of ["Noise_XX_25519_ChaChaPoly_SHA256", "Noise_IKpsk2_25519_AESGCM_SHA256", "Noise_X1X1_25519_ChaChaPoly_SHA256"]) {
      secrets.length = 0;
      const [init, resp] = handshake(name, backend, name.includes("psk") ? keys : { i: keys.i, r: keys.r });
      const ckAfterFirst: Uint8Array[] = [];
      const kDuring: Uint8Array[] = [];
      let writer = init;
      let reader = resp;
      while (init.transport === undefined) {
        reader.readMessage(writer.writeMessage(new Uint8Array([1, 2, 3])));
        ckAfterFirst.push(init.symmetricState.ck, resp.symmetricState.ck);
        const k = init.symmetricState.cs.k;
        if (k !== undefined) kDuring.push(k);
        [writer, reader] = [reader, writer];
      }
      t.true(secrets.length > 10, `${name}: the spy saw the secrets`);
      t.true(secrets.every(zero), `${name}: ${secrets.filter((s) => !zero(s)).length} of ${secrets.length} secrets not zeroed`);
      t.true(ckAfterFirst.every(zero) && kDuring.every(zero), `${name}: retired ck/k`);
      t.true(zero(init.symmetricState.ck) && init.symmetricState.cs.k === undefined, `${name}: Split retired ck and k`);
      // The transport keys are live and the peers agree.
      const ct = init.transport.send!.encryptWithAd(new Uint8Array(0), new Uint8Array([9]));
      t.deepEqual(resp.transport!.receive!.decryptWithAd(new Uint8Array(0), ct), new Uint8Array([9]));
      t.true(nonZero(init.transport.send!.k) && nonZero(init.transport.receive!.k));
      t.true(nonZero(keys.i.privateKey) && nonZero(keys.psk), "the caller's static key and PSK are not touched");
    }
  });

  test(`${n}: one-way pattern: ephemeral and c2 are retired`, (t) => {
    const { backend, secrets } = spy(inner);
    const r = inner.x25519KeyPair();
    const init = createHandshakeState({ protocolName: "Noise_N_25519_ChaChaPoly_SHA256", initiator: true, rs: r.publicKey, backend });
    const resp = createHandshakeState({ protocolName: "Noise_N_25519_ChaChaPoly_SHA256", initiator: false, s: r, backend });
    resp.readMessage(init.writeMessage());
    t.true(secrets.length > 0 && secrets.every(zero));
    t.is(init.transport?.receive, undefined);
    t.is(resp.transport?.send, undefined);
  });

  test(`${n}: a failed readMessage zeroes its draft and keeps the committed state`, (t) => {
    const { backend, secrets } = spy(inner);
    const [init, resp] = handshake("Noise_NN_25519_ChaChaPoly_SHA256", backend, {});
    resp.readMessage(init.writeMessage());
    const m2 = resp.writeMessage(new Uint8Array(5));
    const committedCk = init.symmetricState.ck;
    const before = secrets.length;
    const bad = m2.slice();
    bad[40] = (bad[40] as number) ^ 4;
    t.throws(() => init.readMessage(bad), { instanceOf: NoiseError, message: /authentication failed/ });
    const fromFailedRead = secrets.slice(before);
    t.true(fromFailedRead.length > 0 && fromFailedRead.every(zero), "draft secrets zeroed");
    t.true(nonZero(committedCk) && init.symmetricState.ck === committedCk, "committed ck untouched");
    t.deepEqual(init.readMessage(m2), new Uint8Array(5));
  });

  test(`${n}: a fixed ephemeral is copied: the copy is zeroed, the caller's buffer is not`, (t) => {
    const e = inner.x25519KeyPair();
    const copy = e.privateKey.slice();
    const init = createHandshakeState({ protocolName: "Noise_NN_25519_ChaChaPoly_SHA256", initiator: true, e, backend: inner });
    const resp = createHandshakeState({ protocolName: "Noise_NN_25519_ChaChaPoly_SHA256", initiator: false, backend: inner });
    resp.readMessage(init.writeMessage());
    init.readMessage(resp.writeMessage());
    t.deepEqual(e.privateKey, copy);
  });

  test(`${n}: MixKey, Split, Rekey and destroy zero what they retire`, (t) => {
    const ss = createSymmetricState(inner, "ChaChaPoly", "Noise_NN_25519_ChaChaPoly_SHA256");
    const ck0 = ss.ck;
    ss.mixKey(inner.randomBytes(32));
    const ck1 = ss.ck;
    const k1 = ss.cs.k;
    t.true(zero(ck0) && nonZero(ck1) && nonZero(k1));
    ss.mixKeyAndHash(inner.randomBytes(32));
    t.true(zero(ck1) && zero(k1), "MixKeyAndHash retired the previous ck and k");
    const ck2 = ss.ck;
    const k2 = ss.cs.k;
    const h = ss.getHandshakeHash();
    const [c1, c2] = ss.split();
    t.true(zero(ck2) && zero(k2), "Split retired ck and k");
    t.deepEqual(ss.getHandshakeHash(), h, "h survives Split");
    t.throws(() => ss.mixKey(new Uint8Array(32)), { instanceOf: NoiseError, message: /after Split/ });
    const old = c1.k;
    c1.rekey();
    t.true(zero(old) && nonZero(c1.k), "Rekey retired the old key");
    const k = c2.k;
    c2.destroy();
    t.true(zero(k) && !c2.hasKey());
    const cs = createCipherState(inner, "AESGCM", inner.randomBytes(32));
    const before = cs.k;
    cs.initializeKey(inner.randomBytes(32));
    t.true(zero(before), "InitializeKey retired the previous key");
  });
}
