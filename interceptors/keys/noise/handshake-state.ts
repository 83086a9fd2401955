/**
 * HandshakeState (Noise rev 34 §5.3): Initialize, WriteMessage, ReadMessage,
 * with the PSK rules of §9.2 and the message size limit of §3.
 *
 * Verify before touching state: every message is processed on a copy of the
 * SymmetricState (and of e, re, rs and the PSK index); the copy replaces the
 * committed state only once all of its tags have verified. A failed
 * ReadMessage therefore leaves the HandshakeState exactly as it was, so the
 * caller can drop a forged message and still accept the genuine one. The spec
 * lets an implementation abort on any error instead; this is strictly safer.
 */
import type { CryptoBackend, KeyPair } from "../crypto/backend.js";
import { assertBytes, concatBytes, zeroize } from "../crypto/bytes.js";
import { defaultBackend } from "../crypto/index.js";
import type { CipherState } from "./cipher-state.js";
import { checkOptions, DHLEN, type HandshakeOptions } from "./handshake-options.js";
import { NoiseError } from "./noise-error.js";
import { parseProtocolName, type NoiseProtocol, type PreMessageToken, type Token } from "./patterns.js";
import { createSymmetricState, type SymmetricState } from "./symmetric-state.js";

/** §3: every Noise message is at most 65535 bytes. */
export const MAX_MESSAGE_LENGTH = 65535;

const EMPTY = new Uint8Array(0);

/** The result of Split() as seen by one party: per-direction CipherStates (Themis-style in/out). */
export interface TransportState {
  /** Encrypts what this party sends; undefined for the responder of a one-way pattern. */
  readonly send: CipherState | undefined;
  /** Decrypts what this party receives; undefined for the initiator of a one-way pattern. */
  readonly receive: CipherState | undefined;
  /** GetHandshakeHash() at the end of the handshake (channel binding, §11.2). */
  readonly handshakeHash: Uint8Array;
}

/** Noise's HandshakeState (§5.3). */
export interface HandshakeState {
  readonly protocol: NoiseProtocol;
  readonly initiator: boolean;
  /** The committed SymmetricState (a new object after every message); for inspection. */
  readonly symmetricState: SymmetricState;
  /** The peer's static public key, once known. */
  readonly rs: Uint8Array | undefined;
  /** The peer's ephemeral public key, once known. */
  readonly re: Uint8Array | undefined;
  /** Index of the next handshake message. */
  readonly messageIndex: number;
  /** True when the next call must be writeMessage (false once complete). */
  readonly isMyTurn: boolean;
  /** Set once the last handshake message has been written or read. */
  readonly transport: TransportState | undefined;
  /** WriteMessage(payload, message_buffer): returns the message. */
  writeMessage(payload?: Uint8Array): Uint8Array;
  /** ReadMessage(message, payload_buffer): returns the payload; throws a NoiseError, changing nothing, on failure. */
  readMessage(message: Uint8Array): Uint8Array;
  /** GetHandshakeHash(). */
  getHandshakeHash(): Uint8Array;
  /** Abandons the handshake: zeroes the ephemeral private key, ck and k. */
  destroy(): void;
}

/**
 * Initialize(handshake_pattern, initiator, prologue, s, e, rs, re) (§5.3), plus psks (§9).
 *
 * @example
 * const alice = createHandshakeState({ protocolName: "Noise_NN_25519_ChaChaPoly_SHA256", initiator: true });
 * const bob = createHandshakeState({ protocolName: "Noise_NN_25519_ChaChaPoly_SHA256", initiator: false });
 * bob.readMessage(alice.writeMessage());
 * alice.readMessage(bob.writeMessage());
 * const { send } = alice.transport!;
 */
export function createHandshakeState(options: HandshakeOptions): HandshakeState {
  return new NoiseHandshakeState(options);
}

/** The mutable part of the state: processed as a draft, then committed (see the file comment). */
interface Draft {
  ss: SymmetricState;
  e: KeyPair | undefined;
  re: Uint8Array | undefined;
  rs: Uint8Array | undefined;
  pskIndex: number;
}

class NoiseHandshakeState implements HandshakeState {
  readonly protocol: NoiseProtocol;
  readonly initiator: boolean;
  private readonly backend: CryptoBackend;
  private readonly s: KeyPair | undefined;
  private readonly psks: readonly Uint8Array[];
  private readonly hasPsk: boolean;
  private state: Draft;
  private index = 0;
  private result: TransportState | undefined = undefined;
  private destroyed = false;

