/**
 * The cacophony Noise test vectors (test/fixtures/noise-cacophony.json, copied
 * from /work/shared/vectors) on both crypto backends: every handshake and
 * transport ciphertext byte and the handshake hash. Negative cases: a bit
 * flipped in an authenticated handshake message is rejected, the receiver's
 * state is untouched, and the genuine message is accepted afterwards.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { createNaclBackend, createNodeBackend, type CryptoBackend } from "../../../interceptors/keys/crypto/index.js";
import { createHandshakeState, NoiseError, PATTERN_NAMES, type HandshakeState } from "../../../interceptors/keys/noise/index.js";

interface Vector {
  readonly protocol_name: string;
  readonly init_prologue: string;
  readonly init_psks?: readonly string[];
  readonly init_static?: string;
  readonly init_ephemeral?: string;
  readonly init_remote_static?: string;
  readonly resp_prologue: string;
  readonly resp_psks?: readonly string[];
  readonly resp_static?: string;
  readonly resp_ephemeral?: string;
  readonly resp_remote_static?: string;
  readonly handshake_hash: string;
  readonly messages: ReadonlyArray<{ readonly payload: string; readonly ciphertext: string }>;
}

const file = JSON.parse(readFileSync(new URL("../../fixtures/noise-cacophony.json", import.meta.url), "utf8")) as { vectors: Vector[] };
const VECTORS = file.vectors;
const EMPTY = new Uint8Array(0);
const BACKENDS: readonly CryptoBackend[] = [createNodeBackend(), createNaclBackend()];

const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, "hex"));
const hex = (b: Uint8Array | undefined): string => (b === undefined ? "-" : Buffer.from(b).toString("hex"));

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(what);
}

function parties(b: CryptoBackend, v: Vector): [HandshakeState, HandshakeState] {
  const pair = (priv?: string) => (priv === undefined ? undefined : b.x25519KeyPair(unhex(priv)));
  const common = { protocolName: v.protocol_name, backend: b };
  const init = createHandshakeState({
    ...common,
    initiator: true,
    prologue: unhex(v.init_prologue),
    s: pair(v.init_static),
    e: pair(v.init_ephemeral),
    rs: v.init_remote_static === undefined ? undefined : unhex(v.init_remote_static),
    psks: v.init_psks?.map(unhex),
  });
  const resp = createHandshakeState({
    ...common,
    initiator: false,
    prologue: unhex(v.resp_prologue),
    s: pair(v.resp_static),
    e: pair(v.resp_ephemeral),
    rs: v.resp_remote_static === undefined ? undefined : unhex(v.resp_remote_static),
    psks: v.resp_psks?.map(unhex),
  });
  return [init, resp];
}

/** Everything a failed readMessage must leave unchanged. */
function snapshot(hs: HandshakeState): string {
  const ss = hs.symmetricState;
  return JSON.stringify([hs.messageIndex, hex(ss.h), hex(ss.ck), hex(ss.cs.k), String(ss.cs.n), hex(hs.re), hex(hs.rs), hs.isMyTurn]);
}

/** True when message `i` ends under a key, so its payload (and hence all of it, via h) is authenticated. */
function authenticated(hs: HandshakeState, i: number): boolean {
  return hs.protocol.pattern.messages.slice(0, i + 1).flat().some((t) => t !== "e" && t !== "s");
}

/** Flips one bit at the start, middle and end of `message`; each must be refused without a state change. */
function tamper(receiver: HandshakeState, message: Uint8Array): number {
  const before = snapshot(receiver);
  const ss = receiver.symmetricState;
  let refused = 0;
  for (const pos of new Set([0, message.length >> 1, message.length - 1])) {
    const bad = message.slice();
    bad[pos] = (bad[pos] as number) ^ (1 << (pos % 8));
    try {
      receiver.readMessage(bad);
      throw new Error(`accepted a message with a bit flipped at byte ${pos}`);
    } catch (e) {
      if (!(e instanceof NoiseError)) throw e;
      check(e.code === "decrypt-failed" || e.code === "invalid-public-key", `byte ${pos}: unexpected error code ${e.code}`);
    }
    check(snapshot(receiver) === before && receiver.symmetricState === ss, `byte ${pos}: failed readMessage changed the state`);
    refused++;
  }
  return refused;
}

/** Runs one vector; returns the number of tampered messages refused. Throws on any mismatch. */
function run(b: CryptoBackend, v: Vector, withTampering: boolean): number {
  const [init, resp] = parties(b, v);
  const oneWay = init.protocol.pattern.oneWay;
  let refused = 0;
  for (const [i, m] of v.messages.entries()) {
    const [sender, receiver] = oneWay || i % 2 === 0 ? [init, resp] : [resp, init];
    const payload = unhex(m.payload);
    let ct: Uint8Array;
    let pt: Uint8Array | undefined;
    if (sender.transport === undefined) {
      ct = sender.writeMessage(payload);
      check(hex(ct) === m.ciphertext, `message ${i}: ciphertext ${hex(ct)} != ${m.ciphertext}`);
      if (withTampering && authenticated(receiver, i)) refused += tamper(receiver, ct);
      pt = receiver.readMessage(ct);
    } else {
      ct = sender.transport.send!.encryptWithAd(EMPTY, payload);
      check(hex(ct) === m.ciphertext, `transport message ${i}: ciphertext ${hex(ct)} != ${m.ciphertext}`);
      const rx = receiver.transport!.receive!;
      if (withTampering) {
        const n = rx.n;
        const bad = ct.slice();
        bad[0] = (bad[0] as number) ^ 0x80;
        check(rx.decryptWithAd(EMPTY, bad) === undefined && rx.n === n, `transport message ${i}: tampered ciphertext accepted or n advanced`);
        refused++;
      }
      pt = rx.decryptWithAd(EMPTY, ct);
    }
    check(pt !== undefined && hex(pt) === m.payload, `message ${i}: payload ${hex(pt)} != ${m.payload}`);
  }
  for (const hs of [init, resp]) {
    check(hs.transport !== undefined, "handshake did not complete");
    check(hex(hs.transport?.handshakeHash) === v.handshake_hash, `handshake hash ${hex(hs.transport?.handshakeHash)} != ${v.handshake_hash}`);
    check(hex(hs.getHandshakeHash()) === v.handshake_hash, "getHandshakeHash() differs from the transport's");
  }
  return refused;
}

