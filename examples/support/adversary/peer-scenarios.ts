/**
 * Scenarios of compromised peers: the attacker holds the keys (and the
 * memory) of a principal the session binds, alone or with others, or of an
 * outsider the resolver knows; it runs our library and seals what the honest
 * code would never send. Each forged message is injected while the genuine
 * one is held, so the honest session goes on afterwards.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { EdgeDescriptor } from "../../../interceptors/descriptor/types.js";
import { initialState } from "../../../interceptors/monitor/state.js";
import { attestationInput, sessionIdOf } from "../../../interceptors/wire/transcript.js";
import { concat, type RoleBinding } from "../../../interceptors/wire/encoding.js";
import { forge, lieAbout, pretend } from "./forge.js";
import { at, authenticated, messageName, firstHop, grpcStatus, injectable, label, plausiblePayload, schemaOf, stateBefore, type Attacker, type Expectation, type Plan, type Planning, type Scenario } from "./kit.js";
import { rewrite } from "./mitm.js";
import { OUTSIDER, type Hop, type Rig } from "./rig.js";

const UNAUTHENTICATED: Expectation = { kind: "bad-attestation", status: grpcStatus.UNAUTHENTICATED };

/** What the compromised sender of `hop` could send instead: the plaintext it sent (or, encrypted, a plausible one). */
const payloadOf = (rig: Rig, hop: Hop) => (hop.edge.security.privacy === "none" ? hop.env.payload : plausiblePayload(rig, hop.edge));


/** The bindings an edge must carry, to the principals of the honest session. */
const bindingsOf = (rig: Rig, e: EdgeDescriptor): RoleBinding[] => e.binds.map((b) => ({ role: b.role, principal: rig.spec.bindings[b.role]! }));

/** The state the sender of `hop` held just before sealing it. */
const senderBefore = (a: Attacker, hop: Hop) => stateBefore(a.rig, hop.from, hop.edge.sender, hop.sid, hop.env.step);

/** A payload that differs from any the honest run sent (an unknown field appended). */
const madeUp = (rig: Rig, e: EdgeDescriptor) => concat(plausiblePayload(rig, e), new Uint8Array([0xfa, 0x07, 4, 0x6c, 0x69, 0x65, 0x21]));

/** Injects the forgery `make` builds at message `hop` (a call or a response, held meanwhile). */
function forgeAt(p: Planning, hop: Hop, expect: Expectation, what: string, make: (a: Attacker, h: Hop) => { to: string; path: string; bytes: Uint8Array; expect?: Expectation }): Plan {
  const act = async (a: Attacker, h: Hop) => {
    const m = make(a, h);
    await a.inject(m.to, m.path, m.bytes, what, m.expect);
  };
  return {
    target: label(hop, p.hops),
    expect,
    after: "completes",
    interceptor: (a) => at(hop.index, { call: (h) => act(a, h), response: async (h) => (await act(a, h), h.bytes) }),
  };
}

/**
 * From global state `from`, the shortest path of made-up messages after
 * which `x` sends an edge to some `v`, such that the made-up part involves no
 * `v` and contains a message of an honest role `h` ∉ {x, v} that `v` must
 * see attested.
 */
function skippedTurn(p: Planning, from: number, x: string): { made: EdgeDescriptor[]; e: EdgeDescriptor; h: string } | undefined {
  const edges = p.rig.spec.descriptor.edges;
  let frontier: EdgeDescriptor[][] = edges.filter((e) => e.from === from).map((e) => [e]);
  for (let depth = 1; depth <= 6 && frontier.length > 0; depth++) {
    for (const made of frontier) {
      const s = made.at(-1)!.to;
      for (const e of edges.filter((y) => y.from === s && y.sender === x && y.receiver !== x && injectable(y) && authenticated(y) && y.security.history !== "none")) {
        if (made.some((m) => m.sender === e.receiver || m.receiver === e.receiver)) continue;
        const h = made.find((m) => m.sender !== x && authenticated(m))?.sender;
        if (h !== undefined) return { made, e, h };
      }
    }
    frontier = frontier.flatMap((made) => edges.filter((y) => y.from === made.at(-1)!.to).map((y) => [...made, y])).slice(0, 5_000);
  }
  return undefined;
}