  constructor(o: HandshakeOptions) {
    this.protocol = parseProtocolName(o.protocolName);
    this.initiator = o.initiator;
    this.backend = o.backend ?? defaultBackend();
    checkOptions(this.protocol, o);
    this.s = o.s;
    this.psks = o.psks ?? [];
    this.hasPsk = this.protocol.pattern.pskCount > 0;
    const ss = createSymmetricState(this.backend, this.protocol.cipher, this.protocol.name);
    const e = o.e === undefined ? undefined : { publicKey: o.e.publicKey.slice(), privateKey: o.e.privateKey.slice() };
    this.state = { ss, e, re: o.re?.slice(), rs: o.rs?.slice(), pskIndex: 0 };
    ss.mixHash(o.prologue ?? EMPTY);
    // §5.3: hash the pre-message public keys, the initiator's first; §9.2: in a PSK handshake a pre-message e is also MixKey'd.
    const { initiatorPreMessage, responderPreMessage } = this.protocol.pattern;
    for (const [tokens, mine] of [[initiatorPreMessage, o.initiator], [responderPreMessage, !o.initiator]] as const) {
      for (const t of tokens) {
        const key = this.preMessageKey(t, mine);
        ss.mixHash(key);
        if (t === "e" && this.hasPsk) ss.mixKey(key);
      }
    }
  }

  get symmetricState(): SymmetricState {
    return this.state.ss;
  }
  get rs(): Uint8Array | undefined {
    return this.state.rs;
  }
  get re(): Uint8Array | undefined {
    return this.state.re;
  }
  get messageIndex(): number {
    return this.index;
  }
  get isMyTurn(): boolean {
    return this.result === undefined && (this.index % 2 === 0) === this.initiator;
  }
  get transport(): TransportState | undefined {
    return this.result;
  }

  writeMessage(payload: Uint8Array = EMPTY): Uint8Array {
    this.assertTurn("writeMessage", true);
    assertBytes("writeMessage: payload", payload);
    const d = this.draft();
    try {
      const parts: Uint8Array[] = [];
      for (const t of this.tokens()) {
        switch (t) {
          case "e":
            d.e ??= this.backend.x25519KeyPair(); // GENERATE_KEYPAIR(), unless fixed for tests
            parts.push(d.e.publicKey.slice());
            this.mixEphemeral(d, d.e.publicKey);
            break;
          case "s":
            parts.push(d.ss.encryptAndHash(need(this.s, "s").publicKey));
            break;
          case "psk":
            d.ss.mixKeyAndHash(need(this.psks[d.pskIndex++], "psk"));
            break;
          default:
            this.mixDh(d, t);
        }
      }
      parts.push(d.ss.encryptAndHash(payload));
      const message = concatBytes(...parts);
      if (message.length > MAX_MESSAGE_LENGTH) {
        throw new NoiseError("malformed-message", `message would be ${message.length} bytes, over the ${MAX_MESSAGE_LENGTH}-byte limit (§3)`);
      }
      this.commit(d);
      return message;
    } catch (e) {
      this.discard(d);
      throw e;
    }
  }

  readMessage(message: Uint8Array): Uint8Array {
    this.assertTurn("readMessage", false);
    assertBytes("readMessage: message", message);
    if (message.length > MAX_MESSAGE_LENGTH) {
      throw new NoiseError("malformed-message", `message is ${message.length} bytes, over the ${MAX_MESSAGE_LENGTH}-byte limit (§3)`);
    }
    const d = this.draft();
    try {
      let offset = 0;
      const take = (n: number, what: string): Uint8Array => {
        if (offset + n > message.length) throw new NoiseError("malformed-message", `message ${this.index} too short for ${what}`);
        return message.subarray(offset, (offset += n));
      };
      for (const t of this.tokens()) {
        switch (t) {
          case "e":
            d.re = take(DHLEN, "e").slice();
            this.mixEphemeral(d, d.re);
            break;
          case "s":
            d.rs = decrypted(d.ss.decryptAndHash(take(d.ss.cs.hasKey() ? DHLEN + 16 : DHLEN, "s")), "s");
            break;
          case "psk":
            d.ss.mixKeyAndHash(need(this.psks[d.pskIndex++], "psk"));
            break;
          default:
            this.mixDh(d, t);
        }
      }
      const rest = message.subarray(offset);
      if (d.ss.cs.hasKey() && rest.length < 16) throw new NoiseError("malformed-message", `message ${this.index} too short for the payload tag`);
      const payload = decrypted(d.ss.decryptAndHash(rest), "payload");
      this.commit(d);
      return payload;
    } catch (e) {
      this.discard(d);
      throw e;
    }
  }

