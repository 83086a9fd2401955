/**
 * Ratchet policies (docs/keys.md, "Ratchet policy"): which steps are DH steps,
 * that a stolen state heals within the policy's bound (and not before: the
 * attacker model is checked to be strong enough), that no retired key buffer
 * survives a step, and that a pair state saved mid-chain continues exactly.
 *
 * The conversation is driven as the monitor drives it: per message, the
 * sender takes its send keys (`sendKeys` with the session's policy and its
 * clock) and counts the message (`countSent`); the receiver applies the key
 * update; the buffers each change retires go through a KeyVault as the
 * runtime's commit does (retire, bump — which throws while a key of the old
 * version is alive — then issue the new buffers).
 */
import test from "ava";
import { createNodeBackend } from "../../../interceptors/keys/crypto/index.js";
import { isAllZero } from "../../../interceptors/keys/crypto/bytes.js";
import {
  acceptUpdate,
  countSent,
  DEFAULT_RATCHET,
  directionKeys,
  EVERY_TURN,
  ratchetPolicyProblem,
  ratchetRoot,
  sendKeys,
  symmetricStep,
  type KeyUpdateBody,
  type PairContext,
  type PairState,
  type RatchetPolicy,
} from "../../../interceptors/keys/pair-channel.js";
import { KeyVault } from "../../../interceptors/keys/vault.js";
import { decodeState, encodeState, pairKeyBuffers, StateCodecError } from "../../../interceptors/store/state-codec.js";
import type { SessionState } from "../../../interceptors/monitor/state.js";
import { openPayload, sealPayload } from "../../../interceptors/wire/payload-crypto.js";
import { decodeEnvelope } from "../../../interceptors/wire/envelope-codec.js";
import { inlineSession, world } from "../../support/inline-session.js";
import { sessionCode } from "../../../interceptors/descriptor/code.js";
import { create, createFileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { compileFile } from "../../../plugin/compile.js";
import { formatDiagnostic } from "../../../plugin/language/diagnostic.js";
import { bufBuild } from "../../support/plugin-run.js";

const c = createNodeBackend();
const sid = c.randomBytes(32);
const alg = "chacha20-poly1305" as const;
const P = { id: "p", x25519: c.x25519KeyPair() };
const Q = { id: "q", x25519: c.x25519KeyPair() };
const ctxOf: Record<string, PairContext> = {
  p: { crypto: c, sid, self: P, peerId: "q", peerStatic: Q.x25519.publicKey },
  q: { crypto: c, sid, self: Q, peerId: "p", peerStatic: P.x25519.publicKey },
};
const other = (x: string) => (x === "p" ? "q" : "p");
const plaintext = new TextEncoder().encode("the same secret");

/** One message as the wire shows it (with the sender's MAC over a fixed string, to test forgery). */
interface Wire {
  readonly index: number;
  readonly from: string;
  readonly to: string;
  readonly version: number;
  readonly step: bigint;
  readonly update: (KeyUpdateBody & { version: number }) | undefined;
  readonly ciphertext: Uint8Array;
}

interface Run {
  readonly wire: Wire[];
  /** Each side's pair state right after message i (a deep copy: what an attacker who steals it then holds). */
  readonly after: Array<Record<string, PairState>>;
  /** The receiver's MAC key for message i (to check a forgery against). */
  readonly recvMac: Uint8Array[];
  /** Every buffer a change retired. */
  readonly retired: Uint8Array[];
  readonly vault: KeyVault;
  readonly states: Record<string, PairState | undefined>;
}

const copyPair = (s: PairState): PairState => decodePair(encodePair(s));

/** A role state holding one pair channel toward `peer`, for the state codec. */
function holder(peer: string, pair: PairState): SessionState {
  return {
    sessionId: sid,
    key: Buffer.from(sid).toString("hex"),
    role: "r",
    start: { nonce: new Uint8Array(32), code: new Uint8Array(32), timeMs: 1n, bindings: [] },
    principals: {},
    state: 0,
    step: 0n,
    h: new Uint8Array(32),
    history: [],
    lastActed: {},
    carried: {},
    carriedUpdates: {},
    pairs: { [peer]: pair },
    values: {},
    version: 0,
  };
}
const encodePair = (s: PairState) => encodeState(holder("x", s));
const decodePair = (b: Uint8Array) => decodeState(b).pairs["x"]!;

/**
 * Plays `turns`: each entry is [sender, number of messages]; the clock advances `msPerMessage` per message.
 * `restoreAt`: after that message, both sides' states are replaced by their encoded-then-decoded copies.
 */
function play(policy: RatchetPolicy, turns: ReadonlyArray<readonly [string, number]>, msPerMessage = 1_000, restoreAt?: number): Run {
  const states: Record<string, PairState | undefined> = { p: undefined, q: undefined };
  const vault = new KeyVault();
  const run: Run = { wire: [], after: [], recvMac: [], retired: [], vault, states };
  let now = 1_700_000_000_000;
  let index = 0;
  const commit = (who: string, change: { pair: PairState; retired: readonly Uint8Array[]; created: readonly Uint8Array[] }) => {
    const scope = `s:${who}`;
    for (const b of change.retired) vault.retireKey(scope, b);
    while (vault.version(scope) < change.pair.version) vault.bump(scope);
    for (const b of change.created) vault.issue(scope, b);
    run.retired.push(...change.retired);
  };
  for (const [from, n] of turns) {
    const to = other(from);
    for (let i = 0; i < n; i++) {
      now += msPerMessage;
      const change = sendKeys(ctxOf[from]!, states[from], policy, now);
      commit(from, change);
      states[from] = countSent(change.pair);
      const u = change.update;
      if (u !== undefined) {
        const accepted = acceptUpdate(ctxOf[to]!, states[to], u.version, u);
        commit(to, accepted);
        states[to] = accepted.pair;
      }
      const keys = states[from]!.send!;
      const step = BigInt(index + 1);
      const header = { sid, edge: 0, step, sender: from, receiver: to, keyVersion: keys.version };
      run.wire.push({ index, from, to, version: keys.version, step, update: u, ciphertext: sealPayload(c, alg, keys.enc, header, plaintext) });
      run.recvMac.push(states[to]!.recv!.mac.slice());
      if (index === restoreAt) {
        // As an import does: the old buffers are zeroed, the decoded state's are issued at its version.
        for (const who of ["p", "q"]) {
          const back = decodePair(encodePair(states[who]!));
          vault.close(`s:${who}`);
          while (vault.version(`s:${who}`) < back.version) vault.bump(`s:${who}`);
          for (const buf of pairKeyBuffers(back)) vault.issue(`s:${who}`, buf);
          states[who] = back;
        }
      }
      run.after.push({ p: copyPair(states["p"]!), q: copyPair(states["q"]!) });
      index++;
    }
  }
  return run;
}

const tryOpen = (m: Wire, enc: Uint8Array): boolean =>
  openPayload(c, alg, enc, { sid, edge: 0, step: m.step, sender: m.from, receiver: m.to, keyVersion: m.version }, m.ciphertext) !== undefined;

/**
 * The attacker: holds a copy of one side's whole pair state after message k, and the wire. It follows the root
 * through every step it can compute — symmetric steps from the root, DH steps with each private key it holds and each
 * public key it has seen — and
 * keeps the candidates whose keys open the message. Returns, per later message, whether it opened it and whether a
 * MAC it makes would verify at the receiver.
 */
function attack(run: Run, stolen: PairState, k: number): Array<{ opened: boolean; forged: boolean }> {
  const privs = [stolen.mine?.privateKey, P.x25519.privateKey, Q.x25519.privateKey].filter((x): x is Uint8Array => x !== undefined);
  // Every ratchet public key it has seen: in the stolen state and on the wire (DH(a, B) = DH(b, A): either private key will do).
  const pubs = [stolen.theirs, stolen.mine?.publicKey, ...run.wire.slice(0, k + 1).flatMap((m) => (m.update?.kind === "ratchet" ? [m.update.publicKey] : []))].filter((x): x is Uint8Array => x !== undefined);
  let roots = [stolen.root];
  const out: Array<{ opened: boolean; forged: boolean }> = [];
  for (const m of run.wire.slice(k + 1)) {
    const u = m.update;
    if (u?.kind === "symmetric") roots = roots.map((r) => symmetricStep(c, r, m.from, m.to, m.version).root);
    else if (u?.kind === "ratchet") {
      pubs.push(u.publicKey);
      roots = roots.flatMap((r) => privs.flatMap((priv) => pubs.map((pub) => ratchetRoot(c, r, c.x25519(priv, pub)))));
    }
    const keys = roots.map((r) => directionKeys(c, r, m.from, m.to, m.version));
    const opening = keys.filter((d) => tryOpen(m, d.enc));
    const data = new TextEncoder().encode(`forged ${m.index}`);
    const forged = keys.some((d) => Buffer.from(c.hmacSha256(d.mac, data)).equals(Buffer.from(c.hmacSha256(run.recvMac[m.index]!, data))));
    out.push({ opened: opening.length > 0, forged });
    // Roots whose keys do not open the message are not the channel's: drop them (the chain never comes back).
    roots = roots.filter((_, i) => tryOpen(m, keys[i]!.enc));
  }
  return out;
}

/** Index of the first message after k whose version the victim made by a DH step (-1: none). */
function victimDhAfter(run: Run, victim: string, k: number): number {
  return run.wire.findIndex((m) => m.index > k && m.from === victim && m.update?.kind === "ratchet");
}

/** Asserts the attacker reads and forges every message after k up to (not including) `heal`, and none from `heal` on. */
function assertHeals(t: import("ava").ExecutionContext, run: Run, victim: string, k: number, heal: number): void {
  t.true(heal > k, `a heal point after message ${k}`);
  const result = attack(run, run.after[k]![victim]!, k);
  result.forEach((r, i) => {
    const index = k + 1 + i;
    if (index < heal) {
      t.true(r.opened && r.forged, `message ${index} (before the heal at ${heal}) is open to the attacker`);
    } else {
      t.false(r.opened || r.forged, `message ${index} (from the heal at ${heal} on) is out of the attacker's reach`);
    }
  });
}

/** Messages the victim sent from its last DH step at or before k up to and including m. */
function sentSinceDh(run: Run, victim: string, upTo: number): number {
  let n = 0;
  for (let i = upTo; i >= 0; i--) {
    const m = run.wire[i]!;
    if (m.from !== victim) continue;
    n++;
    if (m.update?.kind === "ratchet" || m.update?.kind === "noise") return n;
  }
  return n;
}

// Turns: P first contact, then the token alternates; bursts of 3 messages a turn.
const turns = (count: number, burst = 3): Array<[string, number]> => Array.from({ length: count }, (_, i) => [i % 2 === 0 ? "p" : "q", burst]);

test("every turn: each turn is a DH step (today's behaviour), and a stolen state heals at the victim's next turn", (t) => {
  const run = play(EVERY_TURN, turns(8));
  const kinds = run.wire.filter((m) => m.update !== undefined).map((m) => m.update!.kind);
  t.deepEqual(kinds, ["noise", ...Array<string>(7).fill("ratchet")], "one update a turn, all of them DH steps");
  // Versions go up by one a turn.
  t.deepEqual([...new Set(run.wire.map((m) => m.version))], [1, 2, 3, 4, 5, 6, 7, 8]);
  for (const victim of ["p", "q"]) {
    // Stolen mid-turn 3 (messages 6..8 are P's third turn, 9..11 Q's ...).
    const k = victim === "p" ? 7 : 10;
    const heal = victimDhAfter(run, victim, k);
    // The victim's next turn after k is its DH step: 6 messages later at most (the peer's turn in between, 3 each).
    t.true(heal - k <= 6, `${victim} heals at its next turn`);
    assertHeals(t, run, victim, k, heal);
  }
});

test("every 5 messages: symmetric steps in between, the DH step at the victim's first turn once it sent 5, and the heal there", (t) => {
  const policy = { messages: 5, seconds: 0 };
  const run = play(policy, turns(14, 2), 1);
  const kinds = run.wire.filter((m) => m.update !== undefined).map((m) => `${m.from}:${m.update!.kind}`);
  t.true(kinds.includes("p:symmetric") && kinds.includes("q:symmetric"), "both sides make symmetric steps");
  // Each of a side's steps is a DH step exactly when it had sent 5 messages since its last one (its first reply always is).
  for (const m of run.wire) {
    if (m.update === undefined || m.update.kind === "noise") continue;
    const before = sentSinceDh(run, m.from, m.index - 1);
    const first = !run.wire.slice(0, m.index).some((x) => x.from === m.from);
    t.is(m.update.kind, first || before >= 5 ? "ratchet" : "symmetric", `message ${m.index} by ${m.from} after ${before} of its own`);
  }
  // Steal each side right after its own DH step (the worst case: the longest window), and right before the next one.
  for (const victim of ["p", "q"]) {
    const dhs = run.wire.filter((m) => m.from === victim && m.update?.kind === "ratchet").map((m) => m.index);
    t.true(dhs.length >= 2, `${victim} made at least two DH steps`);
    for (const k of [dhs[0]!, dhs[1]! - 1]) {
      const heal = victimDhAfter(run, victim, k);
      // The bound: the victim sends at most 5 messages (and finishes its turn: bursts of 2) before its next DH step.
      const victimMessages = run.wire.slice(k + 1, heal).filter((m) => m.from === victim).length;
      t.true(victimMessages <= 5 + 1, `${victim}: ${victimMessages} of its messages after the theft at ${k} before the heal`);
      assertHeals(t, run, victim, k, heal);
    }
  }
});

test("every 10 seconds: the DH step at the victim's first turn 10 s after its last one, and the heal there", (t) => {
  const policy = { messages: 0, seconds: 10 };
  const run = play(policy, turns(16, 2), 1_000);
  const kinds = run.wire.filter((m) => m.update !== undefined).map((m) => m.update!.kind);
  t.true(kinds.includes("symmetric"));
  for (const victim of ["p", "q"]) {
    const dhs = run.wire.filter((m) => m.from === victim && m.update?.kind === "ratchet").map((m) => m.index);
    t.true(dhs.length >= 2);
    // One message a second: at most 10 s plus one turn of the peer (2 messages) and the victim's own turn pass.
    t.true(dhs[1]! - dhs[0]! <= 10 + 4, `${victim}'s DH steps ${dhs[0]} and ${dhs[1]} are at most 10 s and a turn apart`);
    const k = dhs[0]!;
    assertHeals(t, run, victim, k, victimDhAfter(run, victim, k));
  }
});

test("the default (64 messages or 60 s): symmetric steps for a chatty minute, then the heal at the next DH step", (t) => {
  t.deepEqual(DEFAULT_RATCHET, { messages: 64, seconds: 60 });
  // 40 turns of 2 messages, 100 ms apart: the 64-message bound comes first.
  const run = play(DEFAULT_RATCHET, turns(80, 2), 100);
  const pDh = run.wire.filter((m) => m.from === "p" && m.update?.kind === "ratchet").map((m) => m.index);
  t.true(pDh.length >= 1);
  t.true(run.wire.filter((m) => m.update?.kind === "symmetric").length > 50, "most steps are symmetric");
  const k = 2; // stolen after P's first-contact turn
  const heal = victimDhAfter(run, "p", k);
  t.true(run.wire.slice(0, heal).filter((m) => m.from === "p").length >= 64, "P's first DH step after the theft comes once it sent 64");
  assertHeals(t, run, "p", k, heal);
});

test("no retired key survives: every retired buffer reads zero, the vault bumped every version, and old states hold only zeros", (t) => {
  for (const policy of [EVERY_TURN, { messages: 3, seconds: 0 }, { messages: 0, seconds: 2 }]) {
    // play() bumps the vault at every version: it throws if a key of the old version were still alive.
    const run = play(policy, turns(12, 2), 1_000);
    t.true(run.retired.length > 0);
    for (const b of run.retired) t.true(isAllZero(b), "a retired buffer reads all zeros");
    // The buffers of the live states are exactly those the vault still holds.
    for (const who of ["p", "q"]) {
      const live = pairKeyBuffers(run.states[who]!);
      const held = run.vault.alive(`s:${who}`).map((r) => r.key);
      t.is(held.length, live.length, `${who}: the vault holds the live state's keys only`);
      for (const b of live) t.true(held.includes(b));
    }
  }
});

test("save and restore mid-chain: counts and clock survive, the run continues with the same steps and keys", (t) => {
  const policy = { messages: 4, seconds: 0 };
  const plan = turns(12, 2);
  const plain = play(policy, plan, 1_000);
  const restored = play(policy, plan, 1_000, 9);
  t.deepEqual(
    restored.wire.map((m) => `${m.index}:${m.version}:${m.update?.kind ?? "-"}`),
    plain.wire.map((m) => `${m.index}:${m.version}:${m.update?.kind ?? "-"}`),
    "the same steps at the same messages",
  );
  const mid = restored.after[9]!;
  t.true(mid["p"]!.sent > 0 || mid["q"]!.sent > 0, "the restore happened mid-chain, with messages counted");
  t.true(mid["p"]!.dhAtMs > 0);
  // Both sides still agree on every key after the restore.
  for (const m of restored.wire.slice(10)) {
    const q = restored.after[m.index]![m.to]!;
    t.true(tryOpen(m, q.recv!.enc), `message ${m.index} opens with the receiver's restored keys`);
  }
});

test("states of formats 1 and 2 (the earlier key schedule) are refused, saying why; format 3 is read", (t) => {
  const run = play({ messages: 64, seconds: 0 }, turns(3, 1));
  const q = run.after.at(-1)!["q"]!;
  const v3 = encodePair(q);
  t.is(v3[4], 3, "this build writes format 3");
  t.deepEqual(decodePair(v3).root, q.root);
  // Format 2 had the same layout; format 1 had no `sent` and `dhAtMs` (u32 ‖ u64 at the end of the pair, before `values` and `version`).
  const v2 = Uint8Array.from([...v3.subarray(0, 4), 2, ...v3.subarray(5)]);
  const v1 = Uint8Array.from([...v3.subarray(0, 4), 1, ...v3.subarray(5, v3.length - 24), ...v3.subarray(v3.length - 12)]);
  for (const [format, bytes] of [[2, v2], [1, v1]] as const) {
    t.throws(() => decodePair(bytes), { instanceOf: StateCodecError, message: new RegExp(`format version ${format} was written under the earlier key schedule .*finish the session with the build that saved it`) });
  }
});

test("a symmetric step is authenticated: a wrong tag or version is refused, the genuine one agrees", (t) => {
  const policy = { messages: 64, seconds: 0 };
  const run = play(policy, [["p", 1], ["q", 1], ["p", 1]]);
  t.is(run.wire[1]!.update?.kind, "ratchet", "Q's first reply is a DH step: it never contributed a ratchet key");
  const u = run.wire[2]!.update!;
  t.is(u.kind, "symmetric");
  t.is(u.version, 3);
  const q = run.after[1]!["q"]!; // Q before P's symmetric step
  const tag = (u as { tag: Uint8Array }).tag;
  const bad = tag.slice();
  bad[0]! ^= 1;
  t.throws(() => acceptUpdate(ctxOf["q"]!, copyPair(q), 3, { kind: "symmetric", tag: bad }), { message: /symmetric step 3 from p does not verify/ });
  t.throws(() => acceptUpdate(ctxOf["q"]!, copyPair(q), 4, u), { message: /version 4/ });
  // Sent as if from Q's side (the other direction), the tag does not verify either.
  t.throws(() => acceptUpdate(ctxOf["p"]!, copyPair(run.after[1]!["p"]!), 3, u), { message: /does not verify/ });
  const ok = acceptUpdate(ctxOf["q"]!, copyPair(q), 3, u);
  t.deepEqual(ok.pair.recv!.enc, run.after[2]!["p"]!.send!.enc);
  t.deepEqual(ok.pair.mine!.privateKey, q.mine!.privateKey, "Q keeps its ratchet key (in a new buffer)");
});

test("policies are checked: a bound is needed, and whole numbers", (t) => {
  t.is(ratchetPolicyProblem(EVERY_TURN), undefined);
  t.is(ratchetPolicyProblem(DEFAULT_RATCHET), undefined);
  t.regex(ratchetPolicyProblem({ messages: 0, seconds: 0 })!, /needs a bound/);
  t.regex(ratchetPolicyProblem({ messages: 1.5, seconds: 0 })!, /whole number/);
  t.regex(ratchetPolicyProblem({ messages: 1, seconds: -1 })!, /whole number/);
});

// ---- the session option, through the plugin and a running session ----

const rates = (ratchet: string, keys = "") => `
syntax = "proto3";
package rates;
import "google/protobuf/empty.proto";
import "secsession/v1/options.proto";
option (secsession.v1.session) = {
  name: "Rates"
  roles: [ { name: "c" }, { name: "b" service: "Bank" } ]
  protocol: "rec L { choice at c { c => b.Rate; continue L; } or { c -> b.Bye; } }"
  ${ratchet}
  ${keys}
};
service Bank { rpc Rate(Msg) returns (Msg); rpc Bye(Msg) returns (google.protobuf.Empty); }
message Msg { string text = 1; }
`;

/** The plugin's diagnostics for a .proto source, one a line. */
function diagnostics(proto: string): string {
  const built = bufBuild({ "inline/r.proto": proto });
  const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: built.files }));
  const res = compileFile(registry.getFile("inline/r.proto")!, (n) => registry.getService(n), () => undefined);
  return res.diagnostics.map(formatDiagnostic).join("\n");
}