/** A payload of `hop`'s edge that breaks its value constraint, or undefined. */
function violation(rig: Rig, hop: Hop): { payload: Uint8Array; bindings: RoleBinding[]; what: string } | undefined {
  const e = hop.edge;
  const schema = schemaOf(rig, e);
  const genuine = e.security.privacy === "none" ? fromBinary(schema, hop.env.payload) : create(schema);
  const set = (number: number, change: (v: unknown) => unknown) => {
    const f = schema.fields.find((x) => x.number === number)!;
    const m = genuine as unknown as Record<string, unknown>;
    m[f.localName] = change(m[f.localName]);
    return toBinary(schema, genuine);
  };
  if (e.opens !== null) return { payload: madeUp(rig, e), bindings: bindingsOf(rig, e), what: "a message that does not open the earlier commitment" };
  const where = e.where[0];
  if (where !== undefined) {
    const payload = set(where.field.number, (v) => (typeof v === "string" ? `${v} (changed)` : typeof v === "bigint" ? v + 1n : typeof v === "number" ? v + 1 : v === true ? false : true));
    return { payload, bindings: bindingsOf(rig, e), what: `${where.field.name} differs from the earlier ${where.equals.field.name}` };
  }
  const bound = e.binds.find((b) => b.field !== null);
  if (bound !== undefined) return { payload: set(bound.field!.number, () => OUTSIDER), bindings: bindingsOf(rig, e), what: `${bound.field!.name} names ${OUTSIDER}, the envelope binds ${bound.role} to ${rig.spec.bindings[bound.role]}` };
  if (e.case !== null) return { payload: toBinary(schema, create(schema)), bindings: [], what: `the ${e.case.field.name} branch without its case` };
  return undefined;
}

const hasConstraint = (e: EdgeDescriptor) => e.opens !== null || e.where.length > 0 || e.binds.some((b) => b.field !== null);

/**
 * Replaces the coalition's carried attestations in the lied-about state by
 * ones over its transcript, made with their keys, so that the relay then
 * seals (and MACs) its envelope with them.
 */
function reattest(a: Attacker, lie: ReturnType<typeof lieAbout>, coalition: readonly string[]): ReturnType<typeof lieAbout> {
  const rig = a.rig;
  const crypto = rig.peers[rig.principalOf(coalition[0]!)]!.runtime.core.crypto;
  const carried = Object.fromEntries(
    Object.entries(lie.carried).map(([k, x]) => {
      if (!coalition.includes(x.role)) return [k, x];
      const item = lie.history.find((i) => i.step === x.step);
      if (item === undefined) return [k, x];
      const member = rig.principalOf(x.role);
      const input = attestationInput(lie.sessionId, x.role, x.target, x.step, item.h);
      if (x.target === "") return [k, { ...x, tag: crypto.ed25519Sign(rig.peers[member]!.identity.ed25519.privateKey, input) }];
      const sent = rig.peers[member]!.store.history(rig.key(x.role, lie.key)).find((s) => s.step === x.step);
      const keys = sent?.pairs[rig.principalOf(x.target)]?.send;
      if (keys === undefined || keys.version !== x.keyVersion) throw new Error(`adversary: no key of ${x.role} for ${x.target} at version ${x.keyVersion}`);
      return [k, { ...x, tag: crypto.hmacSha256(keys.mac, input) }];
    }),
  );
  return { ...lie, carried };
}

/** The message a relay could lie about: one it forwards to `v` carrying an honest `h`'s earlier message. */
function relayTarget(p: Planning, coalition: boolean): { hop: Hop; h: string; step: bigint } | undefined {
  const roles = p.rig.spec.descriptor.roles.map((r) => r.name);
  for (const hop of p.hops.filter((x) => x.session === 0 && injectable(x.edge) && authenticated(x.edge) && x.edge.security.history !== "none")) {
    const x = hop.edge.sender;
    const v = hop.edge.receiver;
    for (const item of hop.env.history) {
      const e = p.rig.spec.descriptor.edges[item.edge]!;
      const h = e.sender;
      if (h === x || h === v || !authenticated(e)) continue;
      if (coalition) {
        const members = roles.filter((r) => r !== h && r !== v && r !== x);
        if (!hop.env.attestations.some((att) => members.includes(att.role))) continue;
      }
      return { hop, h, step: item.step };
    }
  }
  return undefined;
}