test("the fixture holds the 118 vectors and covers every pattern in the table", (t) => {
  t.is(VECTORS.length, 118);
  const bases = new Set(VECTORS.map((v) => /^Noise_([A-Z0-9]+)/.exec(v.protocol_name)?.[1]));
  t.deepEqual([...bases].sort(), [...PATTERN_NAMES].sort());
});

for (const b of BACKENDS) {
  test(`cacophony vectors: ${b.name} backend reproduces every byte`, (t) => {
    const failures: string[] = [];
    let passed = 0;
    for (const v of VECTORS) {
      try {
        run(b, v, false);
        passed++;
      } catch (e) {
        failures.push(`${v.protocol_name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    t.deepEqual(failures, []);
    t.is(passed, VECTORS.length, "every vector in the file must run; none may be skipped");
    t.log(`${b.name}: ${passed}/${VECTORS.length} vectors passed`);
  });

  test(`cacophony vectors: ${b.name} backend refuses flipped bits without changing state`, (t) => {
    const failures: string[] = [];
    let refused = 0;
    let passed = 0;
    for (const v of VECTORS) {
      try {
        refused += run(b, v, true);
        passed++;
      } catch (e) {
        failures.push(`${v.protocol_name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    t.deepEqual(failures, []);
    t.is(passed, VECTORS.length);
    t.true(refused > VECTORS.length * 3, `only ${refused} tampered messages were tried`);
    t.log(`${b.name}: ${refused} tampered messages refused`);
  });
}

test("misuse and limits raise NoiseErrors with precise codes", (t) => {
  const b = createNodeBackend();
  const code = (f: () => unknown): string | undefined => {
    try {
      f();
      return undefined;
    } catch (e) {
      return e instanceof NoiseError ? e.code : `not a NoiseError: ${String(e)}`;
    }
  };
  t.is(code(() => createHandshakeState({ protocolName: "Noise_XX_448_ChaChaPoly_SHA256", initiator: true })), "unsupported-protocol");
  t.is(code(() => createHandshakeState({ protocolName: "Noise_XXfallback_25519_ChaChaPoly_SHA256", initiator: true })), "unsupported-protocol");
  t.is(code(() => createHandshakeState({ protocolName: "Noise_ZZ_25519_ChaChaPoly_SHA256", initiator: true })), "unsupported-protocol");
  t.throws(() => createHandshakeState({ protocolName: "Noise_IK_25519_ChaChaPoly_SHA256", initiator: true, s: b.x25519KeyPair() }), {
    message: "secsession: noise: Noise_IK_25519_ChaChaPoly_SHA256 as initiator needs the peer's static public key (rs)",
  });
  t.is(code(() => createHandshakeState({ protocolName: "Noise_NNpsk0_25519_ChaChaPoly_SHA256", initiator: true })), "missing-key");
  const init = createHandshakeState({ protocolName: "Noise_NN_25519_ChaChaPoly_SHA256", initiator: true, backend: b });
  const resp = createHandshakeState({ protocolName: "Noise_NN_25519_ChaChaPoly_SHA256", initiator: false, backend: b });
  t.is(code(() => resp.writeMessage()), "invalid-state");
  t.is(code(() => init.readMessage(new Uint8Array(48))), "invalid-state");
  t.is(code(() => resp.readMessage(new Uint8Array(31))), "malformed-message");
  t.is(code(() => resp.readMessage(new Uint8Array(65536))), "malformed-message");
  t.is(code(() => init.writeMessage(new Uint8Array(65535 - 31))), "malformed-message");
  resp.readMessage(init.writeMessage());
  init.readMessage(resp.writeMessage());
  t.is(code(() => init.writeMessage()), "invalid-state");
  // §5.1: n = 2^64-1 is reserved; §4.2: REKEY(k) = ENCRYPT(k, 2^64-1, "", zeros)[0..32].
  const { send } = init.transport!;
  const { receive } = resp.transport!;
  const k = send!.k!.slice();
  send!.rekey();
  receive!.rekey();
  const expected = b.aeadSeal("chacha20-poly1305", k, new Uint8Array(12).fill(0xff, 4), new Uint8Array(32), EMPTY).subarray(0, 32);
  t.deepEqual(send!.k, expected);
  send!.setNonce(0xffff_ffff_ffff_fffen);
  receive!.setNonce(0xffff_ffff_ffff_fffen);
  t.deepEqual(receive!.decryptWithAd(EMPTY, send!.encryptWithAd(EMPTY, Uint8Array.of(7))), Uint8Array.of(7));
  t.is(code(() => send!.encryptWithAd(EMPTY, Uint8Array.of(7))), "nonce-exhausted");
  t.is(code(() => receive!.decryptWithAd(EMPTY, new Uint8Array(17))), "nonce-exhausted");
});