test("the session option compiles into the descriptor; undeclared, the descriptor leaves it out (same session code)", (t) => {
  t.deepEqual(inlineSession(rates("ratchet: { messages: 3 }")).descriptor.ratchet, { messages: 3, seconds: 0 });
  t.deepEqual(inlineSession(rates("ratchet: { messages: 100 seconds: 30 }")).descriptor.ratchet, { messages: 100, seconds: 30 });
  t.deepEqual(inlineSession(rates("ratchet: { every_turn: true }")).descriptor.ratchet, EVERY_TURN);
  const plain = inlineSession(rates("")).descriptor;
  t.false("ratchet" in plain);
  t.not(plain.code, inlineSession(rates("ratchet: { seconds: 60 }")).descriptor.code, "a declared policy is part of the session code");
  // An empty policy is no policy (proto3 writes no field of it): the default.
  t.false("ratchet" in inlineSession(rates("ratchet: { messages: 0 }")).descriptor);
  // A descriptor without a bound is refused by the runtime, whatever produced it.
  const { code: _code, ...rest } = plain;
  const unbounded = { ...rest, ratchet: { messages: 0, seconds: 0 } };
  const w = world({ ...inlineSession(rates("")), descriptor: { ...unbounded, code: sessionCode(unbounded) } }, ["carol"]);
  t.throws(() => w.party("carol", "c"), { message: /needs a bound/ });
  t.regex(diagnostics(rates("ratchet: { every_turn: true messages: 4 }")), /ratchet every_turn already steps at every turn/);
  t.regex(diagnostics(rates("ratchet: { messages: 4 }", "security: { key_establishment: KEY_ESTABLISHMENT_STATIC }")), /a ratchet policy applies to pair channels only/);
  t.is(diagnostics(rates("ratchet: { messages: 4 }")), "");
});