export const PEER_SCENARIOS: readonly Scenario[] = [
  {
    id: "skip-honest-turn",
    title: "a compromised role claims an honest role's turn happened (seed: Confirm without Accept)",
    attacker: "compromised peer",
    explanation:
      "A compromised role makes up the messages that would let it send its next message — among them one an honest role never sent — and sends it with the made-up history, as the s2ml paper's compromised w confirms to o without c's Accept. The receiver needs the honest role's attestation over that history.",
    defence: "attestations: every role that sent in the unseen segment attests it (signed history with visibility, check 14)",
    plan(p) {
      for (const hop of p.hops.filter((h) => h.session === 0)) {
        const found = skippedTurn(p, hop.edge.from, hop.edge.sender);
        if (found === undefined) continue;
        const { made, e, h } = found;
        const names = made.map(messageName).join(", ");
        return forgeAt(p, hop, { ...UNAUTHENTICATED, about: `attestation of ${h} for step` }, `${e.sender} claims ${names} happened (${h} never sent its part) and sends ${messageName(e)}`, (a, held) => {
          const party = a.rig.party(held.from, e.sender);
          const lie = pretend(party, senderBefore(a, held), made, a.rig.spec.bindings);
          return { to: a.rig.principalOf(e.receiver), path: e.rpc, bytes: forge(party, lie, e, plausiblePayload(a.rig, e), bindingsOf(a.rig, e)) };
        });
      }
      return { na: "no role can reach a message of its own through an honest role's turn that its receiver does not take part in" };
    },
  },
  {
    id: "out-of-turn",
    title: "a compromised role sends a message the protocol allows it only elsewhere",
    attacker: "compromised peer",
    explanation: "Instead of its next message, a compromised role seals (with its own keys, over the true history) one of its messages that does not leave the current state.",
    defence: "path: the edge must leave the state the history reaches (check 10); sent to another receiver, the envelope MAC over that receiver's transcript (check 9) may refuse it first",
    plan(p) {
      const edges = p.rig.spec.descriptor.edges;
      for (const hop of p.hops.filter((h) => h.session === 0)) {
        const candidates = edges.filter((e) => e.sender === hop.edge.sender && injectable(e) && authenticated(e) && e.from !== hop.edge.from);
        const e = candidates.find((c) => c.receiver === hop.edge.receiver) ?? candidates[0];
        if (e === undefined) continue;
        // To another receiver, whose transcript and keys are not the ones the sender sealed for, the envelope MAC (or
        // the key update it needs) may refuse it before the path does.
        const outOfOrder = { kind: "out-of-order" as const, status: grpcStatus.PERMISSION_DENIED };
        const expect = e.receiver === hop.edge.receiver || !p.rig.plan.pairwise ? outOfOrder : { ...outOfOrder, or: [UNAUTHENTICATED, { kind: "bad-key-update" as const, status: grpcStatus.UNAUTHENTICATED }] };
        return forgeAt(p, hop, expect, `${e.sender} sends ${messageName(e)} instead of ${messageName(hop.edge)}`, (a, held) => {
          const party = a.rig.party(held.from, e.sender);
          return { to: a.rig.principalOf(e.receiver), path: e.rpc, bytes: forge(party, senderBefore(a, held), e, plausiblePayload(a.rig, e), bindingsOf(a.rig, e)) };
        });
      }
      return { na: "no role sends a message that could be out of turn (each sends one kind of message, from one state)" };
    },
  },
  {
    id: "impersonate-role",
    title: "a compromised role sends as another role",
    attacker: "compromised peer",
    explanation: "A compromised third role seals the next message in the name of the role that should send it, with its own keys, over the public history.",
    defence: "attestations: the MAC is checked under the claimed role's principal's key (check 14)",
    plan(p) {
      const roles = p.rig.spec.descriptor.roles.map((r) => r.name);
      const hop = firstHop(p.hops, (h) => injectable(h.edge) && authenticated(h.edge) && roles.some((r) => r !== h.edge.sender && r !== h.edge.receiver));
      if (hop === undefined) return { na: "two roles: no third role to impersonate from" };
      const x = roles.find((r) => r !== hop.edge.sender && r !== hop.edge.receiver)!;
      return forgeAt(p, hop, { ...UNAUTHENTICATED, about: `from ${hop.edge.sender} (${hop.from})` }, `${x} sends ${messageName(hop.edge)} as ${hop.edge.sender}`, (a, held) => {
        const impostor = a.rig.principalOf(x);
        const own = a.rig.state(impostor, x, held.sid)?.pairs ?? {};
        const st = { ...senderBefore(a, held), pairs: own, carriedUpdates: {} };
        return { to: held.to, path: held.path, bytes: forge(a.rig.party(impostor, x), st, held.edge, madeUp(a.rig, held.edge), held.env.bindings) };
      });
    },
  },
  {
    id: "outsider-as-role",
    title: "an outsider with valid keys joins as a role",
    attacker: "outsider",
    explanation: `A principal the session does not bind (${OUTSIDER}, known to every resolver) seals a role's message with its own keys, taking part in the key agreement as itself.`,
    defence: "attestations under the bound principal's key (check 14)",
    plan(p) {
      const hop = firstHop(p.hops, (h) => injectable(h.edge) && authenticated(h.edge));
      if (hop === undefined) return { na: "no authenticated message" };
      return forgeAt(p, hop, { ...UNAUTHENTICATED, about: `from ${hop.edge.sender} (${hop.from})` }, `${OUTSIDER} sends ${messageName(hop.edge)} as ${hop.edge.sender}`, (a, held) => {
        const st = { ...senderBefore(a, held), pairs: {}, carriedUpdates: {} };
        return { to: held.to, path: held.path, bytes: forge(a.rig.party(OUTSIDER, held.edge.sender), st, held.edge, madeUp(a.rig, held.edge), held.env.bindings) };
      });
    },
  },
  {
    id: "relay-lie",
    title: "a compromised relay forges an honest role's earlier message",
    attacker: "compromised peer",
    explanation: "A compromised role forwards the session to the next role but lies about what an earlier honest role sent (its payload hash in the history), recomputing the transcript.",
    defence: "attestations: the honest role's MAC covers the true transcript (signed history, check 14)",
    plan(p) {
      const t = relayTarget(p, false);
      if (t === undefined) return { na: "no role passes on another honest role's message (two roles, or no history)" };
      return forgeAt(p, t.hop, { ...UNAUTHENTICATED, about: ` of ${t.h} for step` }, `${t.hop.edge.sender} lies to ${t.hop.edge.receiver} about ${t.h}'s message at step ${t.step}`, (a, held) => {
        const party = a.rig.party(held.from, held.edge.sender);
        const e = a.rig.spec.descriptor.edges[held.env.history.find((i) => i.step === t.step)!.edge]!;
        const lie = lieAbout(party, senderBefore(a, held), t.step, madeUp(a.rig, e));
        return { to: held.to, path: held.path, bytes: forge(party, lie, held.edge, payloadOf(a.rig, held), held.env.bindings) };
      });
    },
  },
  {
    id: "coalition-lie",
    title: "a coalition of every other role forges an honest role's earlier message",
    attacker: "coalition",
    explanation:
      "Every role but one honest sender and the victim is compromised: the relay lies about the honest role's message, and the other members re-attest the lied-about transcript with their own keys, so that only the honest role's attestation can fail.",
    defence: "attestations: the honest role's MAC (signed history, check 14)",
    plan(p) {
      const t = relayTarget(p, true);
      if (t === undefined) return { na: "fewer than four roles, or no message carries another member's attestation with an honest role's message" };
      const roles = p.rig.spec.descriptor.roles.map((r) => r.name);
      const coalition = roles.filter((r) => r !== t.h && r !== t.hop.edge.receiver);
      return forgeAt(p, t.hop, { ...UNAUTHENTICATED, about: ` of ${t.h} for step` }, `coalition {${coalition.join(", ")}} lies to ${t.hop.edge.receiver} about ${t.h}'s message at step ${t.step}`, (a, held) => {
        const party = a.rig.party(held.from, held.edge.sender);
        const e = a.rig.spec.descriptor.edges[held.env.history.find((i) => i.step === t.step)!.edge]!;
        const lie = lieAbout(party, senderBefore(a, held), t.step, madeUp(a.rig, e));
        const bytes = forge(party, reattest(a, lie, coalition), held.edge, payloadOf(a.rig, held), held.env.bindings);
        return { to: held.to, path: held.path, bytes };
      });
    },
  },
  {
    id: "value-violation",
    title: "a compromised sender breaks a value constraint",
    attacker: "compromised peer",
    explanation:
      "A compromised sender seals, with its own keys over the true history, a message whose values the protocol constrains otherwise: a Reveal that does not open its commitment, a follow-up about another query than the request's (`where`), a bound principal's field naming someone else, a response branch without its case.",
    defence: "values (check 16)",
    plan(p) {
      const hop = firstHop(p.hops, (h) => injectable(h.edge) && hasConstraint(h.edge)) ?? firstHop(p.hops, (h) => h.edge.kind === "response" && h.edge.case !== null);
      if (hop === undefined) return { na: "the protocol constrains no value (no where, opens, bound field or response branch)" };
      const expect: Expectation = { kind: "value", status: grpcStatus.PERMISSION_DENIED };
      const sealed = (a: Attacker, held: Hop) => {
        const v = violation(a.rig, held)!;
        return { v, bytes: forge(a.rig.party(held.from, held.edge.sender), senderBefore(a, held), held.edge, v.payload, v.bindings) };
      };
      if (injectable(hop.edge)) {
        return forgeAt(p, hop, expect, violation(p.rig, hop)!.what, (a, held) => ({ to: held.to, path: held.path, bytes: sealed(a, held).bytes }));
      }
      return {
        target: label(hop, p.hops),
        expect,
        after: "fresh",
        interceptor: (a) => at(hop.index, { response: (h) => a.substitute(h, sealed(a, h).bytes, violation(a.rig, h)!.what) }),
      };
    },
  },
  {
    id: "downgrade-code",
    title: "a compromised initiator starts a session under another session code",
    attacker: "compromised peer",
    explanation:
      "The initiator's principal is compromised: it starts a session whose start names another session code (another protocol, or a weaker configuration of this one), with a consistent session id and its own valid keys.",
    defence: "session code (check 5)",
    plan(p) {
      const hop = firstHop(p.hops, (h) => h.index === 0 && injectable(h.edge));
      if (hop === undefined) return { na: "the session starts with no message" };
      return forgeAt(p, hop, { kind: "wrong-session-code", status: grpcStatus.PERMISSION_DENIED }, "a start under another session code", (a, held) => {
        const party = a.rig.party(held.from, held.edge.sender);
        return { to: held.to, path: held.path, bytes: forge(party, startWith(party, held, new Uint8Array(32).fill(0x5c)), held.edge, payloadOf(a.rig, held), held.env.bindings) };
      });
    },
  },
  {
    id: "outsider-starts-as",
    title: "an outsider starts a session in the initiator's name",
    attacker: "outsider",
    explanation: `${OUTSIDER} starts a session whose start binds the initiating role to the honest initiator's principal, and seals the first message with its own keys.`,
    defence: "attestations under the bound principal's key (check 14)",
    plan(p) {
      const hop = firstHop(p.hops, (h) => h.index === 0 && injectable(h.edge) && authenticated(h.edge));
      if (hop === undefined) return { na: "the session starts with no authenticated message" };
      return forgeAt(p, hop, UNAUTHENTICATED, `a start binding ${hop.edge.sender} to ${hop.from}, sealed by ${OUTSIDER}`, (a, held) => {
        const party = a.rig.party(OUTSIDER, held.edge.sender);
        return { to: held.to, path: held.path, bytes: forge(party, startWith(party, held, a.rig.party(held.from, held.edge.sender).plan.code), held.edge, madeUp(a.rig, held.edge), held.env.bindings) };
      });
    },
  },
];

/** A fresh session start like `held`'s (same bindings) under `code`, as the initial state of its sender. */
function startWith(party: ReturnType<Rig["party"]>, held: Hop, code: Uint8Array) {
  const s = held.env.start!;
  const start = { nonce: party.core.crypto.randomBytes(32), code, timeMs: BigInt(Date.now()), bindings: s.bindings.map((b) => ({ role: b.role, principal: b.principal })) };
  const sid = sessionIdOf(party.core.crypto, start);
  return initialState(party.core.crypto, sid, held.edge.sender, start, party.descriptor.initial);
}


