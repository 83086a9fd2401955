/**
 * Handshake patterns (Noise rev 34 §7) and protocol names (§8). The table is
 * written in the spec's own notation and parsed once at load, so it can be
 * checked against §7.4 (one-way), §7.5 (interactive, fundamental) and §7.6
 * (interactive, deferred) by eye. PSK modifiers follow §9.2.
 */
import { NoiseError } from "./noise-error.js";

/** A message token (§7.1). */
export type Token = "e" | "s" | "ee" | "es" | "se" | "ss" | "psk";

/** A token allowed in a pre-message (§7.1: only public keys). */
export type PreMessageToken = "e" | "s";

/** A handshake pattern with its modifiers applied. Message `i` is sent by the initiator when `i` is even. */
export interface HandshakePattern {
  /** The pattern part of the protocol name, e.g. `"IKpsk2"`. */
  readonly name: string;
  /** One-way patterns (§7.4): only the initiator sends, also after the handshake. */
  readonly oneWay: boolean;
  readonly initiatorPreMessage: readonly PreMessageToken[];
  readonly responderPreMessage: readonly PreMessageToken[];
  readonly messages: ReadonlyArray<readonly Token[]>;
  /** Number of `psk` tokens: the number of PSKs `Initialize` needs. */
  readonly pskCount: number;
}

/** The cipher functions this implementation supports (§12.3, §12.4). */
export type NoiseCipherName = "ChaChaPoly" | "AESGCM";

/** A parsed protocol name such as `Noise_XX_25519_ChaChaPoly_SHA256` (§8). */
export interface NoiseProtocol {
  readonly name: string;
  readonly pattern: HandshakePattern;
  readonly dh: "25519";
  readonly cipher: NoiseCipherName;
  readonly hash: "SHA256";
}

// §7.4, §7.5, §7.6. "..." separates pre-messages from messages.
const TABLE: Readonly<Record<string, readonly string[]>> = {
  N: ["<- s", "...", "-> e, es"],
  K: ["-> s", "<- s", "...", "-> e, es, ss"],
  X: ["<- s", "...", "-> e, es, s, ss"],
  NN: ["-> e", "<- e, ee"],
  NK: ["<- s", "...", "-> e, es", "<- e, ee"],
  NX: ["-> e", "<- e, ee, s, es"],
  KN: ["-> s", "...", "-> e", "<- e, ee, se"],
  KK: ["-> s", "<- s", "...", "-> e, es, ss", "<- e, ee, se"],
  KX: ["-> s", "...", "-> e", "<- e, ee, se, s, es"],
  XN: ["-> e", "<- e, ee", "-> s, se"],
  XK: ["<- s", "...", "-> e, es", "<- e, ee", "-> s, se"],
  XX: ["-> e", "<- e, ee, s, es", "-> s, se"],
  IN: ["-> e, s", "<- e, ee, se"],
  IK: ["<- s", "...", "-> e, es, s, ss", "<- e, ee, se"],
  IX: ["-> e, s", "<- e, ee, se, s, es"],
  NK1: ["<- s", "...", "-> e", "<- e, ee, es"],
  NX1: ["-> e", "<- e, ee, s", "-> es"],
  X1N: ["-> e", "<- e, ee", "-> s", "<- se"],
  X1K: ["<- s", "...", "-> e, es", "<- e, ee", "-> s", "<- se"],
  XK1: ["<- s", "...", "-> e", "<- e, ee, es", "-> s, se"],
  X1K1: ["<- s", "...", "-> e", "<- e, ee, es", "-> s", "<- se"],
  X1X: ["-> e", "<- e, ee, s, es", "-> s", "<- se"],
  XX1: ["-> e", "<- e, ee, s", "-> es, s, se"],
  X1X1: ["-> e", "<- e, ee, s", "-> es, s", "<- se"],
  K1N: ["-> s", "...", "-> e", "<- e, ee", "-> se"],
  K1K: ["-> s", "<- s", "...", "-> e, es", "<- e, ee", "-> se"],
  KK1: ["-> s", "<- s", "...", "-> e", "<- e, ee, se, es"],
  K1K1: ["-> s", "<- s", "...", "-> e", "<- e, ee, es", "-> se"],
  K1X: ["-> s", "...", "-> e", "<- e, ee, s, es", "-> se"],
  KX1: ["-> s", "...", "-> e", "<- e, ee, se, s", "-> es"],
  K1X1: ["-> s", "...", "-> e", "<- e, ee, s", "-> se, es"],
  I1N: ["-> e, s", "<- e, ee", "-> se"],
  I1K: ["<- s", "...", "-> e, es, s", "<- e, ee", "-> se"],
  IK1: ["<- s", "...", "-> e, s", "<- e, ee, se, es"],
  I1K1: ["<- s", "...", "-> e, s", "<- e, ee, es", "-> se"],
  I1X: ["-> e, s", "<- e, ee, s, es", "-> se"],
  IX1: ["-> e, s", "<- e, ee, se, s", "-> es"],
  I1X1: ["-> e, s", "<- e, ee, s", "-> se, es"],
};

