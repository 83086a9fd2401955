/**
 * Network scenarios in space: the attacker rewrites any envelope field or
 * payload byte, strips MACs, signatures or encryption (downgrades), rebinds
 * roles, redirects, misroutes and injects messages, and sends truncated,
 * oversized or garbage envelopes.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { HistoryEntrySchema } from "../../../gen/secsession/v1/envelope_pb.js";
import type { EdgeDescriptor } from "../../../interceptors/descriptor/types.js";
import { MAX_SEGMENT } from "../../../interceptors/monitor/open.js";
import { MAX_ENVELOPE_BYTES } from "../../../interceptors/runtime/party.js";
import { sessionIdOf } from "../../../interceptors/wire/transcript.js";
import { denied, injectAt, invalid, protectedCall, rewriteField, startHop, unauthenticated } from "./network-kit.js";
import { at, authenticated, cryptoRefusal, firstHop, grpcStatus, injectable, label, messageName, plausiblePayload, type Planning, type Scenario } from "./kit.js";
import { rewrite, tryDecode } from "./mitm.js";
import type { Hop } from "./rig.js";

/** A choice of the same sender to the same receiver from the same state, other than `e`. */
function sibling(p: Planning, e: EdgeDescriptor): EdgeDescriptor | undefined {
  return p.rig.spec.descriptor.edges.find(
    (x) => x.id !== e.id && x.from === e.from && x.sender === e.sender && x.receiver === e.receiver && (x.kind === "response") === (e.kind === "response") && authenticated(x),
  );
}

/** Field number of `history` in the Envelope message. */
const HISTORY_FIELD = 6;