test("a running session follows its policy: DH steps every 4 messages of a side, symmetric ones between, all accepted", async (t) => {
  const count = async (ratchet: string) => {
    const w = world(inlineSession(rates(ratchet)), ["carol", "bank"]);
    const sid = (await w.party("carol", "c").start({ c: "carol", b: "bank" })).key;
    const [rate, answer] = [w.edge("Rate", "request"), w.edge("Rate", "response")];
    const kinds: string[] = [];
    const note = (bytes: Uint8Array) => kinds.push(...decodeEnvelope(bytes).keyUpdates.map((u) => `${u.from}:${u.body.case}`));
    for (let i = 0; i < 12; i++) {
      const req = await w.wrap("carol", sid, rate, { text: `q${i}` });
      note(req);
      await w.unwrap("bank", rate, req, "carol");
      const res = await w.wrap("bank", sid, answer, { text: `a${i}` });
      note(res);
      t.is(((await w.unwrap("carol", answer, res, "bank", sid)).message as unknown as { text: string }).text, `a${i}`);
    }
    return kinds;
  };
  const every = await count("ratchet: { every_turn: true }");
  t.deepEqual(every, ["carol:noise", ...Array<string>(23).fill("").map((_, i) => `${i % 2 === 0 ? "bank" : "carol"}:ratchet`)]);
  const four = await count("ratchet: { messages: 4 }");
  t.is(four.length, 24, "one step a turn");
  // Each side: its first reply (bank) or its first contact (carol), then a DH step at every 4th of its own messages' turn.
  const side = (who: string) => four.filter((k) => k.startsWith(`${who}:`)).map((k) => k.split(":")[1]);
  t.deepEqual(side("bank"), ["ratchet", "symmetric", "symmetric", "symmetric", "ratchet", "symmetric", "symmetric", "symmetric", "ratchet", "symmetric", "symmetric", "symmetric"]);
  t.deepEqual(side("carol"), ["noise", "symmetric", "symmetric", "symmetric", "ratchet", "symmetric", "symmetric", "symmetric", "ratchet", "symmetric", "symmetric", "symmetric"]);
});