const BASE: ReadonlyMap<string, HandshakePattern> = new Map(Object.entries(TABLE).map(([n, lines]) => [n, parseNotation(n, lines)]));

/** The names of all supported base patterns (without modifiers). */
export const PATTERN_NAMES: readonly string[] = Object.keys(TABLE);

/**
 * The pattern for a pattern name with optional PSK modifiers (§9.2), e.g.
 * `"XXpsk3"` or `"NNpsk0+psk2"`.
 */
export function handshakePattern(name: string): HandshakePattern {
  const m = /^([A-Z][A-Z0-9]*)(?:([a-z][a-z0-9+]*))?$/.exec(name);
  const base = m?.[1] === undefined ? undefined : BASE.get(m[1]);
  if (m === null || base === undefined) throw new NoiseError("unsupported-protocol", `unknown handshake pattern ${JSON.stringify(name)}`);
  const messages = base.messages.map((msg) => [...msg]);
  let pskCount = 0;
  for (const mod of m[2]?.split("+") ?? []) {
    const psk = /^psk(\d+)$/.exec(mod);
    // "fallback" (§10.2) and any other modifier are not implemented.
    if (psk?.[1] === undefined) throw new NoiseError("unsupported-protocol", `unsupported pattern modifier ${JSON.stringify(mod)} in ${name}`);
    const k = Number(psk[1]);
    if (k > messages.length) throw new NoiseError("unsupported-protocol", `${mod} in ${name}: the pattern has only ${messages.length} messages`);
    // §9.2: psk0 goes at the start of the first message, pskN at the end of the Nth.
    if (k === 0) messages[0]?.unshift("psk");
    else messages[k - 1]?.push("psk");
    pskCount++;
  }
  return { ...base, name, messages, pskCount };
}

/** Parses and checks a protocol name (§8); only 25519, ChaChaPoly or AESGCM, and SHA256 are supported. */
export function parseProtocolName(name: string): NoiseProtocol {
  const parts = name.split("_");
  if (parts.length !== 5 || parts[0] !== "Noise") {
    throw new NoiseError("unsupported-protocol", `expected Noise_<pattern>_<dh>_<cipher>_<hash>, got ${JSON.stringify(name)}`);
  }
  const [, patternName = "", dh, cipher, hash] = parts;
  if (dh !== "25519") throw new NoiseError("unsupported-protocol", `${name}: unsupported DH ${JSON.stringify(dh)}, expected 25519`);
  if (cipher !== "ChaChaPoly" && cipher !== "AESGCM") {
    throw new NoiseError("unsupported-protocol", `${name}: unsupported cipher ${JSON.stringify(cipher)}, expected ChaChaPoly or AESGCM`);
  }
  if (hash !== "SHA256") throw new NoiseError("unsupported-protocol", `${name}: unsupported hash ${JSON.stringify(hash)}, expected SHA256`);
  return { name, pattern: handshakePattern(patternName), dh, cipher, hash };
}

/** Parses one table entry; a malformed entry is a bug, so it throws at module load. */
function parseNotation(name: string, lines: readonly string[]): HandshakePattern {
  const split = lines.indexOf("...");
  const pre = split < 0 ? [] : lines.slice(0, split);
  const msgs = lines.slice(split + 1);
  const parse = (line: string): { dir: "->" | "<-"; tokens: string[] } => {
    const dir = line.slice(0, 2);
    if (dir !== "->" && dir !== "<-") throw new Error(`noise pattern table: ${name}: bad line ${JSON.stringify(line)}`);
    return { dir, tokens: line.slice(2).split(",").map((t) => t.trim()) };
  };
  const preOf = (dir: "->" | "<-"): PreMessageToken[] =>
    pre.map(parse).filter((p) => p.dir === dir).flatMap((p) => p.tokens.map((t) => asPreToken(name, t)));
  const messages = msgs.map((line, i) => {
    const p = parse(line);
    if (p.dir !== (i % 2 === 0 ? "->" : "<-")) throw new Error(`noise pattern table: ${name}: message ${i} goes the wrong way`);
    return p.tokens.map((t) => asToken(name, t));
  });
  return {
    name,
    oneWay: name.length === 1,
    initiatorPreMessage: preOf("->"),
    responderPreMessage: preOf("<-"),
    messages,
    pskCount: 0,
  };
}

function asToken(name: string, t: string): Token {
  if (t === "e" || t === "s" || t === "ee" || t === "es" || t === "se" || t === "ss" || t === "psk") return t;
  throw new Error(`noise pattern table: ${name}: unknown token ${JSON.stringify(t)}`);
}

function asPreToken(name: string, t: string): PreMessageToken {
  if (t === "e" || t === "s") return t;
  throw new Error(`noise pattern table: ${name}: ${JSON.stringify(t)} is not allowed in a pre-message`);
}