export const TAMPER_SCENARIOS: readonly Scenario[] = [
  {
    id: "rewrite-choice",
    title: "rewrite a message into the other choice (seed: Offer into Reject)",
    attacker: "network",
    explanation:
      "Where a role chooses between messages to the same peer, the network turns the one it sent into the other (edge id and payload rewritten), as the s2ml paper turns w's Offer into a Reject. The edge and payload are in the transcript the sender's MAC covers.",
    defence: "the envelope MAC over the bytes, and the attestations over the transcript (checks 9 and 14)",
    plan(p) {
      const calls = firstHop(p.hops, (h) => protectedCall(h) && sibling(p, h.edge) !== undefined);
      const hop = calls ?? firstHop(p.hops, (h) => h.edge.kind === "response" && authenticated(h.edge) && sibling(p, h.edge) !== undefined);
      if (hop === undefined) return { na: "no role chooses between two authenticated messages to the same peer" };
      const other = sibling(p, hop.edge)!;
      const forged = (h: Hop) =>
        rewrite(h.bytes, (e) => {
          e.edge = other.id;
          e.payload = plausiblePayload(p.rig, other);
        });
      const what = `${messageName(hop.edge)} rewritten into ${messageName(other)}`;
      if (calls !== undefined) return injectAt(p, hop, unauthenticated(), what, (h) => ({ bytes: forged(h), path: other.rpc }));
      return { target: label(hop, p.hops), expect: unauthenticated(), after: "fresh", interceptor: (a) => at(hop.index, { response: (h) => a.substitute(h, forged(h), what) }) };
    },
  },
  {
    id: "rewrite-payload",
    title: "flip a byte of a payload",
    attacker: "network",
    explanation: "The network changes one byte of a message's payload (or appends one to an empty payload).",
    defence: "the envelope MAC over the bytes, and the attestations over the transcript, which covers the payload's hash (checks 9 and 14)",
    plan: (p) =>
      rewriteField(p, unauthenticated(), "a payload byte changed", () => true, (e) => {
        e.payload = e.payload.length === 0 ? new Uint8Array([0x08, 0x01]) : e.payload.map((b, i) => (i === 0 ? b ^ 0x01 : b));
      }, "no authenticated message"),
  },
  {
    id: "rewrite-step",
    title: "rewrite a message's step",
    attacker: "network",
    explanation: "The network moves a message one step ahead (as if a message had been lost before it).",
    defence: "step counter (steps continue exactly, check 6)",
    plan: (p) => rewriteField(p, denied("out-of-order"), "step + 1", () => true, (e) => void (e.step += 1n), "no message is protected against replays"),
  },
  {
    id: "rewrite-history",
    title: "rewrite an earlier message in a carried history",
    attacker: "network",
    explanation: "A message carries the messages its receiver has not seen; the network changes the payload hash of one of them.",
    defence: "the envelope MAC, and the attestations over the transcript the history extends (checks 9 and 14)",
    plan: (p) =>
      rewriteField(p, unauthenticated(), "a history item's payload hash changed", (h) => h.env.history.length > 0, (e) => {
        e.history[0]!.payloadHash = e.history[0]!.payloadHash.map((b, i) => (i === 0 ? b ^ 0x01 : b));
      }, "no message carries history (every receiver acts at every step)"),
  },
  {
    id: "reorder-history",
    title: "reorder the messages of a carried history",
    attacker: "network",
    explanation: "The network swaps two messages of the history an envelope carries, claiming they happened in the other order.",
    defence: "the envelope MAC over every byte (check 9) on an authenticated direction; else the history steps and the path (check 10)",
    plan: (p) =>
      rewriteField(p, (h) => (authenticated(h.edge) && p.rig.plan.pairwise ? unauthenticated() : denied("out-of-order")), "two history items swapped", (h) => h.env.history.length >= 2, (e) => {
        e.history = [e.history[1]!, e.history[0]!, ...e.history.slice(2)];
      }, "no message carries two or more unseen messages"),
  },
  {
    id: "truncate-history",
    title: "cut the history a message carries",
    attacker: "network",
    explanation: "The network removes the messages an envelope carries for its receiver, hiding what happened since it last acted.",
    defence: "step counter (step = last + unseen + 1, check 6)",
    plan: (p) =>
      rewriteField(p, denied("out-of-order"), "history removed", (h) => h.env.history.length > 0, (e) => void (e.history = []), "no message carries history (every receiver acts at every step)"),
  },
  {
    id: "strip-attestations",
    title: "strip every MAC and signature (downgrade to no authenticity)",
    attacker: "network",
    explanation: "The network removes the envelope MAC and the attestations of a message, as if its direction were configured without authenticity.",
    defence: "the envelope MAC and attestations are required by the receiver's descriptor, not by the envelope (checks 9 and 14)",
    plan: (p) =>
      rewriteField(p, unauthenticated(), "envelope MAC and attestations removed", () => true, (e) => {
        e.attestations = [];
        e.mac = new Uint8Array(0);
        e.macKeyVersion = 0;
      }, "no authenticated message"),
  },
  {
    id: "strip-signature",
    title: "replace a signature by a MAC (downgrade Ed25519 to HMAC)",
    attacker: "network",
    explanation: "On a direction signed with Ed25519 (non-repudiation), the network replaces the sender's signature with a MAC-shaped tag addressed to the receiver.",
    defence: "attestations: the technique comes from the descriptor (checks 9 and 14)",
    plan(p) {
      const signed = (h: Hop) => h.edge.security.authenticity === "ed25519";
      const hop = firstHop(p.hops, (h) => injectable(h.edge) && signed(h)) ?? firstHop(p.hops, signed);
      if (hop === undefined) return { na: "no direction is signed with Ed25519" };
      const strip = (h: Hop) =>
        rewrite(h.bytes, (e) => {
          e.attestations = e.attestations.map((x) => (x.role === h.edge.sender && x.target === "" ? { ...x, target: h.edge.receiver, tag: new Uint8Array(32).fill(7) } : x));
        });
      const what = "the sender's signature replaced by a MAC-shaped tag";
      if (injectable(hop.edge)) return injectAt(p, hop, unauthenticated(), what, (h) => ({ bytes: strip(h) }));
      return { target: label(hop, p.hops), expect: unauthenticated(), after: "fresh", interceptor: (a) => at(hop.index, { response: (h) => a.substitute(h, strip(h), what) }) };
    },
  },
  {
    id: "strip-encryption",
    title: "strip the encryption of a payload (downgrade privacy)",
    attacker: "network",
    explanation: "On an encrypted direction, the network replaces the ciphertext with a payload of its choice in the clear (key version 0).",
    defence: "the envelope MAC and attestations (checks 9 and 14); the privacy stage decrypts under the descriptor's cipher whatever the envelope claims",
    plan(p) {
      const secret = (h: Hop) => h.edge.security.privacy !== "none";
      const hop = firstHop(p.hops, (h) => injectable(h.edge) && secret(h)) ?? firstHop(p.hops, secret);
      if (hop === undefined) return { na: "no direction encrypts its payload" };
      const strip = (h: Hop) =>
        rewrite(h.bytes, (e) => {
          e.payload = plausiblePayload(p.rig, h.edge);
          e.payloadKeyVersion = 0;
        });
      const what = "the ciphertext replaced by a chosen plaintext";
      if (injectable(hop.edge)) return injectAt(p, hop, unauthenticated(), what, (h) => ({ bytes: strip(h) }));
      return { target: label(hop, p.hops), expect: unauthenticated(), after: "fresh", interceptor: (a) => at(hop.index, { response: (h) => a.substitute(h, strip(h), what) }) };
    },
  },
  {
    id: "rebind-start",
    title: "bind a role to another principal in the session start",
    attacker: "network",
    explanation:
      "The network rewrites the session start so that a role is played by another principal (the outsider, or for two-role sessions the spare peer that receives it), and recomputes the session id to match.",
    defence: "first-contact key agreement and MACs bound to the session id (checks 9 and 14)",
    plan(p) {
      const hop = firstHop(p.hops, (h) => h.index === 0 && injectable(h.edge) && authenticated(h.edge));
      if (hop === undefined) return { na: "the session starts with no authenticated message" };
      const d = p.rig.spec.descriptor;
      const initiator = d.states[d.initial]!.holder!;
      const third = d.roles.find((r) => !r.dynamic && r.name !== initiator && r.name !== hop.edge.receiver);
      const spare = p.rig.spec.spare;
      const toSpare = third === undefined && spare.role === hop.edge.receiver;
      if (third === undefined && !toSpare) return { na: "two roles, and no spare peer plays the receiver's role" };
      const role = third?.name ?? hop.edge.receiver;
      const principal = toSpare ? spare.principal : "mallory";
      return {
        target: label(hop, p.hops),
        expect: unauthenticated(),
        after: "completes",
        interceptor: (a) =>
          at(0, {
            call: async (h) => {
              const crypto = a.rig.peers[h.to]!.runtime.core.crypto;
              const to = toSpare ? principal : h.to;
              const bytes = rewrite(h.bytes, (e) => {
                const s = e.start!;
                s.bindings = s.bindings.map((b) => (b.role === role ? { ...b, principal } : b));
                e.sessionId = sessionIdOf(crypto, { nonce: s.nonce, code: s.sessionCode, timeMs: s.timeMs, bindings: s.bindings });
              });
              await a.inject(to, h.path, bytes, `role ${role} bound to ${principal} in the start`, cryptoRefusal(h.env, to, undefined));
            },
          }),
      };
    },
  },
  {
    id: "redirect",
    title: "deliver a message to another principal playing the same role",
    attacker: "network",
    explanation: "The network delivers a message to an honest peer that serves the receiving role but is not the principal the session bound to it (for Select: the search server p did not pick).",
    defence: "addressing: the role is bound to this peer (check 8)",
    plan(p) {
      const spare = p.rig.spec.spare;
      const hop = firstHop(p.hops, (h) => protectedCall(h) && h.edge.receiver === spare.role);
      if (hop === undefined) return { na: `no message to role ${spare.role}` };
      return injectAt(p, hop, denied("not-addressed"), `delivered to ${spare.principal} instead of ${hop.to}`, (h) => ({ bytes: h.bytes, to: spare.principal }));
    },
  },
  {
    id: "unknown-session",
    title: "inject a message into a session nobody started",
    attacker: "network",
    explanation: "The network sends a message under a session id of its own, with no session start.",
    defence: "session lookup (check 5)",
    plan(p) {
      const hop = firstHop(p.hops, protectedCall);
      if (hop === undefined) return { na: "no protected message" };
      return injectAt(p, hop, denied("unknown-session"), "a made-up session id, no start", (h) => ({
        bytes: rewrite(h.bytes, (e) => {
          e.sessionId = new Uint8Array(32).fill(0x42);
          e.start = undefined;
        }),
      }));
    },
  },
  {
    id: "rewrite-start-code",
    title: "rewrite the session code of a start (downgrade the protocol)",
    attacker: "network",
    explanation: "The network replaces the session code in the first message with the code of another session type.",
    defence: "session code (check 5), and the session id covers it",
    plan(p) {
      const hop = startHop(p);
      if (hop === undefined) return { na: "the session starts with no message" };
      return injectAt(p, hop, denied("wrong-session-code"), "another session code in the start", (h) => ({
        bytes: rewrite(h.bytes, (e) => void (e.start!.sessionCode = new Uint8Array(32).fill(0x5c))),
      }));
    },
  },
  {
    id: "unknown-edge",
    title: "name an edge the protocol does not have",
    attacker: "network",
    explanation: "The network rewrites a message's edge id to one the session does not have.",
    defence: "edge lookup (check 3)",
    plan: (p) => rewriteField(p, denied("unknown-edge"), "edge 999", () => true, (e) => void (e.edge = 999), "no protected message"),
  },
  {
    id: "misroute",
    title: "send a message on another rpc of its receiver",
    attacker: "network",
    explanation: "The network delivers a genuine envelope on another method of the receiver's service than the one its edge belongs to.",
    defence: "edge belongs to the rpc the call arrived on (check 3)",
    plan(p) {
      const d = p.rig.spec.descriptor;
      const other = (h: Hop) => d.edges.find((e) => injectable(e) && e.receiver === h.edge.receiver && e.rpc !== h.edge.rpc);
      const hop = firstHop(p.hops, (h) => protectedCall(h) && other(h) !== undefined);
      if (hop === undefined) return { na: "every receiver serves a single rpc" };
      return injectAt(p, hop, denied("unknown-edge"), `sent on ${messageName(other(hop)!)}`, (h) => ({ bytes: h.bytes, path: other(h)!.rpc }));
    },
  },
  {
    id: "truncate",
    title: "truncate an envelope",
    attacker: "network",
    explanation: "The network cuts the end off an envelope.",
    defence: "decoding (check 1)",
    plan(p) {
      const hop = firstHop(p.hops, (h) => injectable(h.edge));
      if (hop === undefined) return { na: "no message" };
      return injectAt(p, hop, invalid("malformed"), "the envelope cut short", (h) => {
        let n = h.bytes.length - 7;
        while (n > 1 && tryDecode(h.bytes.slice(0, n)) !== undefined) n--;
        return { bytes: h.bytes.slice(0, n) };
      });
    },
  },
  {
    id: "garbage",
    title: "send garbage bytes",
    attacker: "network",
    explanation: "The network sends bytes that are no envelope at all.",
    defence: "decoding (check 1)",
    plan(p) {
      const hop = firstHop(p.hops, (h) => injectable(h.edge));
      if (hop === undefined) return { na: "no message" };
      return injectAt(p, hop, invalid("malformed"), "300 bytes of garbage", () => ({ bytes: new Uint8Array(300).map((_, k) => (k * 7919 + 13) & 0xff) }));
    },
  },
  {
    id: "oversized-envelope",
    title: "send an envelope over 4 MiB",
    attacker: "network",
    explanation: "The network sends a genuine envelope padded past 4 MiB. gRPC's receive limit (4 MiB, the runtime's own limit too) refuses it before any interceptor runs, with no alert.",
    defence: "message size limit (gRPC transport; check 1 in the runtime)",
    plan(p) {
      const hop = firstHop(p.hops, (h) => injectable(h.edge));
      if (hop === undefined) return { na: "no message" };
      return injectAt(p, hop, { kind: undefined, status: grpcStatus.RESOURCE_EXHAUSTED }, `an envelope of ${MAX_ENVELOPE_BYTES + 1} bytes`, (h) => {
        const pad = MAX_ENVELOPE_BYTES + 1 - h.bytes.length;
        return { bytes: rewrite(h.bytes, (e) => void (e.payload = new Uint8Array(e.payload.length + pad))).slice(0, MAX_ENVELOPE_BYTES + 1) };
      });
    },
  },
  {
    id: "oversized-history",
    title: "send an envelope with an oversized history",
    attacker: "network",
    explanation: `The network sends an envelope whose history claims ${MAX_SEGMENT + 1} unseen messages (small enough for gRPC).`,
    defence: "history bound (decoding limits, check 1; the session's shape, check 7)",
    plan(p) {
      const hop = firstHop(p.hops, (h) => injectable(h.edge));
      if (hop === undefined) return { na: "no message" };
      const item = toBinary(HistoryEntrySchema, create(HistoryEntrySchema));
      return injectAt(p, hop, invalid("malformed"), `${MAX_SEGMENT + 1} history items`, (h) => {
        const head = rewrite(h.bytes, (e) => void (e.history = []));
        const entry = new Uint8Array([(HISTORY_FIELD << 3) | 2, item.length, ...item]);
        const out = new Uint8Array(head.length + entry.length * (MAX_SEGMENT + 1));
        out.set(head);
        for (let i = 0; i <= MAX_SEGMENT; i++) out.set(entry, head.length + i * entry.length);
        return { bytes: out };
      });
    },
  },
];