  getHandshakeHash(): Uint8Array {
    return this.state.ss.getHandshakeHash();
  }

  destroy(): void {
    this.destroyed = true;
    this.state.ss.destroy();
    zeroize(this.state.e?.privateKey);
  }

  private tokens(): readonly Token[] {
    return this.protocol.pattern.messages[this.index] ?? [];
  }

  private assertTurn(op: string, writing: boolean): void {
    if (this.destroyed) throw new NoiseError("invalid-state", `${op}: the handshake was destroyed`);
    if (this.result !== undefined) throw new NoiseError("invalid-state", `${op}: the handshake is complete`);
    if (this.isMyTurn !== writing) {
      throw new NoiseError("invalid-state", `${op}: message ${this.index} of ${this.protocol.name} is the peer's to ${writing ? "send" : "read"}`);
    }
  }

  private draft(): Draft {
    return { ...this.state, ss: this.state.ss.clone() };
  }

  /** Replaces the committed state by the draft, zeroing the retired SymmetricState; Split()s after the last message. */
  private commit(d: Draft): void {
    const retired = this.state.ss;
    this.state = d;
    retired.destroy();
    this.index++;
    if (this.index === this.protocol.pattern.messages.length) this.finish();
  }

  private discard(d: Draft): void {
    d.ss.destroy();
    if (d.e !== this.state.e) zeroize(d.e?.privateKey); // an ephemeral generated for the failed message
  }

  /** §5.3: Split() after the last handshake message; the ephemeral private key and ck are retired. */
  private finish(): void {
    const handshakeHash = this.state.ss.getHandshakeHash();
    const [c1, c2] = this.state.ss.split();
    zeroize(this.state.e?.privateKey);
    if (this.protocol.pattern.oneWay) {
      c2.destroy(); // §7.4 one-way patterns: only the initiator sends, with c1
      this.result = this.initiator ? { send: c1, receive: undefined, handshakeHash } : { send: undefined, receive: c1, handshakeHash };
    } else {
      this.result = this.initiator ? { send: c1, receive: c2, handshakeHash } : { send: c2, receive: c1, handshakeHash };
    }
  }

  /** The "e" token: MixHash(e.public_key), and in PSK handshakes also MixKey(e.public_key) (§9.2). */
  private mixEphemeral(d: Draft, publicKey: Uint8Array): void {
    d.ss.mixHash(publicKey);
    if (this.hasPsk) d.ss.mixKey(publicKey);
  }

  /** The DH tokens (§5.3): MixKey(DH(...)), the shared secret zeroed afterwards. */
  private mixDh(d: Draft, t: "ee" | "es" | "se" | "ss"): void {
    const local = t === "ee" || (t === "es" && this.initiator) || (t === "se" && !this.initiator) ? d.e : this.s;
    const remote = t === "ee" || (t === "es" && !this.initiator) || (t === "se" && this.initiator) ? d.re : d.rs;
    let shared: Uint8Array;
    try {
      shared = this.backend.x25519(need(local, t).privateKey, need(remote, t));
    } catch (e) {
      if (e instanceof NoiseError) throw e;
      throw new NoiseError("invalid-public-key", `${t}: DH failed (low-order public key?)`, { cause: e });
    }
    try {
      d.ss.mixKey(shared);
    } finally {
      zeroize(shared);
    }
  }

  private preMessageKey(t: PreMessageToken, mine: boolean): Uint8Array {
    if (t === "s") return mine ? need(this.s, "s").publicKey : need(this.state.rs, "rs");
    return mine ? need(this.state.e, "e").publicKey : need(this.state.re, "re");
  }
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new NoiseError("missing-key", `${what} is needed here but was not supplied`);
  return value;
}

function decrypted(plaintext: Uint8Array | undefined, what: string): Uint8Array {
  if (plaintext === undefined) throw new NoiseError("decrypt-failed", `${what}: authentication failed`);
  return plaintext;
}
